"""Rendering (spec -> desired AWS objects) and diffing are pure: tested as data."""

from __future__ import annotations

import dataclasses

import pytest

from cloud_lb.model import (
    Backend,
    HealthCheck,
    HealthCheckProtocol,
    IPFamily,
    LBRef,
    Listener,
    LoadBalancerSpec,
    ObjectKind,
    Protocol,
)
from cloud_lb.provider import InvalidSpecError
from providers.aws import annotations as ann
from providers.aws.annotations import parse
from providers.aws.config import SecurityGroupMode
from providers.aws.diff import diff
from providers.aws.naming import rule_description
from providers.aws.render import Placement, Settings, check_spec, health_check, render
from providers.aws.security_groups import BACKEND, FRONTEND
from providers.aws.state import Observed
from providers.aws.subnets import SubnetInfo
from tests.providers.aws.conftest import KUBE_PROXY, tcp, udp

REF = LBRef("prod", ObjectKind.SERVICE, "default", "web", "uid-1")
PLACEMENT = Placement(
    subnets=(
        SubnetInfo("subnet-a", "za", "10.0.1.0/24"),
        SubnetInfo("subnet-b", "zb", "10.0.2.0/24"),
    ),
    node_security_groups=("sg-nodes",),
    vpc_cidrs=("10.0.0.0/16",),
)
LOCAL_CHECK = HealthCheck(protocol=HealthCheckProtocol.HTTP, port=31999, path="/healthz")
TCP_CHECK = HealthCheck(protocol=HealthCheckProtocol.TCP, port=30080)


def spec(*listeners: Listener, **kwargs: object) -> LoadBalancerSpec:
    backends = (
        Backend("n1", "10.0.1.5", "aws:///za/i-01"),
        Backend("n2", "10.0.2.5", "aws:///zb/i-02"),
        Backend("n3", "10.0.2.6", ""),
    )
    return LoadBalancerSpec(ref=REF, listeners=listeners or (tcp(),), backends=backends, **kwargs)  # type: ignore[arg-type]


def test_tcp_and_udp_on_one_port_become_tcp_udp() -> None:
    groups = check_spec(spec(tcp(53, 30053), udp(53, 30053), tcp(80, 30080)), parse(()))
    assert [(g.port, g.protocol, g.node_port) for g in groups] == [
        (53, "TCP_UDP", 30053),
        (80, "TCP", 30080),
    ]


@pytest.mark.parametrize(
    ("bad", "field"),
    [
        (spec(tcp(53, 30053), udp(53, 30054)), "spec.ports.nodePort"),
        (spec(Listener("s", Protocol.SCTP, 9, 30009, KUBE_PROXY)), "spec.ports.protocol"),
        (spec(tcp(80, 0)), "spec.allocateLoadBalancerNodePorts"),
        (
            spec(source_ranges=("10.0.0.0/8",), options=((ann.SECURITY_GROUPS, "sg-1"),)),
            ann.SECURITY_GROUPS,
        ),
        (
            spec(
                ip_families=(IPFamily.IPV4, IPFamily.IPV6), options=((ann.IP_ADDRESS_TYPE, "ipv4"),)
            ),
            ann.IP_ADDRESS_TYPE,
        ),
    ],
)
def test_what_an_nlb_cannot_serve_is_rejected(bad: LoadBalancerSpec, field: str) -> None:
    with pytest.raises(InvalidSpecError) as err:
        check_spec(bad, parse(bad.options))
    assert err.value.field == field


def test_health_checks_local_cluster_tcp_and_udp() -> None:
    from providers.aws.render import PortGroup

    local = health_check(PortGroup(80, "TCP", 30080, LOCAL_CHECK), parse(()))
    assert (local.protocol, local.port, local.path) == ("HTTP", "31999", "/healthz")
    cluster = health_check(PortGroup(80, "TCP", 30080, KUBE_PROXY), parse(()))
    assert (cluster.protocol, cluster.port) == ("HTTP", "10256")
    on_traffic = health_check(PortGroup(80, "TCP", 30080, TCP_CHECK), parse(()))
    assert (on_traffic.protocol, on_traffic.port, on_traffic.path) == ("TCP", "traffic-port", None)
    # a UDP node port cannot answer a TCP probe: kube-proxy answers instead
    udp_check = health_check(
        PortGroup(53, "UDP", 30053, HealthCheck(protocol=HealthCheckProtocol.TCP, port=30053)),
        parse(()),
    )
    assert (udp_check.protocol, udp_check.port, udp_check.path) == ("HTTP", "10256", "/healthz")
    assert udp_check.timeout < udp_check.interval


