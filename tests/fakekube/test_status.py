"""The `status` subresource: writes to /status change only status, writes to the main
resource ignore status; metadata.generation moves with spec only."""

from __future__ import annotations

from kubernetes import client as k8s

from tests.fakekube.conftest import service_body

LB = {"loadBalancer": {"ingress": [{"ip": "192.0.2.7", "ipMode": "VIP"}]}}


def test_status_writes_change_only_status(core: k8s.CoreV1Api, ns: str) -> None:
    created = core.create_namespaced_service(ns, service_body("web", type_="LoadBalancer"))
    body = core.api_client.sanitize_for_serialization(created)
    body["spec"]["ports"][0]["port"] = 9999
    body["metadata"]["labels"] = {"sneaky": "yes"}
    body["status"] = LB
    after = core.replace_namespaced_service_status("web", ns, body)
    assert after.spec.ports[0].port == 80
    assert after.metadata.labels is None
    assert after.status.load_balancer.ingress[0].ip == "192.0.2.7"
    assert after.metadata.generation == created.metadata.generation


def test_main_resource_writes_ignore_status(core: k8s.CoreV1Api, ns: str) -> None:
    core.create_namespaced_service(ns, service_body("web", type_="LoadBalancer",
                                                    ports=[{"port": 80}]))
    core.patch_namespaced_service_status("web", ns, {"status": LB})
    patched = core.patch_namespaced_service("web", ns, {
        "spec": {"ports": [{"port": 80, "targetPort": 8080}]},
        "status": {"loadBalancer": {"ingress": [{"ip": "198.51.100.1"}]}}})
    assert patched.status.load_balancer.ingress[0].ip == "192.0.2.7"
    assert patched.spec.ports[0].target_port == 8080
    assert patched.metadata.generation == 2


def test_status_is_cleared_on_create(core: k8s.CoreV1Api, ns: str) -> None:
    body = service_body("web", type_="LoadBalancer")
    body["status"] = LB
    created = core.create_namespaced_service(ns, body)
    assert not created.status.load_balancer.ingress


def test_nodes_keep_status_on_create(core: k8s.CoreV1Api) -> None:
    node = core.create_node({"metadata": {"name": "n1"}, "status": {
        "addresses": [{"type": "InternalIP", "address": "10.0.0.1"}],
        "conditions": [{"type": "Ready", "status": "True"}]}})
    assert node.status.addresses[0].address == "10.0.0.1"


def test_generation_moves_with_spec_only(core: k8s.CoreV1Api, ns: str) -> None:
    core.create_namespaced_service(ns, service_body("web"))
    labelled = core.patch_namespaced_service("web", ns, {"metadata": {"labels": {"a": "b"}}})
    assert labelled.metadata.generation == 1
    changed = core.patch_namespaced_service("web", ns, {"spec": {"sessionAffinity": "ClientIP"}})
    assert changed.metadata.generation == 2
    status = core.patch_namespaced_service_status("web", ns, {"status": {"loadBalancer": {}}})
    assert status.metadata.generation == 2


def test_type_change_away_from_load_balancer_clears_its_status(core: k8s.CoreV1Api,
                                                              ns: str) -> None:
    core.create_namespaced_service(ns, service_body("web", type_="LoadBalancer"))
    core.patch_namespaced_service_status("web", ns, {"status": LB})
    after = core.patch_namespaced_service("web", ns, {"spec": {"type": "ClusterIP"}})
    assert not after.status.load_balancer.ingress
