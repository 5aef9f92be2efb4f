"""An Ingress's rules as a URL map (pure): Kubernetes' path semantics kept by GCE's
longest-path matching, fall-through between host groups, the 404 default, the redirect
map, and change detection that ignores order and GCE's defaults."""

from __future__ import annotations

import os

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cloud_lb.model import L7Rule, PathType
from cloud_lb.provider import InvalidSpecError
from cloud_lb.translate.ingress_paths import order_rules
from providers.gcp import naming, url_map
from providers.gcp.ingress_render import global_link
from providers.local.routing import RouteTable
from providers.local.routing import route as kubernetes_route
from tests.providers.gcp.gce_routing import route as gce_route
from tests.providers.gcp.ingress_specs import backend, ingress_ref, ingress_spec, rule

EXACT, PREFIX = PathType.EXACT, PathType.PREFIX
REF = ingress_ref()
FULL = os.environ.get("CLOUD_LB_FULL") == "1"


def link(target: object) -> str:
    if target is None:
        return global_link("p", "backendServices", naming.ingress_backend_name(REF, None))
    return global_link(
        "p", "backendServices", naming.ingress_backend_name(REF, target.service, target.port)
    )  # type: ignore[attr-defined]


def name_of(target: object) -> str:
    return link(target).rsplit("/", 1)[1]


def render(rules: list[L7Rule], default: object = None) -> dict:
    spec = ingress_spec(REF, (), rules=order_rules(rules), default=default)  # type: ignore[arg-type]
    return url_map.url_map(spec, link)


FOO, BAR, BAZ = backend("foo", 30001), backend("bar", 30002), backend("baz", 30003)


@pytest.mark.parametrize(
    ("rules", "host", "path", "expected"),
    [
        # the Kubernetes docs' Prefix examples: element-wise, never a string prefix
        ([rule("", "/foo", FOO)], "x", "/foo/bar", FOO),
        ([rule("", "/foo", FOO)], "x", "/foobar", None),
        ([rule("", "/foo", FOO)], "x", "/foo/", FOO),
        ([rule("", "/foo", FOO)], "x", "/foo", FOO),
        ([rule("", "/", FOO)], "x", "/anything/at/all", FOO),
        ([rule("", "/foo", FOO, EXACT)], "x", "/foo/", None),
        # longest prefix wins, Exact wins a tie
        ([rule("", "/foo", FOO), rule("", "/foo/bar", BAR)], "x", "/foo/bar/baz", BAR),
        ([rule("", "/foo", FOO), rule("", "/foo", BAR, EXACT)], "x", "/foo", BAR),
        ([rule("", "/foo", FOO), rule("", "/foo", BAR, EXACT)], "x", "/foo/x", FOO),
        # a host's own rules first; what misses falls through to the rules for any host
        ([rule("a.x", "/api", FOO), rule("", "/", BAR)], "a.x", "/api/v1", FOO),
        ([rule("a.x", "/api", FOO), rule("", "/", BAR)], "a.x", "/web", BAR),
        # ... but never past a host prefix that already matched (longest-first would)
        ([rule("a.x", "/api", FOO), rule("", "/api/v2", BAR)], "a.x", "/api/v2/x", FOO),
        ([rule("a.x", "/api", FOO), rule("", "/api/v2", BAR)], "b.x", "/api/v2/x", BAR),
        # wildcard: one label, between exact hosts and any host
        ([rule("*.x", "/", FOO), rule("", "/", BAR)], "a.x", "/p", FOO),
        ([rule("a.x", "/a", BAZ), rule("*.x", "/", FOO)], "a.x", "/b", FOO),
        # no match anywhere: the default backend
        ([rule("a.x", "/a", FOO)], "b.x", "/a", None),
    ],
)
def test_the_url_map_routes_as_kubernetes_defines_ingress_rules(
    rules: list[L7Rule], host: str, path: str, expected: object
) -> None:
    body = render(rules)
    assert gce_route(body, host, path) == (name_of(expected) if expected else "404")


def test_prefix_paths_become_the_path_and_everything_below_it() -> None:
    body = render([rule("a.x", "/api", FOO), rule("a.x", "/", BAR), rule("a.x", "/v", BAZ, EXACT)])
    (matcher,) = body["pathMatchers"]
    assert [r["paths"] for r in matcher["pathRules"]] == [["/v"], ["/api", "/api/*"], ["/*"]]
    assert body["hostRules"] == [{"hosts": ["a.x"], "pathMatcher": matcher["name"]}]


