"""Lists: label and field selectors, limit/continue pagination, resourceVersion semantics."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from kubernetes import client as k8s

from cloud_lb.testing.fakekube import FakeKubeServer, running_fake_kube
from tests.fakekube.conftest import expect_api_error


def _names(result: Any) -> list[str]:
    return sorted(i.metadata.name for i in result.items)


def test_pagination_over_1000_objects(kube: FakeKubeServer, ns: str) -> None:
    api_client = kube.api_client(pool_size=16)
    core = k8s.CoreV1Api(api_client)

    def create(i: int) -> None:
        core.create_namespaced_config_map(ns, {"metadata": {"name": f"cm-{i:04d}"}})

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(create, range(1000)))

    seen: list[str] = []
    token = None
    pages = 0
    first_rv = None
    while True:
        page = core.list_namespaced_config_map(ns, limit=128, _continue=token)
        pages += 1
        seen += [i.metadata.name for i in page.items]
        first_rv = first_rv or page.metadata.resource_version
        assert page.metadata.resource_version == first_rv  # one consistent snapshot
        token = page.metadata._continue
        if pages == 1:
            assert page.metadata.remaining_item_count == 1000 - 128
            # writes between pages do not show up in this paginated list
            core.create_namespaced_config_map(ns, {"metadata": {"name": "cm-9999"}})
            core.delete_namespaced_config_map("cm-0999", ns)
        if not token:
            break
    assert pages == 8
    assert seen == [f"cm-{i:04d}" for i in range(1000)]
    fresh = core.list_namespaced_config_map(ns)
    assert len(fresh.items) == 1000 and "cm-9999" in _names(fresh)
    api_client.close()


def test_an_expired_continue_token_is_410() -> None:
    with running_fake_kube(history_size=3) as kube:
        api_client = kube.api_client()
        core = k8s.CoreV1Api(api_client)
        for i in range(3):
            core.create_namespaced_config_map("default", {"metadata": {"name": f"c{i}"}})
        page = core.list_namespaced_config_map("default", limit=1)
        for i in range(5):
            core.create_namespaced_config_map("default", {"metadata": {"name": f"d{i}"}})
        status = expect_api_error(410, lambda: core.list_namespaced_config_map(
            "default", limit=1, _continue=page.metadata._continue))
        assert status["reason"] == "Expired"
        assert "continue parameter is too old" in status["message"]
        api_client.close()


def test_label_selectors(core: k8s.CoreV1Api, ns: str) -> None:
    labels = {
        "a": {"app": "web", "tier": "front"},
        "b": {"app": "web", "tier": "back"},
        "c": {"app": "db"},
        "d": {},
        "e": {"app": "cache", "size": "7"},
    }
    for name, value in labels.items():
        core.create_namespaced_config_map(ns, {"metadata": {"name": name, "labels": value}})
    cases = {
        "app=web": ["a", "b"],
        "app==web": ["a", "b"],
        "app!=web": ["c", "d", "e"],
        "app in (web, db)": ["a", "b", "c"],
        "app notin (web,db)": ["d", "e"],
        "tier": ["a", "b"],
        "!tier": ["c", "d", "e"],
        "app=web,tier!=back": ["a"],
        "app in (web),!size": ["a", "b"],
        "size>5": ["e"],
        "size<5": [],
        "": ["a", "b", "c", "d", "e"],
    }
    for selector, expected in cases.items():
        assert _names(core.list_namespaced_config_map(ns, label_selector=selector)) == expected, \
            selector


@pytest.mark.parametrize("selector", ["=web", "app in ()", "app in (a", "-bad-=x", "size>big",
                                      "app=web!"])
def test_malformed_label_selector_is_400(core: k8s.CoreV1Api, ns: str, selector: str) -> None:
    status = expect_api_error(400, lambda: core.list_namespaced_config_map(
        ns, label_selector=selector))
    assert status["reason"] == "BadRequest" and status["message"]


def test_empty_label_value_selects_the_empty_value(core: k8s.CoreV1Api, ns: str) -> None:
    core.create_namespaced_config_map(ns, {"metadata": {"name": "e", "labels": {"app": ""}}})
    core.create_namespaced_config_map(ns, {"metadata": {"name": "f", "labels": {"app": "x"}}})
    assert _names(core.list_namespaced_config_map(ns, label_selector="app=")) == ["e"]


def test_field_selectors(core: k8s.CoreV1Api, ns: str) -> None:
    core.create_namespaced_service(ns, {"metadata": {"name": "lb"}, "spec": {
        "type": "LoadBalancer", "ports": [{"port": 80}]}})
    core.create_namespaced_service(ns, {"metadata": {"name": "cip"}, "spec": {
        "ports": [{"port": 80}]}})
    assert _names(core.list_namespaced_service(ns, field_selector="spec.type=LoadBalancer")) == \
        ["lb"]
    assert _names(core.list_namespaced_service(ns, field_selector="spec.type!=LoadBalancer")) == \
        ["cip"]
    assert _names(core.list_service_for_all_namespaces(
        field_selector=f"metadata.namespace={ns},metadata.name=lb")) == ["lb"]
    assert _names(core.list_namespaced_service(ns, field_selector="metadata.name==cip")) == ["cip"]
    for node in ("n1", "n2"):
        core.create_namespaced_pod(ns, {"metadata": {"name": f"p-{node}"}, "spec": {
            "nodeName": node, "containers": [{"name": "c", "image": "i"}]}})
    assert _names(core.list_pod_for_all_namespaces(field_selector="spec.nodeName=n2")) == ["p-n2"]
    core.create_node({"metadata": {"name": "cordoned"}, "spec": {"unschedulable": True}})
    core.create_node({"metadata": {"name": "fine"}})
    assert _names(core.list_node(field_selector="spec.unschedulable=true")) == ["cordoned"]
    assert _names(core.list_node(field_selector="spec.unschedulable!=true")) == ["fine"]


def test_unsupported_field_selector_is_400(core: k8s.CoreV1Api, ns: str) -> None:
    status = expect_api_error(400, lambda: core.list_namespaced_service(
        ns, field_selector="spec.clusterIPs=1"))
    assert status["message"] == "field label not supported: spec.clusterIPs"


def test_list_resource_version_semantics(core: k8s.CoreV1Api, ns: str) -> None:
    first = core.create_namespaced_config_map(ns, {"metadata": {"name": "a"}})
    core.create_namespaced_config_map(ns, {"metadata": {"name": "b"}})
    core.delete_namespaced_config_map("a", ns)
    current = core.list_namespaced_config_map(ns)
    assert _names(current) == ["b"]
    old = first.metadata.resource_version
    # NotOlderThan (and "0"): the current state answers
    assert _names(core.list_namespaced_config_map(
        ns, resource_version=old, resource_version_match="NotOlderThan")) == ["b"]
    assert _names(core.list_namespaced_config_map(ns, resource_version="0")) == ["b"]
    # Exact: the state as it was then
    exact = core.list_namespaced_config_map(ns, resource_version=old,
                                            resource_version_match="Exact")
    assert _names(exact) == ["a"] and exact.metadata.resource_version == old
    # the future: a timeout, as a real server gives after waiting
    future = str(int(current.metadata.resource_version) + 100)
    status = expect_api_error(504, lambda: core.list_namespaced_config_map(
        ns, resource_version=future, resource_version_match="NotOlderThan"))
    assert "Too large resource version" in status["message"]
    expect_api_error(400, lambda: core.list_namespaced_config_map(
        ns, resource_version_match="Exact"))


def test_exact_list_of_a_compacted_resource_version_is_410() -> None:
    with running_fake_kube(history_size=2) as kube:
        api_client = kube.api_client()
        core = k8s.CoreV1Api(api_client)
        old = core.create_namespaced_config_map("default", {"metadata": {"name": "a"}})
        for name in ("b", "c", "d"):
            core.create_namespaced_config_map("default", {"metadata": {"name": name}})
        status = expect_api_error(410, lambda: core.list_namespaced_config_map(
            "default", resource_version=old.metadata.resource_version,
            resource_version_match="Exact"))
        assert "too old" in status["message"]
        # NotOlderThan with the same old resourceVersion is fine
        assert len(core.list_namespaced_config_map(
            "default", resource_version=old.metadata.resource_version,
            resource_version_match="NotOlderThan").items) == 4
        api_client.close()


def test_list_items_carry_kind_and_api_version(api_client: k8s.ApiClient, ns: str) -> None:
    core = k8s.CoreV1Api(api_client)
    core.create_namespaced_service(ns, {"metadata": {"name": "web"},
                                        "spec": {"ports": [{"port": 80}]}})
    raw: Any = core.list_namespaced_service(ns, _preload_content=False)
    body = json.loads(raw.data)
    assert body["kind"] == "ServiceList" and body["apiVersion"] == "v1"
    assert [(i["kind"], i["apiVersion"]) for i in body["items"]] == [("Service", "v1")]
