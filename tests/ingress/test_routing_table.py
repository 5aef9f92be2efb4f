"""Path and host matching of the local proxy, through translation: the examples table
of the Kubernetes Ingress documentation, and properties of the rule order."""

from __future__ import annotations

import os

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cloud_lb.model import HealthCheck, HealthCheckProtocol, L7Backend, L7Rule, PathType
from cloud_lb.translate.ingress_paths import order_rules
from providers.local.routing import (
    RouteTable,
    host_matches,
    path_matches,
    request_host,
    route,
    table_from_json,
    table_to_json,
)
from tests.translate.ingress_objects import ingress, path, rule, svc, translate

EXAMPLES = int(os.environ.get("CLOUD_LB_FULL") and 2000 or 150)


def _served(paths: list[tuple[str, str]], request_path: str) -> str | None:
    """Which rule (its 'path (type)') serves `request_path`, None for the default."""
    services = [svc(f"s{i}") for i in range(len(paths))]
    rules = [path(p, t, f"s{i}") for i, (p, t) in enumerate(paths)]
    spec = translate(ingress([rule(None, *rules)]), services).spec
    backend = route(RouteTable(spec.rules), "any.example", request_path)
    if backend is None:
        return None
    index = int(backend.service.split("/s")[1])
    return f"{paths[index][0]} ({paths[index][1]})"


# https://kubernetes.io/docs/concepts/services-networking/ingress/#examples
@pytest.mark.parametrize(("paths", "request_path", "served"), [
    ([("/", "Prefix")], "/anything/at/all", "/ (Prefix)"),
    ([("/foo", "Exact")], "/foo", "/foo (Exact)"),
    ([("/foo", "Exact")], "/bar", None),
    ([("/foo", "Exact")], "/foo/", None),
    ([("/foo/", "Exact")], "/foo", None),
    ([("/foo", "Prefix")], "/foo", "/foo (Prefix)"),
    ([("/foo", "Prefix")], "/foo/", "/foo (Prefix)"),
    ([("/foo/", "Prefix")], "/foo", "/foo/ (Prefix)"),
    ([("/foo/", "Prefix")], "/foo/", "/foo/ (Prefix)"),
    ([("/aaa/bb", "Prefix")], "/aaa/bbb", None),
    ([("/aaa/bbb", "Prefix")], "/aaa/bbb", "/aaa/bbb (Prefix)"),
    ([("/aaa/bbb/", "Prefix")], "/aaa/bbb", "/aaa/bbb/ (Prefix)"),
    ([("/aaa/bbb", "Prefix")], "/aaa/bbb/", "/aaa/bbb (Prefix)"),
    ([("/aaa/bbb", "Prefix")], "/aaa/bbb/ccc", "/aaa/bbb (Prefix)"),
    ([("/aaa/bbb", "Prefix")], "/aaa/bbbxyz", None),
    ([("/", "Prefix"), ("/aaa", "Prefix")], "/aaa/ccc", "/aaa (Prefix)"),
    ([("/", "Prefix"), ("/aaa", "Prefix"), ("/aaa/bbb", "Prefix")], "/aaa/bbb", "/aaa/bbb (Prefix)"),
    ([("/", "Prefix"), ("/aaa", "Prefix"), ("/aaa/bbb", "Prefix")], "/ccc", "/ (Prefix)"),
    ([("/aaa", "Prefix")], "/ccc", None),
    ([("/foo", "Prefix"), ("/foo", "Exact")], "/foo", "/foo (Exact)"),
    # the example: /foo matches /foo/bar, not /foobar
    ([("/foo", "Prefix")], "/foo/bar", "/foo (Prefix)"),
    ([("/foo", "Prefix")], "/foobar", None),
    ([("/foo", "ImplementationSpecific")], "/foo/bar", "/foo (ImplementationSpecific)"),
])
def test_kubernetes_documentation_examples(paths, request_path, served) -> None:
    assert _served(paths, request_path) == served


@pytest.mark.parametrize(("pattern", "host", "matches"), [
    ("foo.bar.com", "foo.bar.com", True),
    ("foo.bar.com", "bar.com", False),
    ("*.foo.com", "bar.foo.com", True),
    ("*.foo.com", "baz.bar.foo.com", False),  # one label only
    ("*.foo.com", "foo.com", False),
    ("", "anything.example", True),
])
def test_host_matching_as_the_api_defines_wildcards(pattern, host, matches) -> None:
    assert host_matches(pattern, host) is matches


@pytest.mark.parametrize(("header", "host"), [
    ("Cafe.Example:8080", "cafe.example"), ("cafe.example.", "cafe.example"),
    ("[::1]:80", "[::1]"), (None, ""),
])
def test_request_host_strips_port_and_case(header, host) -> None:
    assert request_host(header) == host


def test_an_exact_host_falls_through_to_wildcard_and_any_host_rules() -> None:
    services = [svc("exact"), svc("wild"), svc("any")]
    spec = translate(ingress([rule(None, path("/", "Prefix", "any")),
                              rule("*.example.com", path("/w", "Prefix", "wild")),
                              rule("www.example.com", path("/e", "Prefix", "exact"))]),
                     services).spec
    table = RouteTable(spec.rules)
    assert route(table, "www.example.com", "/e").service == "default/exact"
    assert route(table, "www.example.com", "/w").service == "default/wild"
    assert route(table, "www.example.com", "/x").service == "default/any"


_HC = HealthCheck(HealthCheckProtocol.HTTP, 30000, "/")
segments = st.lists(st.sampled_from(["a", "b", "ab", "c"]), min_size=0, max_size=3)
paths = segments.map(lambda s: "/" + "/".join(s))
rules = st.lists(st.tuples(paths, st.sampled_from(list(PathType))), min_size=1, max_size=6,
                 unique=True)


@settings(max_examples=EXAMPLES, deadline=None)
@given(rules=rules, request=paths)
def test_first_match_in_our_order_is_the_longest_match_with_exact_winning_ties(
        rules: list[tuple[str, PathType]], request: str) -> None:
    """The order makes first-match evaluation equal Kubernetes' precedence rule."""
    l7 = [L7Rule("", p, t, L7Backend(f"ns/{i}", 80, 30000 + i, _HC)) for i, (p, t) in enumerate(rules)]
    ordered = order_rules(l7)
    first = next((r for r in ordered if path_matches(r.path, r.path_type, request)), None)
    matching = [r for r in l7 if path_matches(r.path, r.path_type, request)]
    if not matching:
        assert first is None
        return
    def length(r: L7Rule) -> int:
        return len([e for e in r.path.split("/") if e])
    best = max(length(r) for r in matching)
    assert first is not None and length(first) == best
    if any(r.path_type is PathType.EXACT for r in matching if length(r) == best):
        assert first.path_type is PathType.EXACT


@settings(max_examples=EXAMPLES, deadline=None)
@given(rules=rules, request=paths)
def test_prefix_matches_are_element_wise(rules: list[tuple[str, PathType]], request: str) -> None:
    for p, _ in rules:
        elements = [e for e in p.split("/") if e]
        requested = [e for e in request.split("/") if e]
        assert path_matches(p, PathType.PREFIX, request) is (requested[: len(elements)] == elements)


def test_the_route_table_round_trips_through_json() -> None:
    backend = L7Backend("ns/a", 80, 30080, _HC)
    table = RouteTable((L7Rule("h", "/x", PathType.EXACT, backend),), backend, True)
    assert table_from_json(table_to_json(table)) == table
