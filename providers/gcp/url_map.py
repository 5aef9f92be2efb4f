"""An Ingress's rules as a GCE URL map (pure), and how two URL maps are compared.

The spec's `rules` are a first-match-wins list (exact hosts, wildcards, any host; within
a host Exact before Prefix, longest first; a host whose paths all miss falls through to
the next host group: see `cloud_lb.translate.ingress_paths`). A URL map matches
differently: a request picks *one* host rule (exact host, else wildcard, else `*`), then
the *longest* matching path of that rule's path matcher, else the matcher's default.
So each host pattern gets a path matcher holding its own rules followed by the rules
it falls through to (matching wildcards, then the rules for any host), where

- Exact `/p` is the path `/p`; Prefix `/p` is `/p` and `/p/*` (element-wise, as the
  Kubernetes API defines Prefix: `/p/*` never matches `/pq`); Prefix `/` is `/*`;
- a path already taken by an earlier rule stays with it (so Exact wins a tie with
  Prefix, and a host's own rule wins over the one it falls through to);
- a fall-through rule under a Prefix of an earlier host group is dropped: every request
  it could match is the earlier rule's, which longest-first would otherwise steal.

With these, longest-first over the merged list picks what first-match over the spec's
list picks (proved against the local proxy's router in tests/providers/gcp). One
difference stays: GCE's `*.example.com` also matches `a.b.example.com`, where
Kubernetes' wildcard matches one DNS label only.

No default backend: the URL map's (and every path matcher's) default is the dedicated
404 backend service with a route action that aborts every request with 404 (fault
injection at 100%, which `EXTERNAL_MANAGED` URL maps support), so no request ever
reaches it and it needs no instances; a default backend replaces both.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

from cloud_lb.model import L7Backend, L7Rule, LoadBalancerSpec, PathType
from cloud_lb.provider import InvalidSpecError
from providers.gcp import naming
from providers.gcp.diff import differences

Json = dict[str, Any]
ANY_HOST = "*"
ABORT_404: Json = {"faultInjectionPolicy": {"abort": {"httpStatus": 404, "percentage": 100.0}}}
REDIRECT_TO_HTTPS: Json = {
    "httpsRedirect": True,
    "redirectResponseCode": "MOVED_PERMANENTLY_DEFAULT",
    "stripQuery": False,
}
FORBIDDEN_IN_PATHS = ("*", "?", "#")

ServiceLink = Callable[[L7Backend | None], str]  # None: the 404 backend


def validate(spec: LoadBalancerSpec) -> None:
    """What a URL map cannot express, as a user-actionable error."""
    for rule in spec.rules:
        bad = [c for c in FORBIDDEN_IN_PATHS if c in rule.path]
        if bad:
            raise InvalidSpecError(
                f"path {rule.path!r} (host {rule.host or '*'!r}) contains {bad[0]!r}, which a "
                f"GCE URL map cannot match literally; remove it from the Ingress path",
                field="spec.rules",
            )
        if len(rule.path) > 1000:
            raise InvalidSpecError(
                f"path {rule.path[:40]!r}... is longer than a GCE URL map allows",
                field="spec.rules",
            )


def gce_paths(rule: L7Rule) -> list[str]:
    if rule.path_type is PathType.EXACT:
        return [rule.path]
    if rule.path == "/":
        return ["/*"]
    return [rule.path, f"{rule.path}/*"]


def _elements(path: str) -> list[str]:
    return [part for part in path.split("/") if part]


def _under(prefix: str, path: str) -> bool:
    """`path` is `prefix` or below it, element-wise."""
    head = _elements(prefix)
    return _elements(path)[: len(head)] == head


def wildcard_matches(pattern: str, host: str) -> bool:
    """Kubernetes' wildcard: `*.example.com` matches exactly one more DNS label."""
    suffix = pattern[1:]
    label = host[: -len(suffix)] if host.endswith(suffix) else ""
    return bool(label) and "." not in label


def host_groups(rules: tuple[L7Rule, ...]) -> dict[str, list[L7Rule]]:
    """Rules by host, in the spec's order ('' = any host)."""
    groups: dict[str, list[L7Rule]] = {}
    for rule in rules:
        groups.setdefault(rule.host, []).append(rule)
    return groups


def chain(host: str, groups: dict[str, list[L7Rule]]) -> list[list[L7Rule]]:
    """The host groups a request for `host` (a pattern of the URL map) tries, in order."""
    out = [groups[host]] if host else []
    if host and not host.startswith("*."):
        out += [
            g
            for pattern, g in groups.items()
            if pattern.startswith("*.") and wildcard_matches(pattern, host)
        ]
    if host and groups.get(""):
        out.append(groups[""])
    if not host:
        out.append(groups[""])
    return out


