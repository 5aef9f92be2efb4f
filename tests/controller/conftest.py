"""A fake cluster (API server + node simulator), the controller and the `local`
provider in one process: real sockets end to end, the official client for every
Kubernetes call the tests make."""

from __future__ import annotations

import os
import random
import socket
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from kubernetes import client as k8s
from kubernetes.client.exceptions import ApiException

from cloud_lb.commands.wiring import build_api, build_controller, build_provider
from cloud_lb.config import parse_config
from cloud_lb.controller.manager import Controller
from cloud_lb.provider import CallRecorder, LoadBalancerProvider
from cloud_lb.testing.fakecluster import FakeCluster, running_fake_cluster

NS = "default"


def wait_until(predicate: Callable[[], Any], timeout: float = 15.0, interval: float = 0.05,
               message: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {message}")


def http_get(address: str, port: int, *, source: str | None = None, timeout: float = 2.0) -> str:
    """The body of one HTTP GET on a fresh connection, or 'refused'."""
    try:
        with socket.create_connection((address, port), timeout=timeout,
                                      source_address=(source, 0) if source else None) as sock:
            sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            data = b""
            while chunk := sock.recv(4096):
                data += chunk
    except OSError:
        return "refused"
    if not data:
        return "refused"
    return data.split(b"\r\n\r\n", 1)[-1].decode(errors="replace").strip()


def udp_ask(address: str, port: int, payload: bytes = b"ping", timeout: float = 1.0) -> str:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(timeout)
        sock.sendto(payload, (address, port))
        try:
            return sock.recvfrom(65535)[0].decode(errors="replace").strip()
        except OSError:
            return "no answer"


def node_of(answer: str) -> str | None:
    for part in answer.split():
        if part.startswith("node="):
            return part[len("node="):]
    return None


@dataclass
class Harness:
    cluster: FakeCluster
    core: k8s.CoreV1Api
    config: Any
    raw_config: dict[str, Any]
    state_dir: str
    recorder: CallRecorder
    provider: LoadBalancerProvider | None = None
    controller: Controller | None = None

    def start(self, *, hook: Callable[[LoadBalancerProvider], None] | None = None) -> Controller:
        self.recorder = CallRecorder()
        self.provider = build_provider(self.config, self.recorder)
        if hook:
            hook(self.provider)
        self.controller = build_controller(self.config, api=build_api(self.cluster.kubeconfig),
                                           provider=self.provider)
        self.controller.start()
        return self.controller

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None
        if self.provider is not None:
            self.provider.close()
            self.provider = None

    def settle(self, timeout: float = 15.0) -> None:
        assert self.controller is not None
        time.sleep(0.1)  # let informer events reach the queue
        assert self.controller.wait_idle(timeout), "controller did not settle"

    # -- Services ------------------------------------------------------------------
    def create_service(self, name: str, ports: list[dict[str, Any]] | None = None,
                       annotations: dict[str, str] | None = None, **spec: Any) -> Any:
        body = {
            "apiVersion": "v1", "kind": "Service",
            "metadata": {"name": name, "annotations": annotations or {}},
            "spec": {"type": "LoadBalancer", "selector": {"app": name},
                     "ports": ports or [{"name": "http", "port": 8000, "targetPort": 8001}],
                     **spec},
        }
        return self.core.create_namespaced_service(NS, body)

    def service(self, name: str) -> Any | None:
        try:
            return self.core.read_namespaced_service(name, NS)
        except ApiException as exc:
            if exc.status == 404:
                return None
            raise

    def patch(self, name: str, body: dict[str, Any], *, replace_lists: bool = False) -> Any:
        """Strategic merge by default; `replace_lists` sends a JSON merge patch, which
        replaces lists such as spec.ports instead of merging them by key."""
        kwargs = {"_content_type": "application/merge-patch+json"} if replace_lists else {}
        return self.core.patch_namespaced_service(name, NS, body, **kwargs)

    def address(self, name: str, timeout: float = 15.0) -> str:
        def published() -> str | None:
            svc = self.service(name)
            ingress = svc.status.load_balancer.ingress if svc and svc.status.load_balancer else None
            return ingress[0].ip if ingress else None
        return wait_until(published, timeout, message=f"an address for {name}")

    def events(self, name: str) -> list[Any]:
        items = self.core.list_namespaced_event(NS).items
        return [e for e in items if e.involved_object.name == name]

    def reasons(self, name: str) -> list[str]:
        return [e.reason for e in self.events(name)]

    def answering_nodes(self, address: str, port: int = 8000, tries: int = 12) -> set[str]:
        return {node_of(http_get(address, port)) or "refused" for _ in range(tries)}


def _private_pool() -> str:
    # a /24 of the local provider's range per test, so parallel workers rarely meet
    # (and the provider skips addresses already bound when they do)
    rng = random.Random(f"{os.getpid()}-{time.monotonic_ns()}")
    return f"127.240.{rng.randrange(256)}.0/24"


@pytest.fixture
def cluster() -> Iterator[FakeCluster]:
    with running_fake_cluster(nodes=3) as c:
        yield c


@pytest.fixture
def harness(cluster: FakeCluster, tmp_path: Any) -> Iterator[Harness]:
    raw = {
        "clusterName": "test",
        "provider": "local",
        "local": {"stateDir": str(tmp_path / "state"), "addressPool": _private_pool()},
        "controller": {"workers": 4, "nodeSyncDebounce": "0.1s",
                       "healthCheck": {"interval": 1, "timeout": 1, "healthyThreshold": 1,
                                       "unhealthyThreshold": 1}},
        "rateLimit": {"backoffBase": "0.2s", "backoffMax": "2s"},
    }
    h = Harness(cluster=cluster, core=k8s.CoreV1Api(cluster.kube.api_client()),
                config=parse_config(raw), raw_config=raw,
                state_dir=str(tmp_path / "state"), recorder=CallRecorder())
    h.start()
    try:
        yield h
    finally:
        h.stop()
