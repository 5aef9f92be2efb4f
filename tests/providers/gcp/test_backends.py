"""Nodes as shared per-zone instance groups: one add/remove call per zone, however many
nodes or Services change, and drift repaired."""

from __future__ import annotations

import dataclasses

from cloud_lb.model import Backend
from cloud_lb.provider import CallRecorder
from cloud_lb.testing.fakegce import FakeGCE
from providers.gcp import naming
from providers.gcp.provider import GCPProvider
from tests.providers.gcp.conftest import CLUSTER, ProviderFactory, by_name, ref, spec

ZONES = ("us-central1-a", "us-central1-b", "us-central1-c")
GROUP = naming.instance_group_name(CLUSTER)


def members(fake: FakeGCE) -> list[list[str]]:
    return [fake.members(zone, GROUP) for zone in ZONES]


def test_node_add_and_remove_is_one_call_per_zone(
    fake: FakeGCE, provider: GCPProvider, nodes: list[Backend]
) -> None:
    """node-i lives in zone i % 3: going from 1 node to 6 adds 1, 2 and 2 instances in
    one addInstances per zone; going back removes them in one removeInstances per zone."""
    lb_ref = ref()
    provider.ensure(spec(lb_ref, nodes[:1]))
    fake.reset_calls()
    provider.update_backends(spec(lb_ref, nodes))
    assert fake.count("instanceGroups.addInstances") == 3
    assert fake.count("instanceGroups.insert") == 2  # zones b and c get their group
    assert fake.count("regionBackendServices.update") == 1  # and join the backend service
    assert members(fake) == [["node-0", "node-3"], ["node-1", "node-4"], ["node-2", "node-5"]]
    fake.reset_calls()
    provider.update_backends(spec(lb_ref, nodes[:1]))
    assert fake.count("instanceGroups.removeInstances") == 3
    assert fake.count("instanceGroups.addInstances") == 0
    assert members(fake) == [["node-0"], [], []]
    backends = by_name(fake, "regionBackendServices")[naming.lb_name(lb_ref)]["backends"]
    assert [b["group"].split("/")[-3] for b in backends] == ["us-central1-a"]
    assert provider.plan(spec(lb_ref, nodes[:1])) == []


def test_a_node_change_on_many_services_syncs_the_groups_once(
    fake: FakeGCE, provider: GCPProvider, nodes: list[Backend], recorder: CallRecorder
) -> None:
    services = [spec(ref(f"svc-{i}"), nodes[:3]) for i in range(8)]
    for s in services:
        provider.ensure(s)
    fake.reset_calls()
    recorder.reset()
    for s in services:
        provider.update_backends(dataclasses.replace(s, backends=tuple(nodes)))
    assert fake.count(mutating=True) == 3  # one addInstances per zone, for all 8 Services
    assert fake.count("instanceGroups.addInstances") == 3
    assert fake.count("regionBackendServices.*") == 0  # zones unchanged: services untouched
    assert recorder.mutations() == 3
    for s in services:
        assert provider.plan(dataclasses.replace(s, backends=tuple(nodes))) == []


def test_membership_drift_is_repaired_on_the_next_resync(
    fake: FakeGCE, make_provider: ProviderFactory, nodes: list[Backend]
) -> None:
    provider = make_provider(instanceGroupCacheSeconds=0)
    lb_ref = ref()
    provider.ensure(spec(lb_ref, nodes[:3]))
    key = f"projects/{fake.project}/zones/us-central1-b/instanceGroups/{GROUP}"
    with fake.store.cond:  # someone removes a member behind our back
        fake.store.members[key] = []
    assert provider.plan(spec(lb_ref, nodes[:3]))[0].resource == "instance-group"
    fake.reset_calls()
    provider.ensure(spec(lb_ref, nodes[:3]))
    assert fake.count("instanceGroups.addInstances") == 1
    assert members(fake) == [["node-0"], ["node-1"], ["node-2"]]


def test_nodes_without_a_gce_provider_id_are_not_backends(
    fake: FakeGCE, provider: GCPProvider, nodes: list[Backend]
) -> None:
    stranger = Backend(node_name="kind-node", address="10.0.0.9", provider_id="kind://x/y/z")
    status = provider.ensure(spec(ref(), [nodes[0], stranger]))
    assert status.backends_total == 1
    assert members(fake) == [["node-0"], [], []]
