"""Desired vs actual resources of an Ingress's load balancer -> ordered steps (pure).

Kinds go in dependency order (`ingress_render.ORDER`: address, health checks, backend
services, certificates, URL maps, proxies, forwarding rules, firewall). Creations and
changes walk that order forwards, so nothing is referenced before it exists; deletions
of what is no longer wanted come last and walk it backwards, so nothing is deleted
while something of ours still references it (a removed backend: the URL map stops
naming it, then its backend service goes, then its health check; a rotated
certificate: the new one is created, the proxy switched, the old one deleted).

What changes how (GCE's mutability):
    global address, SSL certificate   immutable; a certificate's name carries its content
                                      fingerprint, so rotation is a new certificate
    health check, firewall            updated in place (PUT)
    backend service, URL map          updated in place (PUT) with their fingerprint
    target HTTP(S) proxy              setUrlMap / setSslCertificates (no PUT)
    forwarding rule                   immutable: recreated (its address and port)

Only the fields we render are compared (see `diff.differences`); URL maps by what they
route (`url_map.changes`); a proxy's certificates in order (the first is the default).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from cloud_lb.provider import Change
from providers.gcp import url_map
from providers.gcp.diff import differences
from providers.gcp.ingress_render import ORDER, IngressDesired
from providers.gcp.kinds import KINDS
from providers.gcp.naming import relative
from providers.gcp.render import fill_address

Json = dict[str, Any]
IN_PLACE = {"globalHealthCheck", "globalBackendService", "urlMap", "firewall"}
FINGERPRINTED = {"globalBackendService", "urlMap"}
RECREATED = {"globalForwardingRule"}
# kinds whose existence under their name is all there is to compare
BY_NAME_ONLY = {"globalAddress", "sslCertificate"}


@dataclass(frozen=True)
class Step:
    verb: str  # insert | update | setUrlMap | setSslCertificates | delete
    kind: str
    name: str
    body: Json | None = field(default=None, repr=False)
    fingerprint: str | None = None
    detail: str = ""

    @property
    def action(self) -> str:
        return {"insert": "create", "delete": "delete"}.get(self.verb, "update")

    def change(self) -> Change:
        return Change(self.action, KINDS[self.kind].resource_name, self.name, self.detail)

    def __str__(self) -> str:
        return str(self.change())


def _detail(fields: list[str]) -> str:
    return "changed: " + ", ".join(sorted(set(fields)))


def _proxy_steps(kind: str, name: str, want: Json, have: Json) -> list[Step]:
    steps = []
    if relative(want["urlMap"]) != relative(have.get("urlMap", "")):
        steps.append(
            Step("setUrlMap", kind, name, {"urlMap": want["urlMap"]}, detail="changed: urlMap")
        )
    if kind == "targetHttpsProxy":
        wanted = [relative(c) for c in want["sslCertificates"]]
        if wanted != [relative(c) for c in have.get("sslCertificates", [])]:
            steps.append(
                Step(
                    "setSslCertificates",
                    kind,
                    name,
                    {"sslCertificates": want["sslCertificates"]},
                    detail="changed: sslCertificates",
                )
            )
    return steps


def _changed(kind: str, want: Json, have: Json) -> list[str]:
    if kind in BY_NAME_ONLY:
        return []
    if kind == "urlMap":
        return url_map.changes(want, have)
    return differences(want, have)


def plan(desired: IngressDesired, actual: dict[str, dict[str, Json]], ip: str | None) -> list[Step]:
    """The ordered steps from `actual` (our resources by kind and name) to `desired`.
    `ip` is the address the forwarding rules should carry, if known."""
    forward: list[Step] = []
    for kind in ORDER:
        for name, want in desired.resources[kind].items():
            body = fill_address(want, ip) if ip else want
            have = actual.get(kind, {}).get(name)
            if have is None:
                forward.append(Step("insert", kind, name, body))
                continue
            if kind in ("targetHttpProxy", "targetHttpsProxy"):
                forward += _proxy_steps(kind, name, body, have)
                continue
            diff = _changed(kind, body, have)
            if not diff:
                continue
            if kind in RECREATED:
                forward.append(Step("delete", kind, name, detail="recreated: " + _detail(diff)))
                forward.append(Step("insert", kind, name, body, detail=_detail(diff)))
            else:
                assert kind in IN_PLACE, kind
                fingerprint = have.get("fingerprint") if kind in FINGERPRINTED else None
                forward.append(Step("update", kind, name, body, fingerprint, _detail(diff)))
    backward: list[Step] = []
    for kind in reversed(ORDER):
        for name in sorted(set(actual.get(kind, {})) - set(desired.resources[kind])):
            backward.append(Step("delete", kind, name, detail="no longer wanted"))
    return forward + backward