def test_without_a_default_backend_every_level_answers_404_from_the_404_backend() -> None:
    body = render([rule("a.x", "/api", FOO)])
    abort = {"faultInjectionPolicy": {"abort": {"httpStatus": 404, "percentage": 100.0}}}
    for level in (body, *body["pathMatchers"]):
        assert level["defaultService"] == link(None)
        assert level["defaultRouteAction"] == abort


def test_a_default_backend_is_every_level_s_default_service() -> None:
    body = render([rule("a.x", "/api", FOO)], default=BAR)
    for level in (body, *body["pathMatchers"]):
        assert level["defaultService"] == link(BAR)
        assert "defaultRouteAction" not in level
    assert gce_route(body, "other", "/") == name_of(BAR)


def test_only_a_default_backend_needs_no_host_rules() -> None:
    body = render([], default=FOO)
    assert "hostRules" not in body and "pathMatchers" not in body
    assert url_map.used_backends(ingress_spec(REF, (), rules=(), default=FOO)) == [FOO]


def test_the_redirect_map_sends_everything_to_https_permanently() -> None:
    body = url_map.redirect_map(ingress_spec(REF, ()))
    assert body["name"] == naming.ingress_name(REF, "rm")
    assert body["defaultUrlRedirect"] == {
        "httpsRedirect": True,
        "redirectResponseCode": "MOVED_PERMANENTLY_DEFAULT",
        "stripQuery": False,
    }


@pytest.mark.parametrize("path", ["/a*", "/a/*", "/a?b", "/a#b"])
def test_paths_a_url_map_cannot_match_literally_are_refused(path: str) -> None:
    spec = ingress_spec(REF, (), rules=(rule("", path, FOO, EXACT),))
    with pytest.raises(InvalidSpecError, match="literally"):
        url_map.validate(spec)


def test_changes_ignore_order_links_and_defaults_but_see_a_moved_path() -> None:
    body = render([rule("a.x", "/api", FOO), rule("b.x", "/", BAR)])
    shuffled = {
        **body,
        "hostRules": list(reversed(body["hostRules"])),
        "pathMatchers": [
            {**m, "pathRules": list(reversed(m["pathRules"]))}
            for m in reversed(body["pathMatchers"])
        ],
        "defaultService": "https://www.googleapis.com/compute/v1/" + body["defaultService"],
        "fingerprint": "abc=",
        "kind": "compute#urlMap",
    }
    assert url_map.changes(body, shuffled) == []
    moved = render([rule("a.x", "/apis", FOO), rule("b.x", "/", BAR)])
    assert url_map.changes(moved, body) == [f"pathMatchers[{url_map.matcher_name('a.x')}]"]
    more = render([rule("a.x", "/api", FOO), rule("b.x", "/", BAR), rule("c.x", "/", BAR)])
    assert url_map.changes(more, body) == ["hostRules", "pathMatchers"]
    assert (
        url_map.changes(
            render([rule("a.x", "/api", FOO)], default=BAZ), render([rule("a.x", "/api", FOO)])
        )
        != []
    )


# -- the property: GCE's matching of the rendered map == Kubernetes' first match ----------

HOSTS = ["", "a.x", "b.x", "*.x"]
PATHS = ["/", "/a", "/a/b", "/ab", "/b", "/b/c"]
REQUEST_HOSTS = ["a.x", "b.x", "c.x", "other.y"]  # one label under x: GCE's wildcard is wider
REQUEST_PATHS = ["/", "/a", "/a/", "/a/b", "/a/b/c", "/ab", "/abc", "/b", "/b/c/d", "/c"]

rules_strategy = st.lists(
    st.tuples(st.sampled_from(HOSTS), st.sampled_from(PATHS), st.sampled_from([EXACT, PREFIX])),
    max_size=8,
    unique=True,
)


@settings(max_examples=400 if FULL else 60, deadline=None)
@given(rules_strategy, st.booleans())
def test_gce_longest_match_over_the_rendered_map_routes_like_kubernetes_first_match(
    raw: list[tuple[str, str, PathType]], with_default: bool
) -> None:
    rules = [rule(h, p, backend(f"svc-{i}", 30000 + i), t) for i, (h, p, t) in enumerate(raw)]
    default = backend("default", 31000) if with_default else None
    ordered = order_rules(rules)
    body = render(list(ordered), default)
    table = RouteTable(rules=ordered, default_backend=default)
    for host in REQUEST_HOSTS:
        for path in REQUEST_PATHS:
            expected = kubernetes_route(table, host, path)
            got = gce_route(body, host, path)
            assert got == (name_of(expected) if expected else "404"), (host, path)
