"""Pure parts of the Ingress path: rules -> Octavia L7 rules (and what their regular
expressions match, Kubernetes' Prefix examples as the table), HTTPS redirect hosts,
and the few writes that reorder a listener's policies."""

from __future__ import annotations

import os
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cloud_lb.model import PathType
from cloud_lb.provider import InvalidSpecError
from providers.openstack.l7_order import Placement, longest_increasing, placements, simulate
from providers.openstack.l7_policies import DesiredRule, host_rule, path_rule, redirect_hosts
from tests.providers.openstack.ingress_specs import WEB, ingress, rule, tls

EXAMPLES = 200 if os.environ.get("CLOUD_LB_FULL") == "1" else 40


def matches(rule_: DesiredRule | None, value: str) -> bool:
    """What haproxy does with the rule (hosts case-insensitively)."""
    if rule_ is None:
        return True
    flags = re.IGNORECASE if rule_.type == "HOST_NAME" else 0
    if rule_.compare_type == "REGEX":
        return re.search(rule_.value, value, flags) is not None
    if rule_.compare_type == "STARTS_WITH":
        return value.startswith(rule_.value)
    return (value.lower() == rule_.value.lower()) if flags else value == rule_.value


# (pathType, path, request path, matches?) - the table of the Kubernetes Ingress docs
K8S_EXAMPLES = [
    (PathType.PREFIX, "/", "/anything", True),
    (PathType.EXACT, "/foo", "/foo", True),
    (PathType.EXACT, "/foo", "/bar", False),
    (PathType.EXACT, "/foo", "/foo/", False),
    (PathType.EXACT, "/foo/", "/foo", False),
    (PathType.PREFIX, "/foo", "/foo", True),
    (PathType.PREFIX, "/foo", "/foo/", True),
    (PathType.PREFIX, "/aaa/bb", "/aaa/bbb", False),
    (PathType.PREFIX, "/aaa/bbb", "/aaa/bbb", True),
    (PathType.PREFIX, "/aaa/bbb", "/aaa/bbb/", True),
    (PathType.PREFIX, "/aaa/bbb", "/aaa/bbbxyz", False),
    (PathType.PREFIX, "/aaa/bbb", "/aaa/bbb/ccc", True),
    (PathType.PREFIX, "/foo", "/foobar", False),
    (PathType.PREFIX, "/v1.0", "/v1x0", False),  # the dot is literal
    (PathType.PREFIX, "/a+b", "/a+b/c", True),
]


@pytest.mark.parametrize(("kind", "path", "request_path", "expected"), K8S_EXAMPLES)
def test_paths_match_as_kubernetes_defines(kind: PathType, path: str, request_path: str,
                                           expected: bool) -> None:
    assert matches(path_rule(path, kind), request_path) is expected


@pytest.mark.parametrize(("host", "request_host", "expected"), [
    ("a.example.com", "a.example.com", True),
    ("a.example.com", "A.Example.COM", True),
    ("a.example.com", "b.example.com", False),
    ("*.example.com", "shop.example.com", True),
    ("*.example.com", "a.shop.example.com", False),  # one label only
    ("*.example.com", "example.com", False),
    ("*.example.com", "shopexample.com", False),
])
def test_hosts_match_as_kubernetes_defines(host: str, request_host: str,
                                           expected: bool) -> None:
    assert matches(host_rule(host), request_host) is expected


def test_rule_shapes() -> None:
    """Which Octavia rule each form becomes (what `openstack loadbalancer l7rule list`
    shows an operator)."""
    assert host_rule("") is None and path_rule("/", PathType.PREFIX) is None
    assert host_rule("a.example.com") == DesiredRule("HOST_NAME", "EQUAL_TO", "a.example.com")
    assert host_rule("*.example.com") == DesiredRule("HOST_NAME", "REGEX",
                                                     r"^[^.]+\.example\.com$")
    assert path_rule("/login", PathType.EXACT) == DesiredRule("PATH", "EQUAL_TO", "/login")
    assert path_rule("/api", PathType.PREFIX) == DesiredRule("PATH", "REGEX", "^/api(/.*)?$")


def test_a_path_octavia_cannot_match_is_refused_by_name() -> None:
    with pytest.raises(InvalidSpecError, match="'/with space'"):
        path_rule("/with space", PathType.EXACT)
    with pytest.raises(InvalidSpecError, match="non-ASCII"):
        path_rule("/caf\u00e9", PathType.PREFIX)


def test_redirect_hosts_are_exact_hosts_with_a_certificate() -> None:
    rules = (rule("a.example.com", "/", WEB), rule("c.example.com", "/", WEB),
             rule("x.shop.example", "/", WEB), rule("*.shop.example", "/", WEB),
             rule("", "/", WEB))
    certs = (tls("a", ("a.example.com", "*.shop.example", "only-cert.example.com")),)
    spec = ingress(rules=rules, certs=certs, redirect=True)
    assert redirect_hosts(spec) == ("a.example.com", "only-cert.example.com",
                                    "x.shop.example")
    everything = ingress(rules=rules, certs=(tls("d", ()),), redirect=True)
    assert redirect_hosts(everything) == ("a.example.com", "c.example.com", "x.shop.example")
    assert redirect_hosts(ingress(rules=rules, certs=certs)) == ()


@st.composite
def reorders(draw: st.DrawFn) -> tuple[list[int], int]:
    wanted = draw(st.integers(min_value=0, max_value=12))
    kept = draw(st.lists(st.integers(0, max(wanted - 1, 0)), unique=True,
                         max_size=wanted)) if wanted else []
    return draw(st.permutations(kept)), wanted


@settings(max_examples=EXAMPLES, deadline=None)
@given(reorders())
def test_placements_reach_the_wanted_order_in_fewest_moves(case: tuple[list[int], int]
                                                           ) -> None:
    current, wanted = case
    steps = placements(current, wanted)
    assert simulate(current, steps) == list(range(wanted))
    assert len(steps) == wanted - len(longest_increasing(current))
    assert sum(s.action == "create" for s in steps) == wanted - len(current)


def test_inserting_or_moving_one_policy_is_one_write() -> None:
    assert placements([0, 1, 3, 4], 5) == [Placement("create", 2, 3)]
    assert placements([0, 1, 2], 3) == []  # what is left after a deletion stays in order
    assert placements([1, 2, 3, 0], 4) == [Placement("move", 0, 1)]
    assert placements([3, 0, 1, 2], 4) == [Placement("move", 3, 4)]