def path_rules(groups: list[list[L7Rule]], link: ServiceLink) -> list[Json]:
    taken: set[str] = set()
    shadowing: list[str] = []  # Prefix paths of the groups already walked
    out: list[Json] = []
    for index, group in enumerate(groups):
        prefixes = []
        for rule in group:
            if index and any(_under(prefix, rule.path) for prefix in shadowing):
                continue  # every request it matches is an earlier host group's
            paths = [p for p in gce_paths(rule) if p not in taken]
            taken.update(paths)
            if paths:
                out.append({"paths": paths, "service": link(rule.backend)})
            if rule.path_type is PathType.PREFIX:
                prefixes.append(rule.path)
        shadowing += prefixes
    return out


def matcher_name(host: str) -> str:
    return f"host-{hashlib.sha256(host.encode()).hexdigest()[:12]}"


def _defaults(spec: LoadBalancerSpec, link: ServiceLink) -> Json:
    if spec.default_backend is not None:
        return {"defaultService": link(spec.default_backend)}
    return {"defaultService": link(None), "defaultRouteAction": ABORT_404}


def url_map(spec: LoadBalancerSpec, link: ServiceLink) -> Json:
    """The URL map `k8s-<hash>-um` for `spec`."""
    defaults = _defaults(spec, link)
    body: Json = {
        "name": naming.ingress_name(spec.ref, "um"),
        "description": naming.describe(spec.ref),
        **defaults,
    }
    groups = host_groups(spec.rules)
    patterns = sorted(h or ANY_HOST for h in groups)
    if patterns:
        body["hostRules"] = [
            {"hosts": [pattern], "pathMatcher": matcher_name(pattern)} for pattern in patterns
        ]
        body["pathMatchers"] = [
            {
                "name": matcher_name(pattern),
                **defaults,
                "pathRules": path_rules(
                    chain("" if pattern == ANY_HOST else pattern, groups), link
                ),
            }
            for pattern in patterns
        ]
    return body


def redirect_map(spec: LoadBalancerSpec) -> Json:
    """The URL map `k8s-<hash>-rm` the HTTP proxy uses when HTTPS is forced."""
    return {
        "name": naming.ingress_name(spec.ref, "rm"),
        "description": naming.describe(spec.ref),
        "defaultUrlRedirect": dict(REDIRECT_TO_HTTPS),
    }


def used_backends(spec: LoadBalancerSpec) -> list[L7Backend | None]:
    """The backends the URL map references (None: the 404 backend), first use first."""
    seen: dict[L7Backend | None, None] = {}
    for rule in spec.rules:
        seen.setdefault(rule.backend, None)
    seen.setdefault(spec.default_backend, None)
    return list(seen)


# -- comparison --------------------------------------------------------------------------


def _level(holder: Json, *, rule: bool = False) -> Json:
    keys = (
        ("service", "routeAction", "urlRedirect")
        if rule
        else ("defaultService", "defaultRouteAction", "defaultUrlRedirect")
    )
    return {
        "service": holder.get(keys[0]) or "",
        "action": holder.get(keys[1]) or {},
        "redirect": holder.get(keys[2]) or {},
    }


def canonical(body: Json) -> Json:
    """A URL map as nested dicts keyed by identity (hosts, matcher names, path sets), so
    order and GCE's defaults never look like a change."""
    return {
        "default": _level(body),
        "hosts": {h: r.get("pathMatcher") for r in body.get("hostRules", []) for h in r["hosts"]},
        "matchers": {
            m["name"]: {
                "default": _level(m),
                "rules": {
                    ",".join(sorted(r.get("paths", []))): _level(r, rule=True)
                    for r in m.get("pathRules", [])
                },
            }
            for m in body.get("pathMatchers", [])
        },
    }


def changes(desired: Json, actual: Json) -> list[str]:
    """Where `actual` routes differently from `desired` (empty: the same)."""
    want, have = canonical(desired), canonical(actual)
    out = [f"default.{d}" for d in differences(want["default"], have["default"])]
    if want["hosts"] != have["hosts"]:
        out.append("hostRules")
    if set(want["matchers"]) != set(have["matchers"]):
        out.append("pathMatchers")
        return out
    for name, matcher in want["matchers"].items():
        other = have["matchers"][name]
        if set(matcher["rules"]) != set(other["rules"]) or differences(matcher, other):
            out.append(f"pathMatchers[{name}]")
    return out
