"""Every supported annotation, applied: what lands in the (fake) cloud."""

from __future__ import annotations

import dataclasses

import pytest

from cloud_lb.model import IPMode, Protocol, TrafficPolicy
from cloud_lb.provider import InvalidSpecError
from cloud_lb.testing.fakeopenstack import FakeOpenStack
from providers.openstack import annotations as a
from tests.providers.openstack.conftest import listener, local_check

TCP = (listener(80, 30080), listener(443, 30443))


def only(items):
    [item] = items
    return item


@pytest.mark.parametrize("size", ["small", "medium", "large", "xl"])
def test_ovh_flavor_picks_the_octavia_flavor_by_name(fake: FakeOpenStack, provider, spec_for,
                                                      size) -> None:
    provider.ensure(spec_for(options={a.OVH_FLAVOR: size}))
    assert only(fake.resources("loadbalancers"))["flavor_id"] == fake.flavor_id(size)


def test_flavor_id_and_availability_zone_are_passed(fake: FakeOpenStack, provider,
                                                    spec_for) -> None:
    provider.ensure(spec_for(options={a.FLAVOR_ID: fake.flavor_id("large"),
                                      a.AVAILABILITY_ZONE: "nova"}))
    lb = only(fake.resources("loadbalancers"))
    assert (lb["flavor_id"], lb["availability_zone"]) == (fake.flavor_id("large"), "nova")


def test_a_flavor_change_is_refused_not_half_applied(fake: FakeOpenStack, provider,
                                                     spec_for) -> None:
    spec = spec_for(options={a.OVH_FLAVOR: "small"})
    provider.ensure(spec)
    before = fake.snapshot()
    with pytest.raises(InvalidSpecError) as caught:
        provider.ensure(dataclasses.replace(spec, options=((a.OVH_FLAVOR, "xl"),)))
    assert "flavor_id" in str(caught.value)
    assert fake.snapshot() == before


def test_vip_subnet_network_and_port_annotations(fake: FakeOpenStack, provider,
                                                 spec_for) -> None:
    network, subnet = fake.add_network("lb-net", "172.16.0.0/24")
    provider.ensure(spec_for("by-subnet", options={a.SUBNET_ID: subnet["id"]}))
    provider.ensure(spec_for("by-network", options={a.NETWORK_ID: network["id"]}))
    port = fake.store.put("ports", {**fake.resources("ports")[0], "id": "vip-port-1",
                                    "fixed_ips": [{"subnet_id": subnet["id"],
                                                   "ip_address": "172.16.0.200"}]})
    provider.ensure(spec_for("by-port", options={a.PORT_ID: port["id"]}))
    by_name = {lb["name"]: lb for lb in fake.resources("loadbalancers")}
    assert by_name["kube_service_prod_default_by-subnet"]["vip_subnet_id"] == subnet["id"]
    assert by_name["kube_service_prod_default_by-network"]["vip_network_id"] == network["id"]
    assert by_name["kube_service_prod_default_by-port"]["vip_address"] == "172.16.0.200"


def test_member_subnet_annotation_places_members(fake: FakeOpenStack, provider,
                                                 spec_for) -> None:
    _, subnet = fake.add_network("nodes", "10.0.5.0/24")
    provider.ensure(spec_for(options={a.MEMBER_SUBNET_ID: subnet["id"]}))
    assert {m["subnet_id"] for m in fake.resources("members")} == {subnet["id"]}


def test_listener_timeouts_connection_limit_and_method(fake: FakeOpenStack, provider,
                                                       spec_for) -> None:
    spec = spec_for(listeners=TCP, options={
        a.TIMEOUT_CLIENT_DATA: "61000", a.TIMEOUT_MEMBER_CONNECT: "4000",
        a.TIMEOUT_MEMBER_DATA: "62000", a.TIMEOUT_TCP_INSPECT: "5",
        a.CONNECTION_LIMIT: "2000", a.LB_METHOD: "LEAST_CONNECTIONS"})
    provider.ensure(spec)
    for li in fake.resources("listeners"):
        assert (li["timeout_client_data"], li["timeout_member_connect"],
                li["timeout_member_data"], li["timeout_tcp_inspect"],
                li["connection_limit"]) == (61000, 4000, 62000, 5, 2000)
    assert {p["lb_algorithm"] for p in fake.resources("pools")} == {"LEAST_CONNECTIONS"}
    # removing the annotations restores Octavia's defaults, in place
    fake.calls.reset()
    provider.ensure(dataclasses.replace(spec, options=()))
    assert fake.calls.count(method="POST") == 0
    assert {li["timeout_client_data"] for li in fake.resources("listeners")} == {50000}


