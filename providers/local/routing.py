"""Which backend serves an HTTP request: the local proxy's routing table. Pure.

The spec's `rules` arrive in evaluation order (see `cloud_lb.translate.ingress_paths`:
exact hosts, wildcards, any host; Exact before Prefix, longest first); the first rule
whose host and path match wins, else the default backend, else none (404).

Matching, as networking.k8s.io/v1 defines it:
- host: equal (case-insensitive, port stripped), or `*.example.com` matching exactly
  one more DNS label (`a.example.com`, not `example.com`, not `a.b.example.com`); an
  empty rule host matches any request;
- `Exact`: the path equals the rule's path;
- `Prefix`: element-wise on `/`: the request's path elements start with the rule's
  (`/foo` matches `/foo`, `/foo/`, `/foo/bar`, not `/foobar`); a trailing slash of
  either side is ignored.

`RouteTable` also (de)serialises to the state file's JSON, so a read-only view of a
running controller (plan, status) can diff routes without asking the server.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cloud_lb.model import HealthCheck, HealthCheckProtocol, L7Backend, L7Rule, PathType


@dataclass(frozen=True)
class RouteTable:
    rules: tuple[L7Rule, ...] = ()
    default_backend: L7Backend | None = None
    https_redirect: bool = False

    def backends(self) -> tuple[L7Backend, ...]:
        """Every distinct backend, in first-use order."""
        seen: dict[L7Backend, None] = {}
        for rule in self.rules:
            seen.setdefault(rule.backend, None)
        if self.default_backend is not None:
            seen.setdefault(self.default_backend, None)
        return tuple(seen)


def request_host(header: str | None) -> str:
    """The Host header without port, lower case, no trailing dot."""
    host = (header or "").strip().lower()
    if host.startswith("["):  # [v6]:port
        host = host[: host.find("]") + 1]
    elif host.count(":") == 1:
        host = host.rsplit(":", 1)[0]
    return host.rstrip(".")


def host_matches(pattern: str, host: str) -> bool:
    if not pattern:
        return True
    if pattern.startswith("*."):
        suffix = pattern[1:]  # ".example.com"
        label = host[: -len(suffix)] if host.endswith(suffix) else ""
        return bool(label) and "." not in label
    return pattern == host


def _elements(path: str) -> list[str]:
    return [part for part in path.split("/") if part]


def path_matches(rule_path: str, kind: PathType, path: str) -> bool:
    if kind is PathType.EXACT:
        return path == rule_path
    prefix = _elements(rule_path)
    return _elements(path)[: len(prefix)] == prefix


def route(table: RouteTable, host: str, path: str) -> L7Backend | None:
    for rule in table.rules:
        if host_matches(rule.host, host) and path_matches(rule.path, rule.path_type, path):
            return rule.backend
    return table.default_backend


# ---- JSON (camelCase, as the rest of the state file) ---------------------------------


def _hc_json(hc: HealthCheck) -> dict[str, Any]:
    return {"protocol": hc.protocol.value, "port": hc.port, "path": hc.path,
            "intervalSeconds": hc.interval_seconds, "timeoutSeconds": hc.timeout_seconds,
            "healthyThreshold": hc.healthy_threshold,
            "unhealthyThreshold": hc.unhealthy_threshold}


def _hc(raw: dict[str, Any]) -> HealthCheck:
    return HealthCheck(HealthCheckProtocol(raw["protocol"]), int(raw["port"]), raw["path"],
                       int(raw["intervalSeconds"]), int(raw["timeoutSeconds"]),
                       int(raw["healthyThreshold"]), int(raw["unhealthyThreshold"]))


def _backend_json(b: L7Backend) -> dict[str, Any]:
    return {"service": b.service, "port": b.port, "nodePort": b.node_port,
            "healthCheck": _hc_json(b.health_check)}


def _backend(raw: dict[str, Any]) -> L7Backend:
    return L7Backend(raw["service"], int(raw["port"]), int(raw["nodePort"]),
                     _hc(raw["healthCheck"]))


def table_to_json(table: RouteTable) -> dict[str, Any]:
    return {
        "rules": [{"host": r.host, "path": r.path, "pathType": r.path_type.value,
                   "backend": _backend_json(r.backend)} for r in table.rules],
        "defaultBackend": _backend_json(table.default_backend) if table.default_backend else None,
        "httpsRedirect": table.https_redirect,
    }


def table_from_json(raw: dict[str, Any]) -> RouteTable:
    default = raw.get("defaultBackend")
    return RouteTable(
        rules=tuple(L7Rule(r["host"], r["path"], PathType(r["pathType"]), _backend(r["backend"]))
                    for r in raw.get("rules", [])),
        default_backend=_backend(default) if default else None,
        https_redirect=bool(raw.get("httpsRedirect", False)),
    )
