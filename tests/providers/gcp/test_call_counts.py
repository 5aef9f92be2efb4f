"""The Compute call budget: what a create, a resync and a node change cost.

These are the numbers the design promises (DESIGN.md: converge, don't recreate; batch
where the cloud can), asserted so a regression shows up as a failing test. With
CLOUD_LB_FULL=1 the node change runs on 100 Services instead of 10.
"""

from __future__ import annotations

import dataclasses
import os

from cloud_lb.model import Backend
from cloud_lb.provider import CallRecorder
from cloud_lb.testing.fakegce import FakeGCE
from providers.gcp.provider import GCPProvider
from tests.providers.gcp.conftest import ProviderFactory, ref, spec

SERVICES = 100 if os.environ.get("CLOUD_LB_FULL") == "1" else 10
TWO_PORTS = (("TCP", 80, 30080), ("TCP", 443, 30443))


def _mutating(recorder: CallRecorder) -> list[str]:
    return sorted(
        op.removeprefix("compute.")
        for (op, mutating, _), n in recorder.calls.items()
        if mutating
        for _ in range(n)
    )


def test_a_two_port_service_costs_six_mutations_once_the_groups_exist(
    fake: FakeGCE, provider: GCPProvider, nodes: list[Backend], recorder: CallRecorder
) -> None:
    provider.ensure(spec(ref("first"), nodes, ports=TWO_PORTS))
    recorder.reset()
    provider.ensure(spec(ref("second"), nodes, ports=TWO_PORTS))
    assert _mutating(recorder) == [
        "addresses.insert",
        "firewalls.insert",
        "firewalls.insert",
        "forwardingRules.insert",
        "regionBackendServices.insert",
        "regionHealthChecks.insert",
    ]
    # 7 reads to check ownership and diff, 6 inserts, 6 operation waits, 1 read of the new IP
    assert sum(recorder.calls.values()) == 20


def test_an_unchanged_resync_is_seven_reads_and_no_mutation(
    provider: GCPProvider, nodes: list[Backend], recorder: CallRecorder
) -> None:
    lb = spec(ref(), nodes, ports=TWO_PORTS)
    provider.ensure(lb)
    recorder.reset()
    provider.ensure(lb)
    provider.update_backends(lb)
    assert recorder.mutations() == 0
    assert sum(recorder.calls.values()) == 7


def test_a_node_change_on_many_services_costs_what_it_costs_on_one(
    make_provider: ProviderFactory, nodes: list[Backend], recorder: CallRecorder
) -> None:
    # the membership cache must outlive creating the Services, however slow the machine
    provider = make_provider(instanceGroupCacheSeconds=3600)
    services = [spec(ref(f"svc-{i}"), nodes[:5], ports=TWO_PORTS) for i in range(SERVICES)]
    for service in services:
        provider.ensure(service)
    recorder.reset()
    for service in services:  # node-5 (zone c) joins
        provider.update_backends(dataclasses.replace(service, backends=tuple(nodes)))
    assert _mutating(recorder) == ["instanceGroups.addInstances"]
    # the zone's group is read (get, listInstances), changed, and its operation awaited
    assert sum(recorder.calls.values()) == 4
