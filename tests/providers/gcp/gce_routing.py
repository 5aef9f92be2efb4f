"""How a GCE URL map routes a request, as Google documents it (a test model).

- Host: a host rule naming the host exactly wins; else the wildcard (`*.example.com`,
  matching any host that ends in `.example.com`, however many labels) with the longest
  suffix; else `*`; else the URL map's own default.
- Path, within the chosen path matcher: the longest matching path wins whatever the
  order of the rules ("/a/b/*" before "/a/*"); an exact path beats a `/*` pattern of the
  same length; no match: the path matcher's default.
- A route action that aborts every request (fault injection at 100%) answers its status.

`route` returns the backend service's name, or `"404"` for an abort with 404.
"""

from __future__ import annotations

from typing import Any

from providers.gcp.naming import relative

Json = dict[str, Any]


def _host_rule(body: Json, host: str) -> str | None:
    exact: dict[str, str] = {}
    wildcards: dict[str, str] = {}
    for rule in body.get("hostRules", []):
        for pattern in rule["hosts"]:
            (wildcards if pattern.startswith("*") else exact)[pattern] = rule["pathMatcher"]
    if host in exact:
        return exact[host]
    suffixes = [
        p for p in wildcards if p != "*" and host.endswith(p[1:]) and len(host) > len(p) - 1
    ]
    if suffixes:
        return wildcards[max(suffixes, key=len)]
    return wildcards.get("*")


def _answer(holder: Json, service_key: str, action_key: str) -> str:
    action = holder.get(action_key) or {}
    abort = (action.get("faultInjectionPolicy") or {}).get("abort")
    if abort and float(abort.get("percentage", 0)) >= 100.0:
        return str(abort["httpStatus"])
    return relative(holder[service_key]).rsplit("/", 1)[1]


def _length(pattern: str) -> tuple[int, int]:
    # longest first; on equal length, an exact path before a `/*` pattern
    return (len(pattern.rstrip("*")), 0 if pattern.endswith("*") else 1)


def _matches(pattern: str, path: str) -> bool:
    if pattern.endswith("/*"):
        return path.startswith(pattern[:-1])
    return pattern == path


def route(body: Json, host: str, path: str) -> str:
    name = _host_rule(body, host)
    if name is None:
        return _answer(body, "defaultService", "defaultRouteAction")
    matcher = next(m for m in body["pathMatchers"] if m["name"] == name)
    best: tuple[tuple[int, int], Json] | None = None
    for rule in matcher.get("pathRules", []):
        for pattern in rule["paths"]:
            if _matches(pattern, path) and (best is None or _length(pattern) > best[0]):
                best = (_length(pattern), rule)
    if best is None:
        return _answer(matcher, "defaultService", "defaultRouteAction")
    return _answer(best[1], "service", "routeAction")
