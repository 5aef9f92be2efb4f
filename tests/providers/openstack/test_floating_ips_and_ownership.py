"""Floating IP ownership and load balancer ownership: only what cloud-lb allocated is
released; what is not ours (another cluster's tags, no tags, same name) is never
touched by ensure, delete or list_owned."""

from __future__ import annotations

import dataclasses

import pytest

from cloud_lb.model import LBRef
from cloud_lb.provider import CloudError, OwnershipError
from cloud_lb.testing.fakeopenstack import FakeOpenStack, neutron
from providers.openstack import annotations as a
from providers.openstack import naming


def test_static_floating_ip_is_associated_and_kept_on_delete(fake: FakeOpenStack, provider,
                                                             spec_for) -> None:
    reserved = fake.plant_floating_ip(description="reserved by the user")
    spec = spec_for(static_ip=reserved["floating_ip_address"])
    status = provider.ensure(spec)
    assert status.ingress[0].ip == reserved["floating_ip_address"]
    [fip] = fake.resources("floatingips")
    assert fip["port_id"] == fake.resources("loadbalancers")[0]["vip_port_id"]
    assert fip["tags"] == []  # not tagged: it stays the user's
    provider.delete(spec.ref)
    [kept] = fake.resources("floatingips")
    assert (kept["id"], kept["port_id"]) == (reserved["id"], None)


def test_a_static_floating_ip_in_use_elsewhere_is_not_taken(fake: FakeOpenStack, provider,
                                                            spec_for) -> None:
    other = spec_for("other")
    taken = provider.ensure(other).ingress[0].ip
    before = [f for f in fake.resources("floatingips") if f["floating_ip_address"] == taken]
    with pytest.raises(CloudError) as caught:
        provider.ensure(spec_for("thief", static_ip=taken))
    assert not caught.value.retryable and "not taken over" in str(caught.value)
    assert [f for f in fake.resources("floatingips")
            if f["floating_ip_address"] == taken] == before


def test_an_unknown_static_ip_is_a_clear_error(provider, spec_for) -> None:
    with pytest.raises(CloudError) as caught:
        provider.ensure(spec_for(static_ip="198.51.100.77"))
    assert "198.51.100.77 is not a floating IP" in str(caught.value)


def test_keep_floatingip_keeps_an_allocated_address_on_delete(fake: FakeOpenStack, provider,
                                                              spec_for) -> None:
    spec = spec_for(options={a.KEEP_FLOATINGIP: "true"})
    address = provider.ensure(spec).ingress[0].ip
    provider.delete(spec.ref)
    assert fake.resources("loadbalancers") == []
    [fip] = fake.resources("floatingips")
    assert (fip["floating_ip_address"], fip["port_id"]) == (address, None)


def test_dropping_keep_floatingip_lets_delete_release_it(fake: FakeOpenStack, provider,
                                                         spec_for) -> None:
    spec = spec_for(options={a.KEEP_FLOATINGIP: "true"})
    provider.ensure(spec)
    provider.ensure(dataclasses.replace(spec, options=()))
    provider.delete(spec.ref)
    assert fake.resources("floatingips") == []


def test_floating_network_annotation_picks_the_network(fake: FakeOpenStack, provider,
                                                       spec_for) -> None:
    network, subnet = fake.add_network("Ext-Net-2", "198.51.100.0/24", external=True)
    spec = spec_for(options={a.FLOATING_NETWORK_ID: network["id"],
                             a.FLOATING_SUBNET_ID: subnet["id"]})
    address = provider.ensure(spec).ingress[0].ip
    assert address.startswith("198.51.100.")
    assert fake.resources("floatingips")[0]["floating_network_id"] == network["id"]


def test_without_configured_floating_network_the_single_external_one_is_used(
        fake: FakeOpenStack, make_provider, spec_for) -> None:
    provider = make_provider(floating_network_id=None)
    assert provider.ensure(spec_for()).ingress[0].ip.startswith("203.0.113.")


