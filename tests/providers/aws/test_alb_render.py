"""The ALB rendering as data: path patterns, health checks, certificates, and what is
refused before any AWS call (each case says what it proves). No AWS here."""

from __future__ import annotations

import dataclasses
import uuid

import pytest

from cloud_lb.model import (
    HealthCheck,
    HealthCheckProtocol,
    L7Rule,
    LBRef,
    ObjectKind,
    PathType,
)
from cloud_lb.provider import CloudError, InvalidSpecError
from providers.aws import alb_annotations
from providers.aws.alb_annotations import ALBOptions
from providers.aws.alb_checks import ALBSettings, path_values, scheme_conflict
from providers.aws.alb_render import alb_health, render_alb
from providers.aws.render import Placement, Settings
from providers.aws.subnets import SubnetInfo
from tests.providers.aws.ingress import COFFEE, TEA, backend, cafe, cert

REF = LBRef("c1", ObjectKind.INGRESS, "default", "cafe", str(uuid.uuid4()))
TWO_ZONES = Placement(
    subnets=(
        SubnetInfo("subnet-a", "eu-west-3a", "10.0.1.0/24"),
        SubnetInfo("subnet-b", "eu-west-3b", "10.0.2.0/24"),
    ),
    node_security_groups=("sg-nodes",),
)


def render(spec, opts=None, placement=TWO_ZONES, **limits):  # type: ignore[no-untyped-def]
    return render_alb(
        spec,
        opts or ALBOptions(),
        placement=placement,
        settings=Settings(),
        limits=ALBSettings(**limits),
    )


def rule(path: str, kind: PathType = PathType.PREFIX, host: str = "") -> L7Rule:
    return L7Rule(host, path, kind, COFFEE)


@pytest.mark.parametrize(
    ("path", "kind", "values", "why"),
    [
        ("/foo", PathType.EXACT, ("/foo",), "Exact is the path itself"),
        ("/", PathType.EXACT, ("/",), "Exact / is only /"),
        ("/foo", PathType.PREFIX, ("/foo", "/foo/*"), "Prefix is element-wise: not /foobar"),
        ("/", PathType.PREFIX, ("/*",), "Prefix / matches everything"),
        ("/a/b.c", PathType.PREFIX, ("/a/b.c", "/a/b.c/*"), "dots and slashes are literal"),
    ],
)
def test_path_patterns(path: str, kind: PathType, values: tuple[str, ...], why: str) -> None:
    assert path_values(rule(path, kind)) == values, why


@pytest.mark.parametrize(
    ("spec_change", "opts", "field", "why"),
    [
        ({"rules": (rule("/a*b"),)}, {}, "spec.rules.http.paths.path", "* would be a wildcard"),
        ({"rules": (rule("/a?b"),)}, {}, "spec.rules.http.paths.path", "? would be a wildcard"),
        ({"rules": (rule("/caf%C3%A9"),)}, {}, "spec.rules.http.paths.path", "% is not allowed"),
        ({"rules": (rule("/" + "a" * 126),)}, {}, "spec.rules.http.paths.path", "/p/* > 128"),
        ({"rules": (rule("/", host="a_b.example.com"),)}, {}, "spec.rules.host", "bad host"),
        ({"https_redirect": True}, {}, alb_annotations.SSL_REDIRECT, "redirect needs HTTPS"),
        (
            {"rules": (dataclasses.replace(rule("/"), backend=backend("x", 30001)),)},
            {"alb.ingress.kubernetes.io/group.name": "shop"},
            alb_annotations.GROUP_NAME,
            "one ALB per Ingress",
        ),
        (
            {},
            {"alb.ingress.kubernetes.io/target-type": "ip"},
            alb_annotations.TARGET_TYPE,
            "instance targets only",
        ),
        (
            {},
            {"alb.ingress.kubernetes.io/inbound-cidrs": "10.0.0.1/8"},
            alb_annotations.INBOUND_CIDRS,
            "host bits set",
        ),
        (
            {},
            {"alb.ingress.kubernetes.io/certificate-arn": "my-cert"},
            alb_annotations.CERTIFICATE_ARN,
            "not an ARN",
        ),
        (
            {},
            {"alb.ingress.kubernetes.io/ssl-policy": "TLS 1.3"},
            alb_annotations.SSL_POLICY,
            "not a policy name",
        ),
        (
            {},
            {"alb.ingress.kubernetes.io/success-codes": "2xx"},
            alb_annotations.SUCCESS_CODES,
            "codes",
        ),
        (
            {},
            {"alb.ingress.kubernetes.io/tags": "kubernetes.io/cluster/x=owned"},
            alb_annotations.TAGS,
            "reserved tag",
        ),
        (
            {},
            {"alb.ingress.kubernetes.io/ssl-redirect": "https"},
            alb_annotations.SSL_REDIRECT,
            "a port",
        ),
        (
            {"internal": True},
            {"alb.ingress.kubernetes.io/scheme": "internet-facing"},
            alb_annotations.SCHEME,
            "contradiction",
        ),
    ],
)
def test_refused_before_any_call(spec_change: dict, opts: dict, field: str, why: str) -> None:  # type: ignore[type-arg]
    spec = dataclasses.replace(cafe(REF, ()), **spec_change)
    spec = dataclasses.replace(spec, options=tuple(sorted(opts.items())))
    with pytest.raises(InvalidSpecError) as err:
        parsed = alb_annotations.parse(spec.options)
        scheme_conflict(spec, parsed)
        render(spec, parsed)
    assert err.value.field == field, why


