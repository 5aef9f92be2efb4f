"""Create, resync, node changes and delete through openstacksdk against the fake."""

from __future__ import annotations

import dataclasses

from cloud_lb.model import IPMode
from cloud_lb.testing.fakeopenstack import FakeOpenStack
from providers.openstack import naming
from tests.providers.openstack.conftest import backends

LB = "/v2/lbaas/loadbalancers"
MEMBERS = "/v2/lbaas/pools/{pool_id}/members"


def test_create_is_one_fully_populated_call_and_one_floating_ip(fake: FakeOpenStack, provider,
                                                                 spec_for) -> None:
    spec = spec_for(nodes=3)
    fake.calls.reset()
    status = provider.ensure(spec)
    assert fake.calls.count(method="POST", route=LB) == 1
    assert fake.calls.count(mutating=True) == 2  # the load balancer and its floating IP
    [lb] = fake.resources("loadbalancers")
    assert len(lb["listeners"]) == 3 and len(lb["pools"]) == 3
    assert len(fake.resources("members")) == 9 and len(fake.resources("healthmonitors")) == 3
    assert set(lb["tags"]) == set(naming.lb_tags(spec.ref))
    [fip] = fake.resources("floatingips")
    assert fip["port_id"] == lb["vip_port_id"]
    assert set(naming.floating_ip_tags(spec.ref)) <= set(fip["tags"])
    point = status.ingress[0]
    assert (point.ip, point.ip_mode) == (fip["floating_ip_address"], IPMode.VIP)
    assert status.provider_id == lb["id"] and status.backends_total == 3


def test_unchanged_resync_only_reads(fake: FakeOpenStack, provider, spec_for) -> None:
    spec = spec_for()
    first = provider.ensure(spec)
    fake.calls.reset()
    second = provider.ensure(spec)
    provider.update_backends(spec)
    assert provider.plan(spec) == []
    assert fake.calls.count(mutating=True) == 0
    assert (second.provider_id, second.ingress) == (first.provider_id, first.ingress)
    assert second.backends_healthy == 3


def test_node_add_and_remove_is_one_batch_call_per_pool(fake: FakeOpenStack, provider,
                                                        spec_for, recorder) -> None:
    spec = spec_for(nodes=3)
    provider.ensure(spec)
    for nodes in (backends(5), backends(5)[3:]):
        fake.calls.reset()
        before = recorder.mutations()
        provider.update_backends(dataclasses.replace(spec, backends=nodes))
        assert fake.calls.count(method="PUT", route=MEMBERS) == 3
        assert fake.calls.count(mutating=True) == 3
        assert recorder.count(operation="octavia.batch_update_members") >= 3
        assert recorder.mutations() - before == 3
        addresses = sorted({m["address"] for m in fake.resources("members")})
        assert addresses == sorted(b.address for b in nodes)
    fake.calls.reset()
    status = provider.ensure(dataclasses.replace(spec, backends=backends(5)[3:]))
    assert fake.calls.count(mutating=True) == 0 and status.backends_total == 2


def test_ensure_with_other_nodes_converges_through_the_batch_update(fake: FakeOpenStack,
                                                                    provider, spec_for) -> None:
    spec = spec_for(nodes=2)
    provider.ensure(spec)
    fake.calls.reset()
    provider.ensure(dataclasses.replace(spec, backends=backends(4)))
    assert fake.calls.count(mutating=True) == fake.calls.count(method="PUT", route=MEMBERS) == 3


def test_a_spec_change_writes_only_the_difference(fake: FakeOpenStack, provider,
                                                  spec_for) -> None:
    spec = spec_for()
    provider.ensure(spec)
    fake.calls.reset()
    ranged = dataclasses.replace(spec, source_ranges=("192.0.2.0/24",),
                                 listeners=spec.listeners[:2])
    assert {c.resource for c in provider.plan(ranged)} == {"listener", "pool"}
    provider.ensure(ranged)
    assert fake.calls.summary() - _reads(fake) == {
        "PUT load-balancer /v2/lbaas/listeners/{id}": 2,
        "DELETE load-balancer /v2/lbaas/listeners/{id}": 1,
        "DELETE load-balancer /v2/lbaas/pools/{id}": 1,
    }
    assert {tuple(li["allowed_cidrs"]) for li in fake.resources("listeners")} == {
        ("192.0.2.0/24",)}
    assert provider.plan(ranged) == []


def _reads(fake: FakeOpenStack):
    from collections import Counter
    return Counter({k: v for k, v in fake.calls.summary().items() if k.startswith("GET ")})


def test_delete_releases_everything_it_created(fake: FakeOpenStack, provider,
                                                spec_for) -> None:
    before = fake.snapshot()
    spec = spec_for()
    provider.ensure(spec)
    provider.delete(spec.ref)
    assert provider.get(spec.ref) is None
    assert fake.snapshot() == before
    provider.delete(spec.ref)  # gone is success


def test_internal_service_gets_the_vip_and_no_floating_ip(fake: FakeOpenStack, provider,
                                                           spec_for) -> None:
    spec = spec_for(internal=True)
    status = provider.ensure(spec)
    [lb] = fake.resources("loadbalancers")
    assert status.ingress[0].ip == lb["vip_address"]
    assert fake.resources("floatingips") == []
    # turning it public allocates one; back to internal releases ours
    public = provider.ensure(dataclasses.replace(spec, internal=False))
    assert public.ingress[0].ip == fake.resources("floatingips")[0]["floating_ip_address"]
    provider.ensure(spec)
    assert fake.resources("floatingips") == []


def test_list_owned_and_get_describe_our_load_balancers(provider, spec_for) -> None:
    specs = [spec_for(f"svc-{i}", nodes=1) for i in range(3)]
    for spec in specs:
        provider.ensure(spec)
    assert sorted(provider.list_owned(), key=str) == sorted((s.ref for s in specs), key=str)
    got = provider.get(specs[0].ref)
    assert got is not None and got.backends_total == 1 and len(got.listeners) == 3
