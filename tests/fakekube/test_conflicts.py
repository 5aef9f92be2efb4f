"""Optimistic concurrency: resourceVersion preconditions, 409 AlreadyExists / Conflict."""

from __future__ import annotations

import threading
from typing import Any

from kubernetes import client as k8s
from kubernetes.client.rest import ApiException

from tests.fakekube.conftest import expect_api_error, service_body


def test_two_writers_racing_on_one_object_exactly_one_wins(core: k8s.CoreV1Api, ns: str) -> None:
    core.create_namespaced_config_map(ns, {"metadata": {"name": "shared"}, "data": {"n": "0"}})
    for round_ in range(20):
        base = core.read_namespaced_config_map("shared", ns)
        barrier = threading.Barrier(2)
        outcomes: list[Any] = [None, None]

        def write(i: int) -> None:
            body = k8s.ApiClient().sanitize_for_serialization(base)
            body["data"] = {"n": f"{round_}-{i}"}
            barrier.wait()
            try:
                outcomes[i] = core.replace_namespaced_config_map("shared", ns, body)
            except ApiException as exc:
                outcomes[i] = exc

        threads = [threading.Thread(target=write, args=(i,)) for i in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        winners = [o for o in outcomes if not isinstance(o, ApiException)]
        losers = [o for o in outcomes if isinstance(o, ApiException)]
        assert len(winners) == 1 and len(losers) == 1
        assert losers[0].status == 409 and "the object has been modified" in losers[0].body
        assert core.read_namespaced_config_map("shared", ns).data == winners[0].data


def test_create_of_an_existing_name_is_409_already_exists(core: k8s.CoreV1Api, ns: str) -> None:
    core.create_namespaced_service(ns, service_body("web"))
    status = expect_api_error(409, lambda: core.create_namespaced_service(ns, service_body("web")))
    assert status["reason"] == "AlreadyExists"
    assert status["message"] == 'services "web" already exists'
    assert status["details"] == {"name": "web", "kind": "services"}


def test_patch_carrying_a_stale_resource_version_conflicts(core: k8s.CoreV1Api, ns: str) -> None:
    first = core.create_namespaced_config_map(ns, {"metadata": {"name": "c"}})
    core.patch_namespaced_config_map("c", ns, {"data": {"a": "1"}})
    stale = {"metadata": {"resourceVersion": first.metadata.resource_version},
             "data": {"a": "2"}}
    status = expect_api_error(409, lambda: core.patch_namespaced_config_map("c", ns, stale))
    assert status["reason"] == "Conflict"
    assert status["message"].startswith('Operation cannot be fulfilled on configmaps "c"')
    # without a resourceVersion the patch is unconditional
    current = core.patch_namespaced_config_map("c", ns, {"data": {"a": "3"}})
    assert current.data == {"a": "3"}


def test_update_without_resource_version_is_unconditional(core: k8s.CoreV1Api, ns: str) -> None:
    core.create_namespaced_config_map(ns, {"metadata": {"name": "c"}, "data": {"a": "1"}})
    core.patch_namespaced_config_map("c", ns, {"data": {"a": "2"}})
    replaced = core.replace_namespaced_config_map("c", ns, {"metadata": {"name": "c"},
                                                            "data": {"a": "3"}})
    assert replaced.data == {"a": "3"}


def test_delete_preconditions(core: k8s.CoreV1Api, ns: str) -> None:
    cm = core.create_namespaced_config_map(ns, {"metadata": {"name": "c"}})
    status = expect_api_error(409, lambda: core.delete_namespaced_config_map(
        "c", ns, body={"preconditions": {"uid": "not-the-uid"}}))
    assert "Precondition failed: UID in precondition: not-the-uid" in status["message"]
    expect_api_error(409, lambda: core.delete_namespaced_config_map(
        "c", ns, body={"preconditions": {"resourceVersion": "1"}}))
    core.delete_namespaced_config_map("c", ns, body={"preconditions": {
        "uid": cm.metadata.uid, "resourceVersion": cm.metadata.resource_version}})
    expect_api_error(404, lambda: core.read_namespaced_config_map("c", ns))


def test_resource_versions_come_from_one_global_counter(core: k8s.CoreV1Api, ns: str) -> None:
    seen = []
    for i in range(5):
        seen.append(int(core.create_namespaced_config_map(
            ns, {"metadata": {"name": f"c{i}"}}).metadata.resource_version))
        seen.append(int(core.create_namespaced_secret(
            ns, {"metadata": {"name": f"s{i}"}}).metadata.resource_version))
    assert seen == sorted(seen) and len(set(seen)) == len(seen)


def test_a_no_op_update_keeps_the_resource_version(core: k8s.CoreV1Api, ns: str) -> None:
    cm = core.create_namespaced_config_map(ns, {"metadata": {"name": "c"}, "data": {"a": "1"}})
    again = core.patch_namespaced_config_map("c", ns, {"data": {"a": "1"}})
    assert again.metadata.resource_version == cm.metadata.resource_version
