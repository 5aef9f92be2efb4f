"""Hosts and paths of Ingress rules: normalisation and the order providers evaluate.

Paths (networking.k8s.io/v1 `pathType`):
- `Exact`: the URL path must equal the path, case-sensitively; kept as written.
- `Prefix`: element-wise prefix on `/`-separated elements, a trailing `/` ignored
  (`/foo` matches `/foo`, `/foo/` and `/foo/bar`, never `/foobar`). Normalised here by
  dropping the trailing slash (except for `/` itself), so `/foo` and `/foo/` are one
  rule.
- `ImplementationSpecific` (or no pathType): served as `Prefix`. Documented choice: it
  is what most implementations do for plain paths, and a regular expression (an
  ingress-nginx habit) is matched as a literal prefix, never as a pattern.

Order: the spec's `rules` are a flat list that providers evaluate first match wins
(ALB rule priorities, Octavia policy positions, the local proxy). Hosts go from most to
least specific: exact hosts, then wildcards (`*.example.com` matches one extra DNS
label, so wildcards never overlap each other), then rules for any host; a request whose
host matched a rule but none of its paths falls through to the next host group (a rule
without host "applies to all inbound HTTP traffic", as the API docs say). Within a host:
every Exact path first, then Prefix paths longest first. That is exactly Kubernetes'
precedence ("longest matching path first; on a tie, Exact over Prefix"): an Exact match
is as long as the request path, so no Prefix match can be longer.
"""

from __future__ import annotations

from cloud_lb.model import L7Rule, PathType
from cloud_lb.translate.errors import TranslationError

_PATH_TYPES = {"Exact": PathType.EXACT, "Prefix": PathType.PREFIX,
               "ImplementationSpecific": PathType.PREFIX}


def normalize_host(host: str | None) -> str:
    """Lower case, no trailing dot; '' means any host."""
    return (host or "").strip().lower().rstrip(".")


def path_type(value: object, field: str) -> PathType:
    if value is None or value == "":
        return PathType.PREFIX  # the API server requires it; absent reads as ImplementationSpecific
    if not isinstance(value, str) or value not in _PATH_TYPES:
        raise TranslationError(
            f"pathType {value!r} is not Exact, Prefix or ImplementationSpecific", field=field)
    return _PATH_TYPES[value]


def normalize_path(path: object, kind: PathType, field: str) -> str:
    if path is None or path == "":
        return "/"
    if not isinstance(path, str) or not path.startswith("/"):
        raise TranslationError(f"path {path!r} must start with '/'", field=field)
    if kind is PathType.PREFIX and path != "/":
        path = path.rstrip("/") or "/"
    return path


def host_rank(host: str) -> tuple[int, int, str]:
    """Exact hosts first, then wildcards (longest first), then any host."""
    if not host:
        return (2, 0, "")
    if host.startswith("*."):
        return (1, -len(host), host)
    return (0, 0, host)


def rule_order(rule: L7Rule) -> tuple[tuple[int, int, str], int, int, str]:
    return (host_rank(rule.host), 0 if rule.path_type is PathType.EXACT else 1,
            -len(rule.path), rule.path)


def order_rules(rules: list[L7Rule]) -> tuple[L7Rule, ...]:
    return tuple(sorted(rules, key=rule_order))
