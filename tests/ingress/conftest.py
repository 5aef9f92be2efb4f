"""The controller harness (fake cluster, controller, local provider) with Ingress
support: an IngressClass of ours, NodePort backends, TLS Secrets and real HTTP(S)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from kubernetes import client as k8s
from kubernetes.client.exceptions import ApiException

from cloud_lb.config import parse_config
from cloud_lb.provider import CallRecorder
from cloud_lb.testing.certs import self_signed, tls_secret
from cloud_lb.testing.fakecluster import FakeCluster
from cloud_lb.testing.http_probe import Reply, request
from cloud_lb.translate.ingress_class import DEFAULT_CONTROLLER_NAME, DEFAULT_FINALIZER
from tests.controller.conftest import NS, Harness, _private_pool, wait_until

HTTP_PORT = 18080
HTTPS_PORT = 18443
CLASS = "cloud-lb"
FINALIZER = DEFAULT_FINALIZER

__all__ = ["CLASS", "FINALIZER", "HTTPS_PORT", "HTTP_PORT", "IngressHarness", "wait_until"]


class IngressHarness(Harness):
    @property
    def net(self) -> k8s.NetworkingV1Api:
        return k8s.NetworkingV1Api(self.core.api_client)

    def create_class(self, name: str = CLASS, controller: str = DEFAULT_CONTROLLER_NAME,
                     default: bool = False) -> None:
        annotations = {"ingressclass.kubernetes.io/is-default-class": "true"} if default else {}
        self.net.create_ingress_class({"apiVersion": "networking.k8s.io/v1",
                                       "kind": "IngressClass",
                                       "metadata": {"name": name, "annotations": annotations},
                                       "spec": {"controller": controller}})

    def backend_service(self, name: str, *, port: int = 80, type_: str = "NodePort",
                        **spec: Any) -> Any:
        return self.core.create_namespaced_service(NS, {
            "apiVersion": "v1", "kind": "Service", "metadata": {"name": name},
            "spec": {"type": type_, "selector": {"app": name},
                     "ports": [{"name": "http", "port": port, "targetPort": 8080}], **spec}})

    def secret(self, name: str, hosts: list[str]) -> str:
        """Create or replace a TLS Secret with a fresh certificate; its PEM (the CA)."""
        cert, key = self_signed(hosts)
        body = tls_secret(name, cert, key)
        try:
            self.core.create_namespaced_secret(NS, body)
        except ApiException as exc:
            if exc.status != 409:
                raise
            self.core.replace_namespaced_secret(name, NS, body)
        return cert

    def create_ingress(self, name: str, rules: list[dict[str, Any]], *,
                       class_name: str | None = CLASS, tls: list[dict[str, Any]] | None = None,
                       default_backend: str | None = None,
                       annotations: dict[str, str] | None = None) -> Any:
        spec: dict[str, Any] = {"rules": rules}
        if class_name:
            spec["ingressClassName"] = class_name
        if tls:
            spec["tls"] = tls
        if default_backend:
            spec["defaultBackend"] = backend(default_backend)
        return self.net.create_namespaced_ingress(NS, {
            "apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
            "metadata": {"name": name, "annotations": annotations or {}}, "spec": spec})

    def ingress(self, name: str) -> Any | None:
        try:
            return self.net.read_namespaced_ingress(name, NS)
        except ApiException as exc:
            if exc.status == 404:
                return None
            raise

    def patch_ingress(self, name: str, body: dict[str, Any]) -> Any:
        return self.net.patch_namespaced_ingress(
            name, NS, body, _content_type="application/merge-patch+json")

    def ingress_address(self, name: str, timeout: float = 20.0) -> str:
        def published() -> str | None:
            ing = self.ingress(name)
            lb = ing.status.load_balancer if ing and ing.status else None
            return lb.ingress[0].ip if lb and lb.ingress else None
        return wait_until(published, timeout, message=f"an address for Ingress {name}")

    def get(self, address: str, host: str, path: str = "/", **kw: Any) -> Reply:
        return request(address, HTTP_PORT, host=host, path=path, **kw)

    def get_tls(self, address: str, host: str, ca_pem: str, path: str = "/") -> Reply:
        return request(address, HTTPS_PORT, host=host, path=path, ca_pem=ca_pem)

    def routed(self, address: str, host: str, path: str, port: int = HTTP_PORT) -> str | None:
        """The Service that answered, '404', or None when the request failed."""
        try:
            reply = request(address, port, host=host, path=path)
        except OSError:
            return None
        return reply.service if reply.status == 200 else str(reply.status)


def backend(service: str, port: int = 80) -> dict[str, Any]:
    return {"service": {"name": service, "port": {"number": port}}}


def rule(host: str | None, *paths: tuple[str, str, str]) -> dict[str, Any]:
    """One rule: `paths` of (path, pathType, service)."""
    out: dict[str, Any] = {"http": {"paths": [
        {"path": p, "pathType": t, "backend": backend(s)} for p, t, s in paths]}}
    if host:
        out["host"] = host
    return out


@pytest.fixture
def ingress_harness(cluster: FakeCluster, tmp_path: Any) -> Iterator[IngressHarness]:
    raw = {
        "clusterName": "test",
        "provider": "local",
        "local": {"stateDir": str(tmp_path / "state"), "addressPool": _private_pool(),
                  "healthCheck": {"intervalSeconds": 0.5}},
        "controller": {"workers": 4, "nodeSyncDebounce": "0.1s",
                       "ingress": {"httpPort": HTTP_PORT, "httpsPort": HTTPS_PORT},
                       "healthCheck": {"interval": 1, "timeout": 1, "healthyThreshold": 1,
                                       "unhealthyThreshold": 1}},
        "rateLimit": {"backoffBase": "0.2s", "backoffMax": "2s"},
    }
    h = IngressHarness(cluster=cluster, core=k8s.CoreV1Api(cluster.kube.api_client()),
                       config=parse_config(raw), raw_config=raw,
                       state_dir=str(tmp_path / "state"), recorder=CallRecorder())
    h.start()
    try:
        yield h
    finally:
        h.stop()
