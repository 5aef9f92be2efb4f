"""Ingress through the controller against each cloud's fake: one L7 load balancer per
Ingress, routed by host and path, TLS from a Secret, rotation in place, cleanup."""

from __future__ import annotations

from typing import Any

from kubernetes import client as k8s

from cloud_lb.testing.certs import self_signed, tls_secret
from cloud_lb.translate.ingress_class import DEFAULT_CONTROLLER_NAME
from tests.controller.conftest import wait_until
from tests.e2e.test_cloud_providers import env  # noqa: F401 - the per-cloud fixture


def _ingress_point(net: k8s.NetworkingV1Api, name: str) -> Any:
    ing = net.read_namespaced_ingress(name, "default")
    points = ing.status.load_balancer.ingress if ing.status and ing.status.load_balancer else None
    return points[0] if points else None


def _backend(service: str) -> dict[str, Any]:
    return {"service": {"name": service, "port": {"number": 80}}}


def test_ingress_lifecycle_against_each_cloud(env: dict[str, Any]) -> None:  # noqa: F811
    core, provider, controller = env["core"], env["provider"], env["controller"]
    net = k8s.NetworkingV1Api(core.api_client)
    net.create_ingress_class({"apiVersion": "networking.k8s.io/v1", "kind": "IngressClass",
                              "metadata": {"name": "cloud-lb"},
                              "spec": {"controller": DEFAULT_CONTROLLER_NAME}})
    for name in ("coffee", "tea"):
        core.create_namespaced_service("default", {
            "apiVersion": "v1", "kind": "Service", "metadata": {"name": name},
            "spec": {"type": "NodePort", "selector": {"app": name},
                     "ports": [{"port": 80, "targetPort": 8080}]}})
    cert, key = self_signed(["cafe.example"])
    core.create_namespaced_secret("default", tls_secret("cafe-tls", cert, key))
    path = lambda p, svc: {"path": p, "pathType": "Prefix", "backend": _backend(svc)}  # noqa: E731
    net.create_namespaced_ingress("default", {
        "apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "metadata": {"name": "cafe"},
        "spec": {"ingressClassName": "cloud-lb",
                 "tls": [{"hosts": ["cafe.example"], "secretName": "cafe-tls"}],
                 "rules": [
                     {"host": "cafe.example", "http": {"paths": [path("/coffee", "coffee"),
                                                                 path("/tea", "tea")]}},
                     {"host": "tea.example", "http": {"paths": [path("/", "tea"),
                                                                path("/green", "tea")]}}]}})
    point = wait_until(lambda: _ingress_point(net, "cafe"), 90, message="an Ingress address")
    assert point.ip or point.hostname
    refs = [r for r in provider.list_owned() if str(r.kind) == "Ingress"]
    assert [r.name for r in refs] == ["cafe"]
    controller.wait_idle(30)

    # a rotated certificate keeps the same load balancer and address
    cert2, key2 = self_signed(["cafe.example"])
    core.replace_namespaced_secret("cafe-tls", "default", tls_secret("cafe-tls", cert2, key2))
    wait_until(lambda: controller.wait_idle(1), 60, message="rotation applied")
    assert _ingress_point(net, "cafe") == point
    assert [r.name for r in provider.list_owned() if str(r.kind) == "Ingress"] == ["cafe"]

    net.delete_namespaced_ingress("cafe", "default")
    wait_until(lambda: not net.list_namespaced_ingress("default").items, 90,
               message="the Ingress gone")
    assert [r for r in provider.list_owned() if str(r.kind) == "Ingress"] == []
