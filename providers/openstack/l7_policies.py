"""Ingress host/path rules -> Octavia L7 policies and rules, in evaluation order. Pure.

One REDIRECT_TO_POOL policy per `L7Rule`, at the rule's place in the spec's order
(Exact before Prefix, longest first, exact hosts before wildcards before any host):
Octavia evaluates a listener's policies by `position`, first match wins, so the order is
the priority. A policy's rules are ANDed:

- host `a.example.com` -> HOST_NAME EQUAL_TO (haproxy compares hosts case-insensitively);
- host `*.example.com` -> HOST_NAME REGEX `^[^.]+\\.example\\.com$`: Kubernetes' wildcard
  matches exactly one extra DNS label, which ENDS_WITH `.example.com` would not respect
  (it also matches `a.b.example.com`);
- Exact path `/foo` -> PATH EQUAL_TO `/foo`;
- Prefix path `/foo` -> PATH REGEX `^/foo(/.*)?$`. Kubernetes' Prefix is element-wise
  (`/foo` matches `/foo` and `/foo/bar`, never `/foobar`), which one STARTS_WITH cannot
  say; the alternative, two policies (EQUAL_TO `/foo`, STARTS_WITH `/foo/`), doubles the
  objects and the writes of a path change. Prefix `/` needs no path rule;
- no host and Prefix `/` (matches everything) -> PATH STARTS_WITH `/`, because a policy
  without rules never matches.

HTTPS redirect (`https_redirect`): one REDIRECT_PREFIX policy per exact host served
with TLS, first on the HTTP listener, answering 308 to `https://<host>[:port]` (the path
and query are kept by Octavia). A redirect prefix is a fixed string, so wildcard hosts
and rules without a host cannot be redirected: their HTTP traffic is routed as usual.
Rules of a redirected host are left off the HTTP listener: they would never match.

Values are checked against what Octavia accepts and haproxy can parse (header
characters, no spaces); a path outside that is an `InvalidSpecError` naming it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cloud_lb.model import L7Rule, LoadBalancerSpec, PathType
from cloud_lb.provider import InvalidSpecError

REDIRECT_CODE = 308  # permanent, and keeps the method (as ingress-nginx's ssl-redirect)
NAME_MAX = 255
_OCTAVIA_VALUE = re.compile(r'\A[a-zA-Z0-9!"#$%&\'()*+,\-./:;<=>?@\[\]^_`{|}~\\]+\Z')
_REGEX_SPECIAL = set(".^$*+?()[]{}|\\")


@dataclass(frozen=True)
class DesiredRule:
    type: str  # HOST_NAME | PATH
    compare_type: str  # EQUAL_TO | REGEX | STARTS_WITH
    value: str

    def body(self, tags: list[str]) -> dict[str, Any]:
        return {"type": self.type, "compare_type": self.compare_type, "value": self.value,
                "invert": False, "tags": tags}

    def __str__(self) -> str:
        return f"{self.type} {self.compare_type} {self.value}"


@dataclass(frozen=True)
class DesiredPolicy:
    name: str
    action: str  # REDIRECT_TO_POOL | REDIRECT_PREFIX
    rules: tuple[DesiredRule, ...]
    redirect_pool: str | None = None  # the pool's name
    redirect_prefix: str | None = None
    redirect_http_code: int | None = None

    @property
    def target(self) -> str:
        return self.redirect_pool or self.redirect_prefix or ""

    def describe(self) -> str:
        rules = " and ".join(str(r) for r in self.rules)
        arrow = f"pool {self.redirect_pool}" if self.redirect_pool else (
            f"{self.redirect_http_code} {self.redirect_prefix}")
        return f"{rules} -> {arrow}"


def _escape(text: str) -> str:
    # only the regex metacharacters: haproxy keeps other backslash pairs verbatim, and
    # fewer escapes keep the value readable in `openstack loadbalancer l7rule list`
    return "".join("\\" + c if c in _REGEX_SPECIAL else c for c in text)


def _checked(value: str, what: str, field: str) -> str:
    if not _OCTAVIA_VALUE.match(value):
        raise InvalidSpecError(f"{what} {value!r} has characters an Octavia L7 rule cannot "
                               f"match (spaces or non-ASCII); percent-encode them",
                               field=field)
    return value


def host_rule(host: str) -> DesiredRule | None:
    if not host:
        return None
    if host.startswith("*."):
        value = f"^[^.]+{_escape(host[1:])}$"
        return DesiredRule("HOST_NAME", "REGEX", _checked(value, "host", "spec.rules.host"))
    return DesiredRule("HOST_NAME", "EQUAL_TO", _checked(host, "host", "spec.rules.host"))


def path_rule(path: str, path_type: PathType) -> DesiredRule | None:
    field = "spec.rules.http.paths.path"
    if path_type is PathType.EXACT:
        return DesiredRule("PATH", "EQUAL_TO", _checked(path, "path", field))
    if path == "/":
        return None
    _checked(path, "path", field)
    return DesiredRule("PATH", "REGEX", f"^{_escape(path.rstrip('/'))}(/.*)?$")


def route_name(rule: L7Rule) -> str:
    """Stable across a path change (host and backend), so a changed path pairs with its
    old policy and only the path rule is rewritten."""
    return f"route_{rule.host or '*'}_{rule.backend.name}"[:NAME_MAX]


def route_policy(rule: L7Rule, pool: str) -> DesiredPolicy:
    rules = tuple(r for r in (host_rule(rule.host), path_rule(rule.path, rule.path_type))
                  if r is not None) or (DesiredRule("PATH", "STARTS_WITH", "/"),)
    return DesiredPolicy(name=route_name(rule), action="REDIRECT_TO_POOL", rules=rules,
                         redirect_pool=pool)


def _covered(host: str, cert_hosts: set[str], default_cert: bool) -> bool:
    if default_cert or host in cert_hosts:
        return True
    head, _, rest = host.partition(".")
    return bool(head) and f"*.{rest}" in cert_hosts


def redirect_hosts(spec: LoadBalancerSpec) -> tuple[str, ...]:
    """Exact hosts the HTTP listener sends to HTTPS: hosts of the certificates, and rule
    hosts a certificate covers (all of them under a certificate without hosts)."""
    if not (spec.https_redirect and spec.tls):
        return ()
    cert_hosts = {h for cert in spec.tls for h in cert.hosts}
    default_cert = any(not cert.hosts for cert in spec.tls)
    hosts = {h for h in cert_hosts if not h.startswith("*.")}
    hosts |= {r.host for r in spec.rules
              if r.host and not r.host.startswith("*.")
              and _covered(r.host, cert_hosts, default_cert)}
    return tuple(sorted(hosts))


def redirect_policy(host: str, https_port: int) -> DesiredPolicy:
    port = "" if https_port == 443 else f":{https_port}"
    return DesiredPolicy(name=f"redirect_{host}"[:NAME_MAX], action="REDIRECT_PREFIX",
                         rules=(DesiredRule("HOST_NAME", "EQUAL_TO", host),),
                         redirect_prefix=f"https://{host}{port}",
                         redirect_http_code=REDIRECT_CODE)


def listener_policies(spec: LoadBalancerSpec, pools: Mapping[str, str], *, https: bool,
                      https_port: int | None) -> tuple[DesiredPolicy, ...]:
    """The policies of the HTTP (`https=False`) or the HTTPS listener, in order.
    `pools` maps each L7Backend name to its pool's name."""
    redirected = redirect_hosts(spec) if (not https and https_port is not None) else ()
    out = [redirect_policy(h, https_port or 443) for h in redirected]
    out += [route_policy(rule, pools[rule.backend.name]) for rule in spec.rules
            if rule.host not in redirected]
    return tuple(out)
