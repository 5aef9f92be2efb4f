"""Annotation parsing: every supported annotation, and bad values rejected with the
annotation's name before any cloud call."""

from __future__ import annotations

import dataclasses

import pytest

from cloud_lb.model import Protocol
from cloud_lb.provider import InvalidSpecError
from providers.openstack import annotations as a
from tests.providers.openstack.conftest import listener

GOOD = [
    (a.INTERNAL, "true", "internal", True),
    (a.FLOATING_NETWORK_ID, "net-1", "floating_network_id", "net-1"),
    (a.FLOATING_SUBNET_ID, "sub-9", "floating_subnet_id", "sub-9"),
    (a.SUBNET_ID, "sub-1", "subnet_id", "sub-1"),
    (a.NETWORK_ID, "net-2", "network_id", "net-2"),
    (a.PORT_ID, "port-1", "port_id", "port-1"),
    (a.MEMBER_SUBNET_ID, "sub-2", "member_subnet_id", "sub-2"),
    (a.KEEP_FLOATINGIP, "true", "keep_floating_ip", True),
    (a.PROXY_PROTOCOL, "true", "proxy_protocol", "PROXY"),
    (a.PROXY_PROTOCOL, "v2", "proxy_protocol", "PROXYV2"),
    (a.PROXY_PROTOCOL, "false", "proxy_protocol", None),
    (a.TIMEOUT_CLIENT_DATA, "60000", "timeout_client_data", 60000),
    (a.TIMEOUT_MEMBER_CONNECT, "3000", "timeout_member_connect", 3000),
    (a.TIMEOUT_MEMBER_DATA, "70000", "timeout_member_data", 70000),
    (a.TIMEOUT_TCP_INSPECT, "10", "timeout_tcp_inspect", 10),
    (a.CONNECTION_LIMIT, "1000", "connection_limit", 1000),
    (a.FLAVOR_ID, "f-1", "flavor_id", "f-1"),
    (a.OVH_FLAVOR, "Medium", "ovh_flavor", "medium"),
    (a.AVAILABILITY_ZONE, "az-1", "availability_zone", "az-1"),
    (a.ENABLE_HEALTH_MONITOR, "false", "health_monitor", False),
    (a.HM_DELAY, "10s", "hm_delay", 10),
    (a.HM_TIMEOUT, "4", "hm_timeout", 4),
    (a.HM_MAX_RETRIES, "3", "hm_max_retries", 3),
    (a.HM_MAX_RETRIES_DOWN, "5", "hm_max_retries_down", 5),
    (a.X_FORWARDED_FOR, "true", "x_forwarded_for", True),
    (a.HOSTNAME, "Web.Example.COM", "hostname", "web.example.com"),
    (a.LOAD_BALANCER_ID, "lb-123", "load_balancer_id", "lb-123"),
    (a.LB_METHOD, "least_connections", "lb_method", "LEAST_CONNECTIONS"),
]

BAD = [
    (a.INTERNAL, "yes"), (a.KEEP_FLOATINGIP, "1"), (a.PROXY_PROTOCOL, "v3"),
    (a.TIMEOUT_CLIENT_DATA, "-1"), (a.TIMEOUT_MEMBER_DATA, "forever"),
    (a.CONNECTION_LIMIT, "-2"), (a.OVH_FLAVOR, "huge"), (a.HM_DELAY, "0"),
    (a.HM_MAX_RETRIES, "11"), (a.HM_MAX_RETRIES_DOWN, "0"), (a.HOSTNAME, "not a host"),
    (a.SUBNET_ID, "bad id/with slash"), (a.LB_METHOD, "RANDOM"),
    (a.ENABLE_HEALTH_MONITOR, "maybe"),
]


@pytest.mark.parametrize(("key", "value", "attr", "expected"), GOOD)
def test_each_supported_annotation_is_parsed(spec_for, key, value, attr, expected) -> None:
    options = a.parse(spec_for(options={key: value}, listeners=(listener(80, 30080),)))
    assert getattr(options, attr) == expected


@pytest.mark.parametrize(("key", "value"), BAD)
def test_a_bad_value_is_an_invalid_spec_naming_the_annotation(spec_for, key, value) -> None:
    with pytest.raises(InvalidSpecError) as caught:
        a.parse(spec_for(options={key: value}, listeners=(listener(80, 30080),)))
    assert caught.value.field == key
    assert key in str(caught.value)


def test_no_annotations_means_every_default(spec_for) -> None:
    assert a.parse(spec_for()) == a.ServiceOptions()


def test_unrelated_annotations_are_ignored(spec_for) -> None:
    options = a.parse(spec_for(options={"example.com/owner": "team-a",
                                        "loadbalancer.openstack.org/class": "x"}))
    assert options == a.ServiceOptions()


@pytest.mark.parametrize(("options", "field"), [
    ({a.PROXY_PROTOCOL: "true"}, a.PROXY_PROTOCOL),  # the spec has a UDP port
    ({a.X_FORWARDED_FOR: "true"}, a.X_FORWARDED_FOR),  # idem
    ({a.FLAVOR_ID: "f", a.OVH_FLAVOR: "small"}, a.OVH_FLAVOR),
    ({a.HM_DELAY: "3", a.HM_TIMEOUT: "5"}, a.HM_TIMEOUT),
    ({a.PORT_ID: "p", a.SUBNET_ID: "s"}, a.PORT_ID),
])
def test_contradictory_annotations_are_rejected(spec_for, options, field) -> None:
    """Each case proves a combination the cloud cannot serve is refused up front."""
    with pytest.raises(InvalidSpecError) as caught:
        a.parse(spec_for(options=options))
    assert caught.value.field == field


def test_proxy_protocol_on_tcp_only_services_is_accepted(spec_for) -> None:
    spec = spec_for(options={a.PROXY_PROTOCOL: "v2"},
                    listeners=(listener(80, 30080), listener(443, 30443, Protocol.TCP)))
    assert a.parse(spec).proxy_protocol == "PROXYV2"


def test_options_are_frozen_values() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        a.ServiceOptions().internal = True  # type: ignore[misc]
