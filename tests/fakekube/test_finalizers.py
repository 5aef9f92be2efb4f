"""Finalizers: deletion waits for them, with deletionTimestamp and the events a
controller relies on (MODIFIED when deletion starts, DELETED when the last one goes)."""

from __future__ import annotations

from kubernetes import client as k8s
from kubernetes import watch

from tests.fakekube.conftest import expect_api_error, service_body

FINALIZER = "service.kubernetes.io/load-balancer-cleanup"


def _events(core: k8s.CoreV1Api, ns: str, since: str, until_deleted: str) -> list[tuple[str, dict]]:
    seen = []
    w = watch.Watch()
    for event in w.stream(core.list_namespaced_service, ns, resource_version=since,
                          timeout_seconds=5):
        seen.append((event["type"], event["raw_object"]))
        if event["type"] == "DELETED" and event["raw_object"]["metadata"]["name"] == until_deleted:
            w.stop()
    return seen


def test_finalizer_flow(core: k8s.CoreV1Api, ns: str) -> None:
    body = service_body("web", type_="LoadBalancer")
    created = core.create_namespaced_service(ns, body)
    start = created.metadata.resource_version
    core.patch_namespaced_service("web", ns, {"metadata": {"finalizers": [FINALIZER]}})

    deleting = core.delete_namespaced_service("web", ns)
    assert deleting.metadata.deletion_timestamp is not None
    assert deleting.metadata.finalizers == [FINALIZER]
    still_there = core.read_namespaced_service("web", ns)
    assert still_there.metadata.deletion_timestamp is not None
    assert still_there.metadata.generation == created.metadata.generation + 1

    # deleting again changes nothing; adding a finalizer now is refused
    again = core.delete_namespaced_service("web", ns)
    assert again.metadata.resource_version == still_there.metadata.resource_version
    status = expect_api_error(422, lambda: core.patch_namespaced_service(
        "web", ns, {"metadata": {"finalizers": [FINALIZER, "example.com/other"]}}))
    assert status["details"]["causes"][0]["field"] == "metadata.finalizers"
    assert "no new finalizers can be added if the object is being deleted" in status["message"]

    # the status can still be written while the finalizer holds the object
    core.patch_namespaced_service_status("web", ns, {"status": {"loadBalancer": {}}})

    core.patch_namespaced_service("web", ns, {"metadata": {"$deleteFromPrimitiveList/finalizers":
                                                           [FINALIZER]}})
    expect_api_error(404, lambda: core.read_namespaced_service("web", ns))

    types = [(t, o["metadata"].get("deletionTimestamp") is not None)
             for t, o in _events(core, ns, start, "web")]
    assert types == [("MODIFIED", False), ("MODIFIED", True), ("DELETED", True)]


def test_node_ports_are_released_only_when_the_object_is_gone(core: k8s.CoreV1Api,
                                                              ns: str) -> None:
    svc = core.create_namespaced_service(ns, {
        "metadata": {"name": "a", "finalizers": [FINALIZER]},
        "spec": {"type": "NodePort", "ports": [{"port": 80}]}})
    port = svc.spec.ports[0].node_port
    core.delete_namespaced_service("a", ns)
    taken = service_body("b", type_="NodePort", ports=[{"port": 80, "nodePort": port}])
    expect_api_error(422, lambda: core.create_namespaced_service(ns, taken))
    core.patch_namespaced_service("a", ns, {"metadata": {"finalizers": None}})
    assert core.create_namespaced_service(ns, taken).spec.ports[0].node_port == port


def test_deleting_a_namespace_deletes_its_content_and_waits_for_finalizers(
        core: k8s.CoreV1Api, ns: str) -> None:
    core.create_namespaced_config_map(ns, {"metadata": {"name": "plain"}})
    core.create_namespaced_service(ns, {"metadata": {"name": "held", "finalizers": [FINALIZER]},
                                        "spec": {"ports": [{"port": 80}]}})
    core.delete_namespace(ns)
    terminating = core.read_namespace(ns)
    assert terminating.status.phase == "Terminating"
    expect_api_error(404, lambda: core.read_namespaced_config_map("plain", ns))
    status = expect_api_error(403, lambda: core.create_namespaced_config_map(
        ns, {"metadata": {"name": "late"}}))
    assert "because it is being terminated" in status["message"]
    # (a strategic-merge patch with `finalizers: []` would merge, i.e. change nothing)
    core.patch_namespaced_service("held", ns, {"metadata": {"finalizers": None}})
    expect_api_error(404, lambda: core.read_namespace(ns))


def test_objects_need_their_namespace(core: k8s.CoreV1Api) -> None:
    status = expect_api_error(404, lambda: core.create_namespaced_config_map(
        "nowhere", {"metadata": {"name": "c"}}))
    assert status["message"] == 'namespaces "nowhere" not found'
    names = {n.metadata.name for n in core.list_namespace().items}
    assert {"default", "kube-system"} <= names