def test_annotations_override_health_checks_field_by_field() -> None:
    from providers.aws.render import PortGroup

    opts = parse(
        {
            ann.HC_PROTOCOL: "tcp",
            ann.HC_PORT: "traffic-port",
            ann.HC_INTERVAL: "30",
            ann.HC_UNHEALTHY: "4",
        }.items()
    )
    hc = health_check(PortGroup(80, "TCP", 30080, LOCAL_CHECK), opts)
    assert (hc.protocol, hc.port, hc.path, hc.interval, hc.unhealthy, hc.matcher) == (
        "TCP",
        "traffic-port",
        None,
        30,
        4,
        None,
    )
    with pytest.raises(InvalidSpecError):
        health_check(PortGroup(53, "UDP", 30053, KUBE_PROXY), opts)


def test_render_load_balancer_mode() -> None:
    desired = render(
        spec(tcp(80, 30080), udp(53, 30053), source_ranges=("1.2.3.0/24",)),
        parse({ann.PROXY_PROTOCOL: "*", ann.CROSS_ZONE: "true"}.items()),
        placement=PLACEMENT,
        settings=Settings(),
    )
    assert desired.lb.security_groups == (FRONTEND, BACKEND)
    assert dict(desired.lb.attributes) == {"load_balancing.cross_zone.enabled": "true"}
    assert desired.targets == {"i-01", "i-02"} and desired.skipped_backends == ("n3",)
    tcp_tg = next(tg for tg in desired.target_groups if tg.protocol == "TCP")
    udp_tg = next(tg for tg in desired.target_groups if tg.protocol == "UDP")
    assert dict(tcp_tg.attributes) == {"proxy_protocol_v2.enabled": "true"}
    assert dict(udp_tg.attributes) == {}  # no proxy protocol for UDP on AWS
    rules = {(str(r), r.description) for r in desired.rules}
    ours, shared = rule_description(REF), "cloud-lb/prod/shared"
    assert rules == {
        (f"{FRONTEND} tcp/80 from 1.2.3.0/24", ours),
        (f"{FRONTEND} udp/53 from 1.2.3.0/24", ours),
        # the nodes admit the cluster's backend group: the same few rules for every Service
        (f"sg-nodes tcp/30000-32767 from {BACKEND}", shared),
        (f"sg-nodes udp/30000-32767 from {BACKEND}", shared),
        (f"sg-nodes tcp/10256 from {BACKEND}", shared),
    }


def test_render_nodes_mode_puts_clients_and_health_checks_on_the_nodes() -> None:
    desired = render(
        spec(tcp(80, 30080), source_ranges=("1.2.3.0/24",)),
        parse(()),
        placement=PLACEMENT,
        settings=Settings(mode=SecurityGroupMode.NODES),
    )
    assert desired.lb.security_groups == () and desired.frontend_sg is None
    rules = {(str(r), r.description) for r in desired.rules}
    assert rules == {
        ("sg-nodes tcp/30080 from 1.2.3.0/24", rule_description(REF)),
        # kube-proxy's port serves every Service: shared, never revoked by one of them
        ("sg-nodes tcp/10256 from 10.0.0.0/16", "cloud-lb/prod/shared"),
    }


def test_dualstack_opens_ipv6_by_default() -> None:
    desired = render(
        spec(tcp(80, 30080), ip_families=(IPFamily.IPV4, IPFamily.IPV6)),
        parse(()),
        placement=PLACEMENT,
        settings=Settings(),
    )
    assert desired.lb.ip_address_type == "dualstack"
    assert {r.cidr for r in desired.rules if r.group_id == FRONTEND} == {"0.0.0.0/0", "::/0"}


def test_static_addresses_are_fingerprinted_on_the_nlb() -> None:
    plain = render(spec(), parse(()), placement=PLACEMENT, settings=Settings())
    pinned = render(
        spec(),
        parse(()),
        settings=Settings(),
        placement=dataclasses.replace(PLACEMENT, allocation_ids=("eipalloc-1", "eipalloc-2")),
    )
    assert plain.lb.static_addresses == ""
    assert pinned.lb.static_addresses and dict(pinned.lb.tags)["cloud-lb.io/static-addresses"]
    assert [m.allocation_id for m in pinned.lb.subnets] == ["eipalloc-1", "eipalloc-2"]


def test_nothing_observed_means_create_everything() -> None:
    desired = render(
        spec(tcp(80, 30080), udp(53, 30053)), parse(()), placement=PLACEMENT, settings=Settings()
    )
    d = diff(desired, Observed(), our_description=rule_description(REF))
    assert d.create_frontend_sg and d.lb.create
    assert len(d.target_groups.create) == 2 and len(d.listeners.create) == 2
    assert {c.register for c in d.targets} == {("i-01", "i-02")}
    assert not d.rules.revoke and len(d.rules.authorize) == len(desired.rules)
    assert not d.empty
