"""A fresh fake cluster per test, and small real-socket clients for what nodes answer."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from typing import Any

import pytest
from kubernetes import client as k8s

from cloud_lb.testing.fakecluster import FakeCluster, running_fake_cluster

TIMEOUT = 5.0


@pytest.fixture
def cluster() -> Iterator[FakeCluster]:
    with running_fake_cluster(nodes=3) as c:
        yield c


@pytest.fixture
def core(cluster: FakeCluster) -> Iterator[k8s.CoreV1Api]:
    api_client = cluster.kube.api_client()
    yield k8s.CoreV1Api(api_client)
    api_client.close()


def create_service(
    core: k8s.CoreV1Api,
    name: str,
    ports: list[tuple[int, str]],
    *,
    namespace: str = "default",
    service_type: str = "LoadBalancer",
    traffic_policy: str = "Cluster",
) -> dict[str, Any]:
    """Create a Service through the official client and return it as the API stored it."""
    spec: dict[str, Any] = {
        "type": service_type,
        "selector": {"app": name},
        "ports": [
            {"name": f"p{port}-{proto.lower()}", "port": port, "protocol": proto}
            for port, proto in ports
        ],
    }
    if service_type != "ClusterIP":
        spec["externalTrafficPolicy"] = traffic_policy
    body = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": name}, "spec": spec}
    created = core.create_namespaced_service(namespace, body)
    return core.api_client.sanitize_for_serialization(created)


def node_port(svc: dict[str, Any], port: int, protocol: str = "TCP") -> int:
    for p in svc["spec"]["ports"]:
        if p["port"] == port and p["protocol"] == protocol:
            return int(p["nodePort"])
    raise AssertionError(f"no node port for {port}/{protocol} in {svc['spec']['ports']}")


def http_get(ip: str, port: int, path: str = "/") -> tuple[int, str]:
    with socket.create_connection((ip, port), timeout=TIMEOUT) as sock:
        sock.sendall(f"GET {path} HTTP/1.1\r\nHost: {ip}\r\nConnection: close\r\n\r\n".encode())
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head.split()[1]), body.decode()


def health(ip: str, port: int) -> tuple[int, dict[str, Any]]:
    status, body = http_get(ip, port, "/healthz")
    return status, json.loads(body)


def tcp_line(ip: str, port: int, line: str) -> str:
    with socket.create_connection((ip, port), timeout=TIMEOUT) as sock:
        sock.sendall(line.encode() + b"\n")
        return sock.makefile("rb").readline().decode()


def udp_exchange(ip: str, port: int, payload: bytes) -> str:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(TIMEOUT)
        sock.sendto(payload, (ip, port))
        data, _ = sock.recvfrom(65536)
        return data.decode()


def refused(ip: str, port: int) -> bool:
    try:
        socket.create_connection((ip, port), timeout=TIMEOUT).close()
    except ConnectionRefusedError:
        return True
    return False
