"""Node changes reach the load balancer's backends, and only its backends."""

from __future__ import annotations

import pytest

from tests.controller.conftest import Harness, wait_until


@pytest.fixture
def address(harness: Harness) -> str:
    harness.create_service("web")
    address = harness.address("web")
    everyone = {n.name for n in harness.cluster.nodes}
    wait_until(lambda: harness.answering_nodes(address) == everyone, 15,
               message="all nodes answering")
    harness.settle()
    return address


def _backend_ops(harness: Harness) -> set[str]:
    return {op for (op, mutating, _), n in harness.recorder.calls.items() if mutating and n}


def test_a_new_node_gets_traffic_through_a_backends_only_update(harness: Harness, address: str) -> None:
    harness.recorder.reset()
    node = harness.cluster.add_node()
    wait_until(lambda: node.name in harness.answering_nodes(address, tries=16), 20,
               message="the new node to answer")
    harness.settle()
    assert _backend_ops(harness) == {"set_backends"}


@pytest.mark.parametrize("change", ["remove", "not-ready", "exclude-label", "to-be-deleted"])
def test_a_node_that_stops_being_eligible_gets_no_more_traffic(
        harness: Harness, address: str, change: str) -> None:
    victim = harness.cluster.nodes[0].name
    core = harness.core
    if change == "remove":
        harness.cluster.remove_node(victim)
    elif change == "not-ready":
        harness.cluster.set_ready(victim, False)
    elif change == "exclude-label":
        core.patch_node(victim, {"metadata": {"labels": {
            "node.kubernetes.io/exclude-from-external-load-balancers": "true"}}})
    else:
        core.patch_node(victim, {"spec": {"taints": [
            {"key": "ToBeDeletedByClusterAutoscaler", "value": "1", "effect": "NoSchedule"}]}})
    rest = {n.name for n in harness.cluster.nodes} - {victim}
    wait_until(lambda: harness.answering_nodes(address, tries=16) == rest, 20,
               message=f"{victim} to get no traffic")
    harness.settle()
    ref = harness.provider.list_owned()[0]
    assert harness.provider.get(ref).backends_total == len(rest)
