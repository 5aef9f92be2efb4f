"""Firewall rules follow the Service: source ranges and targets change in place."""

from __future__ import annotations

from cloud_lb.model import Backend
from cloud_lb.provider import CallRecorder
from cloud_lb.testing.fakegce import FakeGCE
from providers.gcp import naming
from providers.gcp.provider import GCPProvider
from tests.providers.gcp.conftest import ProviderFactory, by_name, ref, spec


def test_changed_source_ranges_update_the_firewall_not_recreate_it(
    fake: FakeGCE, provider: GCPProvider, nodes: list[Backend], recorder: CallRecorder
) -> None:
    lb_ref = ref()
    provider.ensure(spec(lb_ref, nodes))
    name = naming.firewall_name(lb_ref)
    before = by_name(fake, "firewalls")[name]
    recorder.reset()
    fake.reset_calls()
    provider.ensure(spec(lb_ref, nodes, source_ranges=("192.168.0.0/16", "10.0.0.0/8")))
    after = by_name(fake, "firewalls")[name]
    assert after["id"] == before["id"]
    assert after["sourceRanges"] == ["10.0.0.0/8", "192.168.0.0/16"]
    assert fake.count(mutating=True) == 1 and fake.count("firewalls.update") == 1
    assert provider.plan(spec(lb_ref, nodes, source_ranges=("10.0.0.0/8", "192.168.0.0/16"))) == []


def test_a_firewall_edited_behind_our_back_is_put_back(
    fake: FakeGCE, provider: GCPProvider, nodes: list[Backend]
) -> None:
    lb_ref = ref()
    provider.ensure(spec(lb_ref, nodes, source_ranges=("10.0.0.0/8",)))
    name = naming.firewall_name(lb_ref)
    with fake.store.cond:
        fake.store.get(f"projects/{fake.project}/global/firewalls/{name}")["sourceRanges"] = [
            "0.0.0.0/0"
        ]
    changes = provider.plan(spec(lb_ref, nodes, source_ranges=("10.0.0.0/8",)))
    assert [(c.action, c.resource, c.name) for c in changes] == [("update", "firewall", name)]
    provider.ensure(spec(lb_ref, nodes, source_ranges=("10.0.0.0/8",)))
    assert by_name(fake, "firewalls")[name]["sourceRanges"] == ["10.0.0.0/8"]


def test_service_accounts_target_the_nodes_when_configured(
    fake: FakeGCE, make_provider: ProviderFactory, nodes: list[Backend]
) -> None:
    provider = make_provider(nodeTargetTags=[], nodeServiceAccounts=["nodes@p.iam.example"])
    lb_ref = ref()
    provider.ensure(spec(lb_ref, nodes))
    for rule in fake.resources("firewalls"):
        assert rule["targetServiceAccounts"] == ["nodes@p.iam.example"]
        assert "targetTags" not in rule


def test_without_tags_or_accounts_the_rules_cover_the_network(
    fake: FakeGCE, make_provider: ProviderFactory, nodes: list[Backend]
) -> None:
    provider = make_provider(nodeTargetTags=[])
    provider.ensure(spec(ref(), nodes))
    assert all(
        "targetTags" not in r and "targetServiceAccounts" not in r
        for r in fake.resources("firewalls")
    )