def test_quotas_are_checked_per_listener() -> None:
    rules = tuple(rule(f"/p{i}") for i in range(30))
    spec = cafe(REF, (), rules=rules, tls=(cert(),))
    render(spec, rule_limit=60)  # 30 paths x 2 listeners fit
    with pytest.raises(InvalidSpecError, match="quota is 59"):
        render(spec, rule_limit=59)
    # with the redirect, only the HTTPS listener carries rules
    render(dataclasses.replace(spec, https_redirect=True), rule_limit=30)


def test_an_alb_needs_two_zones() -> None:
    one = dataclasses.replace(TWO_ZONES, subnets=TWO_ZONES.subnets[:1])
    with pytest.raises(CloudError, match="two availability zones"):
        render(cafe(REF, ()), placement=one)  # discovery found too few: retry later
    opts = alb_annotations.parse([(alb_annotations.SUBNETS, "subnet-a")])
    with pytest.raises(InvalidSpecError) as err:
        render(cafe(REF, ()), opts, placement=one)  # the user named too few
    assert err.value.field == alb_annotations.SUBNETS


def test_health_checks_follow_the_backend() -> None:
    # Cluster policy: GET the path on the node port itself
    assert alb_health(TEA, ALBOptions()).port == "traffic-port"
    assert alb_health(TEA, ALBOptions()).path == "/healthz"
    # Local policy: the healthCheckNodePort, and the annotation's success codes
    local = dataclasses.replace(
        COFFEE, health_check=HealthCheck(HealthCheckProtocol.HTTP, 31999, "/healthz")
    )
    hc = alb_health(local, ALBOptions(success_codes="200"))
    assert (hc.port, hc.path, hc.matcher) == ("31999", "/healthz", "200")
    # an ALB checks over HTTP only; AWS's ranges bound the timings
    tcp = dataclasses.replace(
        COFFEE,
        health_check=HealthCheck(
            HealthCheckProtocol.TCP, COFFEE.node_port, interval_seconds=1, timeout_seconds=1
        ),
    )
    hc = alb_health(tcp, ALBOptions())
    assert (hc.protocol, hc.path, hc.interval, hc.timeout) == ("HTTP", "/", 5, 2)


def test_the_default_certificate_is_the_hostless_secret_and_keys_stay_hidden() -> None:
    sni, default = cert("a-tls", ("tea.example.com",)), cert("b-tls", ())
    desired = render(cafe(REF, (), tls=(sni, default)))
    https = desired.listeners[1]
    assert https.certificates == (f"cert:{default.fingerprint}", f"cert:{sni.fingerprint}")
    assert {c.secret for c in desired.certificates} == {"a-tls", "b-tls"}
    body = default.key_pem.splitlines()[1]
    assert body not in repr(desired)
    # annotated ARNs replace the Secrets: nothing to import
    arn = "arn:aws:acm:eu-west-3:123456789012:certificate/abc"
    annotated = render(
        cafe(REF, (), tls=(sni,)), alb_annotations.parse([(alb_annotations.CERTIFICATE_ARN, arn)])
    )
    assert annotated.certificates == () and annotated.listeners[1].certificates == (arn,)


def test_every_backend_gets_one_target_group_and_the_default_forwards() -> None:
    desired = render(cafe(REF, (), default_backend=TEA))
    assert sorted(tg.port for tg in desired.base.target_groups) == [30101, 30102]
    http = desired.listeners[0]
    assert http.default_action.type == "forward"
    assert [r.priority for r in http.rules] == [1, 2, 3, 4]
    assert desired.base.lb.type == "application"
    assert desired.base.lb.security_groups == ("<frontend-sg>", "<backend-sg>")
