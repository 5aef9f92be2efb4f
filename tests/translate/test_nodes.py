"""Node eligibility as a table, and the fingerprint the node sync compares."""

from __future__ import annotations

import pytest

from cloud_lb.model import Backend
from cloud_lb.translate.nodes import eligible_backends, ineligibility, node_fingerprint
from cloud_lb.translate.settings import EXCLUDE_LABEL, TranslateSettings

from .conftest import make_node

S = TranslateSettings(cluster_name="c")
EXT = TranslateSettings(cluster_name="c", address_type="ExternalIP")
EXT_FALLBACK = TranslateSettings(cluster_name="c", address_type="ExternalIP", address_fallback=True)
SELECT = TranslateSettings(cluster_name="c", node_selector={"pool": "edge"})
CUSTOM_EXCLUDE = TranslateSettings(cluster_name="c", exclude_label="example.com/no-lb")
AUTOSCALER = [{"key": "ToBeDeletedByClusterAutoscaler", "value": "1700000000", "effect": "NoSchedule"}]
BOTH = [{"type": "InternalIP", "address": "10.0.0.9"}, {"type": "ExternalIP", "address": "203.0.113.9"}]

CASES = [
    ("a Ready node is a backend at its InternalIP", make_node("n"), S, "10.0.0.1"),
    ("a NotReady node is not a backend", make_node("n", ready="False"), S, None),
    ("a node whose readiness is Unknown is not a backend", make_node("n", ready="Unknown"), S, None),
    ("a node with no conditions is not a backend",
     {"metadata": {"name": "n"}, "status": {"addresses": [{"type": "InternalIP", "address": "10.0.0.1"}]}}, S, None),
    ("the exclude label removes a node whatever its value",
     make_node("n", labels={EXCLUDE_LABEL: ""}), S, None),
    ("the exclude label is configurable", make_node("n", labels={"example.com/no-lb": "true"}),
     CUSTOM_EXCLUDE, None),
    ("the default exclude label no longer applies when another is configured",
     make_node("n", labels={EXCLUDE_LABEL: "true"}), CUSTOM_EXCLUDE, "10.0.0.1"),
    ("a node being deleted is not a backend", make_node("n", deleting=True), S, None),
    ("a node the autoscaler is deleting is not a backend", make_node("n", taints=AUTOSCALER), S, None),
    ("other taints do not matter",
     make_node("n", taints=[{"key": "dedicated", "value": "x", "effect": "NoSchedule"}]), S, "10.0.0.1"),
    ("a cordoned (unschedulable) node stays a backend", make_node("n", unschedulable=True), S, "10.0.0.1"),
    ("a node matching the selector is a backend", make_node("n", labels={"pool": "edge"}), SELECT, "10.0.0.1"),
    ("a node with another label value is not", make_node("n", labels={"pool": "core"}), SELECT, None),
    ("a node without the selector label is not", make_node("n"), SELECT, None),
    ("ExternalIP mode uses the ExternalIP", make_node("n", addresses=BOTH), EXT, "203.0.113.9"),
    ("ExternalIP mode skips a node without one",
     make_node("n", addresses=[{"type": "InternalIP", "address": "10.0.0.9"}]), EXT, None),
    ("with fallback, ExternalIP mode uses the InternalIP of a node without ExternalIP",
     make_node("n", addresses=[{"type": "InternalIP", "address": "10.0.0.9"}]), EXT_FALLBACK, "10.0.0.9"),
    ("a malformed address is skipped for the next of the same type",
     make_node("n", addresses=[{"type": "InternalIP", "address": "nope"},
                               {"type": "InternalIP", "address": "10.0.0.7"}]), S, "10.0.0.7"),
    ("an IPv6 InternalIP is a valid backend address",
     make_node("n", addresses=[{"type": "InternalIP", "address": "FD00::1"}]), S, "fd00::1"),
    ("a node without a name is not a backend", {"metadata": {}, "status": {}}, S, None),
]


@pytest.mark.parametrize("sentence,node,settings,address", CASES, ids=[c[0] for c in CASES])
def test_node_eligibility(sentence: str, node: dict, settings: TranslateSettings,
                          address: str | None) -> None:
    backends = eligible_backends([node], settings)
    if address is None:
        assert backends == (), sentence
        assert ineligibility(node, settings), "an excluded node has a reason"
    else:
        assert [b.address for b in backends] == [address], sentence
        assert ineligibility(node, settings) is None


def test_backends_are_sorted_by_name_and_carry_provider_id_and_zone() -> None:
    nodes = [
        make_node("node-c", "10.0.0.3"),
        make_node("node-a", "10.0.0.1", provider_id="openstack:///abc",
                  labels={"topology.kubernetes.io/zone": "gra1"}),
        make_node("node-b", "10.0.0.2", ready="False"),
    ]
    assert eligible_backends(nodes, S) == (
        Backend("node-a", "10.0.0.1", provider_id="openstack:///abc", zone="gra1"),
        Backend("node-c", "10.0.0.3"),
    )


def test_a_repeated_node_name_is_kept_once() -> None:
    nodes = [make_node("n", "10.0.0.1"), make_node("n", "10.0.0.2")]
    assert [b.address for b in eligible_backends(nodes, S)] == ["10.0.0.1"]


def test_fingerprint_ignores_heartbeats_and_order_but_sees_eligibility_and_addresses() -> None:
    a, b = make_node("a", "10.0.0.1"), make_node("b", "10.0.0.2")
    base = node_fingerprint([a, b], S)
    assert isinstance(base, str)
    beat = make_node("a", "10.0.0.1")
    beat["status"]["conditions"][1]["lastHeartbeatTime"] = "2024-06-01T00:00:00Z"
    beat["metadata"]["resourceVersion"] = "999"
    assert node_fingerprint([b, beat], S) == base, "heartbeats and order change nothing"
    assert node_fingerprint([a, make_node("b", "10.0.0.2", ready="False")], S) != base
    assert node_fingerprint([a, make_node("b", "10.0.0.3")], S) != base
    assert node_fingerprint([a, make_node("b", "10.0.0.2", labels={EXCLUDE_LABEL: ""})], S) != base
    assert node_fingerprint([a, b, make_node("c", "10.0.0.3")], S) != base
    assert node_fingerprint([a, make_node("b", "10.0.0.2", ready="False")], S) == node_fingerprint([a], S)