def _foreign(fake: FakeOpenStack, ref: LBRef) -> None:
    other = LBRef("other-cluster", ref.kind, ref.namespace, ref.name, ref.uid)
    fake.plant_load_balancer(name=naming.lb_name(ref), tags=naming.lb_tags(other))
    fake.plant_floating_ip(tags=naming.floating_ip_tags(other))
    with fake.store.lock:  # and a security group named the way OCCM names its own
        neutron.make_security_group(fake.store, f"lb-sg-{ref.uid}-{ref.namespace}-{ref.name}",
                                    tags=naming.child_tags(other))


def test_another_clusters_look_alike_is_never_touched(fake: FakeOpenStack, provider,
                                                      spec_for) -> None:
    spec = spec_for()
    _foreign(fake, spec.ref)
    before = fake.snapshot()
    assert provider.get(spec.ref) is None and provider.list_owned() == []
    with pytest.raises(OwnershipError):
        provider.plan(spec)
    with pytest.raises(OwnershipError):
        provider.ensure(spec)
    provider.delete(spec.ref)
    assert fake.snapshot() == before


def test_an_untagged_look_alike_is_refused_unless_adoption_is_on(fake: FakeOpenStack,
                                                                 make_provider,
                                                                 spec_for) -> None:
    spec = spec_for(nodes=2)
    planted = fake.plant_load_balancer(name=naming.lb_name(spec.ref), tags=[], ports=(80,))
    before = fake.snapshot()
    with pytest.raises(OwnershipError) as caught:
        make_provider().ensure(spec)
    assert "adoptExisting" in str(caught.value)
    make_provider().delete(spec.ref)
    assert make_provider().list_owned() == []
    assert fake.snapshot() == before
    # a migrating cluster opts in: the OCCM load balancer is adopted, tagged, converged
    status = make_provider(adopt_existing=True).ensure(spec)
    [lb] = fake.resources("loadbalancers")
    assert lb["id"] == planted["id"] == status.provider_id
    assert naming.is_ours(lb["tags"], spec.ref)
    assert sorted((li["protocol"], li["protocol_port"]) for li in fake.resources("listeners")) \
        == [("TCP", 80), ("TCP", 443), ("UDP", 53)]
    assert make_provider().list_owned() == [spec.ref]


def test_load_balancer_id_annotation_reuses_that_load_balancer(fake: FakeOpenStack, provider,
                                                               spec_for) -> None:
    planted = fake.plant_load_balancer(name="made-by-hand", tags=["team=a"], ports=(80,))
    spec = spec_for(options={a.LOAD_BALANCER_ID: planted["id"]})
    assert provider.ensure(spec).provider_id == planted["id"]
    [lb] = fake.resources("loadbalancers")
    assert "team=a" in lb["tags"] and naming.is_ours(lb["tags"], spec.ref)


def test_load_balancer_id_of_another_cluster_is_refused(fake: FakeOpenStack, provider,
                                                        spec_for) -> None:
    spec = spec_for()
    other = LBRef("other-cluster", spec.ref.kind, "x", "y", "uid-x")
    planted = fake.plant_load_balancer(name="theirs", tags=naming.lb_tags(other))
    before = fake.snapshot()
    with pytest.raises(OwnershipError):
        provider.ensure(dataclasses.replace(spec, options=((a.LOAD_BALANCER_ID,
                                                            planted["id"]),)))
    assert fake.snapshot() == before


def test_other_clusters_and_untagged_load_balancers_are_not_listed(fake: FakeOpenStack,
                                                                   make_provider,
                                                                   spec_for) -> None:
    ours = spec_for("ours")
    make_provider().ensure(ours)
    make_provider(cluster="staging").ensure(spec_for("theirs", cluster="staging"))
    fake.plant_load_balancer(name="kube_service_prod_default_orphan", tags=[])
    assert make_provider().list_owned() == [ours.ref]
