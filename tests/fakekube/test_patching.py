"""PATCH in its three flavours, through the official client, and the patch functions'
algebra (RFC 7386 / RFC 6902 properties) with hypothesis."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from kubernetes import client as k8s

from cloud_lb.testing.fakekube.errors import ApiError
from cloud_lb.testing.fakekube.jsonpatch import apply_json_patch
from cloud_lb.testing.fakekube.patching import merge_patch, strategic_merge
from tests.fakekube.conftest import FULL, expect_api_error

MERGE = "application/merge-patch+json"
JSON_PATCH = "application/json-patch+json"
EXAMPLES = 300 if FULL else 25


def _node(core: k8s.CoreV1Api) -> Any:
    return core.create_node({"metadata": {"name": "n1", "finalizers": ["a.io/x"],
                                          "labels": {"keep": "1", "drop": "1"}},
                             "status": {"conditions": [
                                 {"type": "Ready", "status": "True"},
                                 {"type": "DiskPressure", "status": "False"}],
                                 "addresses": [{"type": "InternalIP", "address": "10.0.0.1"}]}})


def test_strategic_merge_of_finalizers_and_conditions(core: k8s.CoreV1Api) -> None:
    _node(core)
    patched = core.patch_node("n1", {"metadata": {"finalizers": ["b.io/y"],
                                                  "labels": {"drop": None}}})
    assert patched.metadata.finalizers == ["a.io/x", "b.io/y"]
    assert patched.metadata.labels == {"keep": "1"}
    removed = core.patch_node("n1", {"metadata": {"$deleteFromPrimitiveList/finalizers":
                                                  ["a.io/x"]}})
    assert removed.metadata.finalizers == ["b.io/y"]
    status = core.patch_node_status("n1", {"status": {"conditions": [
        {"type": "Ready", "status": "False", "reason": "KubeletDown"}]}})
    assert [(c.type, c.status) for c in status.status.conditions] == [
        ("Ready", "False"), ("DiskPressure", "False")]
    deleted = core.patch_node_status("n1", {"status": {"conditions": [
        {"type": "DiskPressure", "$patch": "delete"}]}})
    assert [c.type for c in deleted.status.conditions] == ["Ready"]


def test_load_balancer_ingress_is_an_atomic_list(core: k8s.CoreV1Api, ns: str) -> None:
    core.create_namespaced_service(ns, {"metadata": {"name": "web"}, "spec": {
        "type": "LoadBalancer", "ports": [{"port": 80}]}})
    core.patch_namespaced_service_status("web", ns, {"status": {"loadBalancer": {"ingress": [
        {"ip": "192.0.2.1"}, {"ip": "192.0.2.2"}]}}})
    after = core.patch_namespaced_service_status("web", ns, {"status": {"loadBalancer": {
        "ingress": [{"ip": "192.0.2.3"}]}}})
    # a strategic merge replaces it whole, as on a real cluster (+listType=atomic)
    assert [i.ip for i in after.status.load_balancer.ingress] == ["192.0.2.3"]


def test_merge_patch(core: k8s.CoreV1Api) -> None:
    _node(core)
    patched = core.patch_node("n1", {"metadata": {"finalizers": ["b.io/y"],
                                                  "labels": {"drop": None}}},
                              _content_type=MERGE)
    assert patched.metadata.finalizers == ["b.io/y"]  # lists are replaced
    assert patched.metadata.labels == {"keep": "1"}


def test_json_patch(core: k8s.CoreV1Api, ns: str) -> None:
    core.create_namespaced_config_map(ns, {"metadata": {"name": "c"}, "data": {"a": "1"}})
    patched = core.patch_namespaced_config_map("c", ns, [
        {"op": "test", "path": "/data/a", "value": "1"},
        {"op": "add", "path": "/data/b", "value": "2"},
        {"op": "remove", "path": "/data/a"},
        {"op": "add", "path": "/metadata/labels", "value": {"x/y": "z"}},
    ])
    assert patched.data == {"b": "2"} and patched.metadata.labels == {"x/y": "z"}
    status = expect_api_error(422, lambda: core.patch_namespaced_config_map("c", ns, [
        {"op": "test", "path": "/data/b", "value": "nope"}]))
    assert "testing value /data/b failed" in status["message"]
    status = expect_api_error(422, lambda: core.patch_namespaced_config_map("c", ns, [
        {"op": "remove", "path": "/data/missing"}]))
    assert "missing" in status["message"]


def test_json_patch_with_a_stale_resource_version_test_conflicts(core: k8s.CoreV1Api,
                                                                 ns: str) -> None:
    first = core.create_namespaced_config_map(ns, {"metadata": {"name": "c"}})
    core.patch_namespaced_config_map("c", ns, {"data": {"a": "1"}})
    status = expect_api_error(409, lambda: core.patch_namespaced_config_map("c", ns, [
        {"op": "replace", "path": "/metadata/resourceVersion",
         "value": first.metadata.resource_version},
        {"op": "add", "path": "/data/b", "value": "2"}]))
    assert status["reason"] == "Conflict"


def test_unknown_patch_type_is_415(core: k8s.CoreV1Api, ns: str) -> None:
    core.create_namespaced_config_map(ns, {"metadata": {"name": "c"}})
    status = expect_api_error(415, lambda: core.patch_namespaced_config_map(
        "c", ns, {"data": {"a": "1"}}, _content_type="application/apply-patch+yaml"))
    assert status["reason"] == "UnsupportedMediaType" and "merge-patch" in status["message"]


# --- the algorithms, property-tested --------------------------------------------------

_scalars = st.one_of(st.none(), st.booleans(), st.integers(-5, 5), st.text("abc", max_size=3))
_json = st.recursive(
    _scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=3),
                            st.dictionaries(st.text("abcd", min_size=1, max_size=2), inner,
                                            max_size=3)),
    max_leaves=10,
)
_docs = st.dictionaries(st.text("abcd", min_size=1, max_size=2), _json, max_size=4)


def _without_nulls(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_nulls(v) for k, v in value.items() if v is not None}
    return value


@settings(max_examples=EXAMPLES, deadline=None)
@given(_docs, _docs)
def test_merge_patch_is_idempotent_and_leaves_its_input_alone(doc: dict, patch: dict) -> None:
    before = copy.deepcopy(doc)
    once = merge_patch(doc, patch)
    assert doc == before
    assert merge_patch(once, patch) == once


@settings(max_examples=EXAMPLES, deadline=None)
@given(_docs, _docs)
def test_merge_patch_sets_every_non_null_key_of_the_patch(doc: dict, patch: dict) -> None:
    result = merge_patch(doc, patch)
    for key, value in patch.items():
        if value is None:
            assert key not in result
        elif not isinstance(value, dict):
            assert result[key] == value
    for key in doc:
        if key not in patch:
            assert result[key] == doc[key]


@settings(max_examples=EXAMPLES, deadline=None)
@given(_docs, _docs)
def test_strategic_merge_without_merge_keys_is_a_merge_patch(doc: dict, patch: dict) -> None:
    # with no list tagged for merging and no directives, the two flavours agree
    assert strategic_merge(doc, patch, {}) == merge_patch(doc, patch)


@settings(max_examples=EXAMPLES, deadline=None)
@given(_docs, _json)
def test_json_patch_add_then_remove_restores(doc: dict, value: Any) -> None:
    key = "zz-new"
    added = apply_json_patch(doc, [{"op": "add", "path": f"/{key}", "value": value}])
    assert added[key] == value
    assert apply_json_patch(added, [{"op": "remove", "path": f"/{key}"}]) == doc


@settings(max_examples=EXAMPLES, deadline=None)
@given(_docs)
def test_json_patch_test_of_every_top_level_key_passes(doc: dict) -> None:
    ops = [{"op": "test", "path": "/" + k.replace("~", "~0").replace("/", "~1"), "value": v}
           for k, v in doc.items()]
    assert apply_json_patch(doc, ops) == doc


@pytest.mark.parametrize(("doc", "ops", "expected"), [
    ({"a": [1, 2]}, [{"op": "add", "path": "/a/-", "value": 3}], {"a": [1, 2, 3]}),
    ({"a": [1, 2]}, [{"op": "add", "path": "/a/0", "value": 0}], {"a": [0, 1, 2]}),
    ({"a": {"b": 1}}, [{"op": "move", "from": "/a/b", "path": "/c"}], {"a": {}, "c": 1}),
    ({"a": {"b": 1}}, [{"op": "copy", "from": "/a", "path": "/c"}],
     {"a": {"b": 1}, "c": {"b": 1}}),
    ({"a/b": 1, "m~n": 2}, [{"op": "replace", "path": "/a~1b", "value": 3},
                            {"op": "remove", "path": "/m~0n"}], {"a/b": 3}),
])
def test_json_patch_operations(doc: dict, ops: list, expected: dict) -> None:
    assert apply_json_patch(doc, ops) == expected


@pytest.mark.parametrize("ops", [
    [{"op": "add", "path": "/a/5", "value": 1}],
    [{"op": "replace", "path": "/missing", "value": 1}],
    [{"op": "add", "path": "/x/y", "value": 1}],
])
def test_json_patch_failures_are_422(ops: list) -> None:
    with pytest.raises(ApiError) as info:
        apply_json_patch({"a": [1]}, ops)
    assert info.value.code == 422


def test_strategic_merge_directives() -> None:
    keys = {("spec", "ports"): "port", ("metadata", "finalizers"): None}
    doc = {"spec": {"ports": [{"port": 80, "name": "a"}, {"port": 81, "name": "b"}],
                    "sel": {"x": "1", "y": "2"}},
           "metadata": {"finalizers": ["f1", "f2"]}}
    assert strategic_merge(doc, {"spec": {"ports": [{"port": 81, "name": "c"}]}}, keys)[
        "spec"]["ports"] == [{"port": 80, "name": "a"}, {"port": 81, "name": "c"}]
    assert strategic_merge(doc, {"spec": {"ports": [{"$patch": "replace"}, {"port": 9}]}}, keys)[
        "spec"]["ports"] == [{"port": 9}]
    assert strategic_merge(doc, {"spec": {"sel": {"$patch": "replace", "z": "3"}}}, keys)[
        "spec"]["sel"] == {"z": "3"}
    assert "sel" not in strategic_merge(doc, {"spec": {"sel": {"$patch": "delete"}}}, keys)["spec"]
    assert strategic_merge(doc, {"spec": {"$retainKeys": ["ports"], "ports": []}}, keys)[
        "spec"] == {"ports": doc["spec"]["ports"]}
    assert strategic_merge(doc, {"spec": {"$setElementOrder/ports": [{"port": 81}, {"port": 80}]}},
                           keys)["spec"]["ports"] == [{"port": 81, "name": "b"},
                                                      {"port": 80, "name": "a"}]
    with pytest.raises(ApiError) as info:
        strategic_merge(doc, {"spec": {"ports": [{"name": "no-key"}]}}, keys)
    assert info.value.code == 400 and "merge key" in info.value.message