def test_proxy_protocol_pools_and_proxy_ip_mode(fake: FakeOpenStack, provider,
                                                spec_for) -> None:
    status = provider.ensure(spec_for(listeners=TCP, options={a.PROXY_PROTOCOL: "v2"}))
    assert {p["protocol"] for p in fake.resources("pools")} == {"PROXYV2"}
    assert status.ingress[0].ip_mode is IPMode.PROXY


def test_x_forwarded_for_makes_http_listeners(fake: FakeOpenStack, provider,
                                              spec_for) -> None:
    provider.ensure(spec_for(listeners=TCP, options={a.X_FORWARDED_FOR: "true"}))
    for li in fake.resources("listeners"):
        assert (li["protocol"], li["insert_headers"]) == ("HTTP", {"X-Forwarded-For": "true"})


def test_hostname_annotation_publishes_the_hostname(provider, spec_for) -> None:
    status = provider.ensure(spec_for(options={a.HOSTNAME: "lb.example.com"}))
    assert (status.ingress[0].hostname, status.ingress[0].ip) == ("lb.example.com", None)


def test_internal_annotation_skips_the_floating_ip(fake: FakeOpenStack, provider,
                                                  spec_for) -> None:
    status = provider.ensure(spec_for(options={a.INTERNAL: "true"}))
    assert fake.resources("floatingips") == []
    assert status.ingress[0].ip == only(fake.resources("loadbalancers"))["vip_address"]


def test_health_monitor_annotations(fake: FakeOpenStack, provider, spec_for) -> None:
    spec = spec_for(listeners=TCP, options={a.HM_DELAY: "11", a.HM_TIMEOUT: "6",
                                            a.HM_MAX_RETRIES: "4", a.HM_MAX_RETRIES_DOWN: "7"})
    provider.ensure(spec)
    for hm in fake.resources("healthmonitors"):
        assert (hm["delay"], hm["timeout"], hm["max_retries"], hm["max_retries_down"]) == (
            11, 6, 4, 7)
    provider.ensure(dataclasses.replace(spec, options=((a.ENABLE_HEALTH_MONITOR, "false"),)))
    assert fake.resources("healthmonitors") == []
    assert {m["operating_status"] for m in fake.resources("members")} == {"NO_MONITOR"}


def test_local_policy_monitors_the_health_check_node_port(fake: FakeOpenStack, provider,
                                                          spec_for) -> None:
    check = local_check(31999)
    spec = spec_for(traffic_policy=TrafficPolicy.LOCAL,
                    listeners=(listener(80, 30080, check=check),
                               listener(53, 30053, Protocol.UDP, check=check)))
    provider.ensure(spec)
    assert {(hm["type"], hm["url_path"]) for hm in fake.resources("healthmonitors")} == {
        ("HTTP", "/healthz")}
    assert {m["monitor_port"] for m in fake.resources("members")} == {31999}
    # switching to Cluster moves the check to kube-proxy without touching listeners
    cluster = dataclasses.replace(spec, traffic_policy=TrafficPolicy.CLUSTER,
                                  listeners=(listener(80, 30080), listener(53, 30053,
                                                                          Protocol.UDP)))
    fake.calls.reset()
    provider.ensure(cluster)
    assert {m["monitor_port"] for m in fake.resources("members")} == {10256}
    assert fake.calls.count(method="PUT", route="/v2/lbaas/listeners/{id}") == 0


def test_cluster_policy_tcp_config_checks_node_ports(fake: FakeOpenStack, make_provider,
                                                     spec_for) -> None:
    provider = make_provider(health_monitor={"cluster_policy": "tcp"})
    provider.ensure(spec_for())
    assert sorted(hm["type"] for hm in fake.resources("healthmonitors")) == [
        "TCP", "TCP", "UDP-CONNECT"]
    assert {m["monitor_port"] for m in fake.resources("members")} == {None}


def test_source_ranges_become_allowed_cidrs_and_can_be_cleared(fake: FakeOpenStack, provider,
                                                              spec_for) -> None:
    spec = spec_for(source_ranges=("192.0.2.0/24", "198.51.100.0/25"))
    provider.ensure(spec)
    assert {tuple(li["allowed_cidrs"]) for li in fake.resources("listeners")} == {
        ("192.0.2.0/24", "198.51.100.0/25")}
    provider.ensure(dataclasses.replace(spec, source_ranges=()))
    assert {li["allowed_cidrs"] for li in fake.resources("listeners")} == {None}
