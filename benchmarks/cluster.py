"""Populating the fake API server as users and kubelets would, through the official
client: Nodes, LoadBalancer and ClusterIP Services, patches and deletions.

Requests go out in parallel from a small thread pool (a user's `kubectl apply -f` of a
thousand objects is not one at a time either), with `_preload_content=False` so the
client does not build model objects nobody reads.

Objects carry realistic bulk, because memory is measured on them: a Node reports 50
images (the kubelet's default `--node-status-max-images`) and a dozen labels; a
Service applied with kubectl carries its last-applied annotation and chart labels.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from cloud_lb.testing.fakecluster.nodes import node_manifest

NAMESPACE = "default"


@dataclass(frozen=True)
class NodeInfo:
    name: str
    ip: str
    provider_id: str | None = None


def node_ip(index: int, *, loopback: bool = False) -> str:
    """Distinct addresses for up to 62,500 nodes: 10.250.0.0/16, or 127.250.0.0/16 when
    something really connects to them (the local provider's health checks, which then
    fail fast with "connection refused" instead of waiting on an unroutable address)."""
    return f"{127 if loopback else 10}.250.{index // 250}.{index % 250 + 1}"


def _images(name: str, count: int = 50) -> list[dict[str, Any]]:
    out = []
    for i in range(count):
        digest = hashlib.sha256(f"{name}-{i}".encode()).hexdigest()
        repo = f"registry.example.com/team-{i % 7}/app-{i}"
        out.append({"names": [f"{repo}@sha256:{digest}", f"{repo}:v1.{i}.0"],
                    "sizeBytes": 10_000_000 + i * 1_234_567})
    return out


def node_body(node: NodeInfo) -> dict[str, Any]:
    body = node_manifest(node.name, node.ip, provider_id=node.provider_id, labels={
        "node.kubernetes.io/instance-type": "b3-8", "topology.kubernetes.io/region": "GRA11",
        "topology.kubernetes.io/zone": "gra11-a", "node-role.kubernetes.io/worker": "",
        "nodepool": "default", "beta.kubernetes.io/arch": "amd64", "beta.kubernetes.io/os":
        "linux", "failure-domain.beta.kubernetes.io/region": "GRA11"})
    body["metadata"]["annotations"] = {
        "node.alpha.kubernetes.io/ttl": "0",
        "volumes.kubernetes.io/controller-managed-attach-detach": "true",
        "csi.volume.kubernetes.io/nodeid": json.dumps({"cinder.csi.openstack.org": node.name})}
    body["status"]["images"] = _images(node.name)
    return body


def service_body(name: str, *, load_balancer: bool = True) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "type": "LoadBalancer" if load_balancer else "ClusterIP",
        "selector": {"app.kubernetes.io/name": name},
        "ports": [{"name": "http", "port": 80, "targetPort": 8080, "protocol": "TCP"}],
    }
    labels = {"app.kubernetes.io/name": name, "app.kubernetes.io/instance": name,
              "app.kubernetes.io/managed-by": "Helm", "helm.sh/chart": "app-1.2.3",
              "app.kubernetes.io/version": "1.2.3"}
    applied = {"apiVersion": "v1", "kind": "Service",
               "metadata": {"name": name, "namespace": NAMESPACE, "labels": labels},
               "spec": spec}
    return {"apiVersion": "v1", "kind": "Service",
            "metadata": {"name": name, "labels": labels, "annotations": {
                "kubectl.kubernetes.io/last-applied-configuration": json.dumps(applied),
                "meta.helm.sh/release-name": name, "meta.helm.sh/release-namespace": NAMESPACE}},
            "spec": spec}


class KubeDriver:
    """What users and kubelets do to the cluster during a benchmark."""

    def __init__(self, api_client: Any, *, threads: int = 8) -> None:
        from kubernetes import client

        self.core = client.CoreV1Api(api_client)
        self._pool = ThreadPoolExecutor(threads, thread_name_prefix="bench-driver")

    def close(self) -> None:
        self._pool.shutdown(wait=True)

    def _each(self, fn: Callable[[Any], Any], items: Iterable[Any]) -> float:
        """Run `fn` over `items` in parallel; the monotonic time of the first request."""
        started = time.monotonic()
        for future in [self._pool.submit(fn, item) for item in items]:
            future.result()
        return started

    @staticmethod
    def _raw(call: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
        response = call(*args, _preload_content=False, **kwargs)
        response.data  # noqa: B018 - read the body so the connection is reusable
        response.release_conn()

    def create_nodes(self, nodes: Iterable[NodeInfo]) -> float:
        return self._each(lambda n: self._raw(self.core.create_node, node_body(n)), nodes)

    def delete_nodes(self, names: Iterable[str]) -> float:
        return self._each(lambda name: self._raw(self.core.delete_node, name), names)

    def create_services(self, names: Iterable[str], *, load_balancer: bool = True) -> float:
        return self._each(lambda name: self._raw(
            self.core.create_namespaced_service, NAMESPACE,
            service_body(name, load_balancer=load_balancer)), names)

    def set_source_ranges(self, names: Iterable[str], ranges: list[str]) -> float:
        body = {"spec": {"loadBalancerSourceRanges": ranges}}
        return self._each(lambda name: self._raw(
            self.core.patch_namespaced_service, name, NAMESPACE, body), names)

    def delete_services(self, names: Iterable[str]) -> float:
        return self._each(lambda name: self._raw(
            self.core.delete_namespaced_service, name, NAMESPACE), names)
