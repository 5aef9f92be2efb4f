"""Annotation parsing is pure and rejects bad values naming the annotation."""

from __future__ import annotations

import pytest

from cloud_lb.provider import InvalidSpecError
from providers.aws import annotations as ann
from providers.aws.annotations import parse


def test_no_annotations_mean_defaults() -> None:
    opts = parse(())
    assert opts.scheme is None and not opts.cross_zone and not opts.proxy_protocol
    assert opts.dualstack is None and opts.subnets == () and opts.eip_allocations == ()


@pytest.mark.parametrize(
    ("annotations", "scheme"),
    [
        ({ann.INTERNAL: "true"}, "internal"),
        ({ann.INTERNAL: "0.0.0.0/0"}, "internal"),  # legacy value: anything but "false"
        ({ann.INTERNAL: "false"}, "internet-facing"),
        ({ann.SCHEME: "internal"}, "internal"),
        ({ann.SCHEME: "internet-facing", ann.INTERNAL: "true"}, "internet-facing"),  # scheme wins
    ],
)
def test_scheme_from_internal_and_scheme_annotations(
    annotations: dict[str, str], scheme: str
) -> None:
    assert parse(annotations.items()).scheme == scheme


def test_full_set_parses() -> None:
    opts = parse(
        {
            ann.TYPE: "external",
            ann.NLB_TARGET_TYPE: "instance",
            ann.SCHEME: "internet-facing",
            ann.SUBNETS: "subnet-1, public-b",
            ann.EIP_ALLOCATIONS: "eipalloc-0a,eipalloc-0b",
            ann.CROSS_ZONE: "true",
            ann.PROXY_PROTOCOL: "*",
            ann.ADDITIONAL_TAGS: "team=web, cost=42",
            ann.SECURITY_GROUPS: "sg-1,frontend",
            ann.IP_ADDRESS_TYPE: "dualstack",
            ann.TARGET_GROUP_ATTRIBUTES: "deregistration_delay.timeout_seconds=30",
            ann.HC_PROTOCOL: "http",
            ann.HC_PORT: "8080",
            ann.HC_PATH: "/ready",
            ann.HC_INTERVAL: "10",
            ann.HC_TIMEOUT: "4",
            ann.HC_HEALTHY: "2",
            ann.HC_UNHEALTHY: "5",
            ann.HC_SUCCESS_CODES: "200-299",
        }.items()
    )
    assert opts.subnets == ("subnet-1", "public-b")
    assert opts.eip_allocations == ("eipalloc-0a", "eipalloc-0b")
    assert opts.cross_zone and opts.proxy_protocol and opts.dualstack
    assert opts.additional_tags == (("cost", "42"), ("team", "web"))
    assert opts.security_groups == ("sg-1", "frontend")
    assert opts.target_group_attributes == (("deregistration_delay.timeout_seconds", "30"),)
    hc = opts.health_check
    assert (hc.protocol, hc.port, hc.path, hc.interval, hc.timeout) == (
        "HTTP",
        "8080",
        "/ready",
        10,
        4,
    )
    assert (hc.healthy_threshold, hc.unhealthy_threshold, hc.success_codes) == (2, 5, "200-299")


@pytest.mark.parametrize(
    ("annotations", "field"),
    [
        ({ann.TYPE: "clb"}, ann.TYPE),
        ({ann.NLB_TARGET_TYPE: "ip"}, ann.NLB_TARGET_TYPE),
        ({ann.SCHEME: "public"}, ann.SCHEME),
        ({ann.EIP_ALLOCATIONS: "10.0.0.1"}, ann.EIP_ALLOCATIONS),
        ({ann.SCHEME: "internal", ann.EIP_ALLOCATIONS: "eipalloc-1"}, ann.EIP_ALLOCATIONS),
        ({ann.PRIVATE_IPV4: "10.0.1.10"}, ann.PRIVATE_IPV4),  # needs internal
        ({ann.SCHEME: "internal", ann.PRIVATE_IPV4: "10.0.1"}, ann.PRIVATE_IPV4),
        ({ann.SUBNETS: "a,b", ann.EIP_ALLOCATIONS: "eipalloc-1"}, ann.EIP_ALLOCATIONS),
        ({ann.EIP_ALLOCATIONS: "eipalloc-1,eipalloc-1"}, ann.EIP_ALLOCATIONS),
        ({ann.CROSS_ZONE: "yes"}, ann.CROSS_ZONE),
        ({ann.PROXY_PROTOCOL: "80"}, ann.PROXY_PROTOCOL),
        ({ann.ADDITIONAL_TAGS: "aws:owner=x"}, ann.ADDITIONAL_TAGS),
        ({ann.ADDITIONAL_TAGS: "cloud-lb.io/uid=x"}, ann.ADDITIONAL_TAGS),
        ({ann.ADDITIONAL_TAGS: "novalue"}, ann.ADDITIONAL_TAGS),
        ({ann.IP_ADDRESS_TYPE: "ipv6"}, ann.IP_ADDRESS_TYPE),
        (
            {ann.TARGET_GROUP_ATTRIBUTES: "proxy_protocol_v2.enabled=true"},
            ann.TARGET_GROUP_ATTRIBUTES,
        ),
        ({ann.HC_PROTOCOL: "udp"}, ann.HC_PROTOCOL),
        ({ann.HC_PORT: "http"}, ann.HC_PORT),
        ({ann.HC_PATH: "healthz"}, ann.HC_PATH),
        ({ann.HC_INTERVAL: "1"}, ann.HC_INTERVAL),
        ({ann.HC_INTERVAL: "10", ann.HC_TIMEOUT: "10"}, ann.HC_TIMEOUT),
        ({ann.HC_HEALTHY: "11"}, ann.HC_HEALTHY),
        ({ann.HC_SUCCESS_CODES: "ok"}, ann.HC_SUCCESS_CODES),
        ({ann.SSL_CERT: "arn:aws:acm:x"}, ann.SSL_CERT),
    ],
)
def test_invalid_values_name_their_annotation(annotations: dict[str, str], field: str) -> None:
    with pytest.raises(InvalidSpecError) as err:
        parse(annotations.items())
    assert err.value.field == field
    assert field in str(err.value)


def test_unknown_annotations_are_ignored() -> None:
    assert parse(
        {
            "service.beta.kubernetes.io/aws-load-balancer-something-new": "x",
            "example.com/other": "y",
        }.items()
    ) == parse(())
