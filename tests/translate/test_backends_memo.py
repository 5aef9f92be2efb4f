"""Every spec of one node set shares one backends tuple, and any change is seen."""

from __future__ import annotations

from typing import Any

from cloud_lb.translate.nodes import eligible_backends
from cloud_lb.translate.settings import TranslateSettings

SETTINGS = TranslateSettings(cluster_name="c")


def _node(name: str, ip: str, uid: str, rv: str) -> dict[str, Any]:
    return {"metadata": {"name": name, "uid": uid, "resourceVersion": rv},
            "status": {"conditions": [{"type": "Ready", "status": "True"}],
                       "addresses": [{"type": "InternalIP", "address": ip}]}}


def test_the_same_node_set_gives_the_very_same_tuple() -> None:
    nodes = [_node("a", "10.0.0.1", "u1", "5"), _node("b", "10.0.0.2", "u2", "6")]
    first = eligible_backends(nodes, SETTINGS)
    assert eligible_backends(list(nodes), SETTINGS) is first


def test_a_new_resource_version_or_another_cluster_is_computed_afresh() -> None:
    base = eligible_backends([_node("a", "10.0.0.1", "u1", "5")], SETTINGS)
    moved = eligible_backends([_node("a", "10.0.0.9", "u1", "7")], SETTINGS)
    # another cluster: same name and version, another uid and address
    other = eligible_backends([_node("a", "10.1.0.1", "x1", "5")], SETTINGS)
    assert [b.address for b in (base[0], moved[0], other[0])] == ["10.0.0.1", "10.0.0.9", "10.1.0.1"]


def test_nodes_without_identity_are_never_served_from_the_memo() -> None:
    plain = {"metadata": {"name": "a"}, "status": {
        "conditions": [{"type": "Ready", "status": "True"}],
        "addresses": [{"type": "InternalIP", "address": "10.0.0.1"}]}}
    first = eligible_backends([plain], SETTINGS)
    plain["status"]["addresses"][0]["address"] = "10.0.0.2"
    assert eligible_backends([plain], SETTINGS)[0].address == "10.0.0.2"
    assert first[0].address == "10.0.0.1"


def test_the_node_view_keeps_everything_eligibility_reads() -> None:
    from cloud_lb.translate.nodes import node_fingerprint, node_view
    full = _node("a", "10.0.0.1", "u9", "3")
    full["metadata"]["labels"] = {"topology.kubernetes.io/zone": "z1", "role": "edge"}
    full["metadata"]["managedFields"] = [{"manager": "kubelet"}]
    full["spec"] = {"providerID": "aws:///z1/i-1", "taints": [
        {"key": "ToBeDeletedByClusterAutoscaler", "effect": "NoSchedule"}], "podCIDR": "x"}
    full["status"]["images"] = [{"names": ["busybox"], "sizeBytes": 1}] * 50
    full["status"]["conditions"].append({"type": "MemoryPressure", "status": "False"})
    view = node_view(full)
    assert "images" not in view["status"] and "managedFields" not in view["metadata"]
    assert eligible_backends([view], SETTINGS) == eligible_backends([full], SETTINGS)
    full["spec"]["taints"] = []
    view = node_view(full)
    full["metadata"]["resourceVersion"] = view["metadata"]["resourceVersion"] = "4"
    assert node_fingerprint([view], SETTINGS) == node_fingerprint([full], SETTINGS)
    assert eligible_backends([view], SETTINGS)[0].provider_id == "aws:///z1/i-1"
