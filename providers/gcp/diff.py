"""Desired vs actual GCE resources -> the ordered steps that converge them (pure).

Comparison is "desired is a subset of actual": only the fields we render are compared,
so fields GCE fills in (ids, defaults like `timeoutSec`) never cause churn; links are
compared by their relative part; lists of scalars (ports, ranges, tags) as sets;
a field we want false/empty matches one GCE omits. Descriptions are not compared:
ownership (cluster and UID in the description) is checked before diffing.

What changes how (GCE's mutability):
    address           immutable: recreated (after its forwarding rules go)
    health check      updated in place (PUT)
    backend service   updated in place with its fingerprint; recreated if the
                      load-balancing scheme changes (internal <-> external)
    forwarding rule   immutable: recreated; removed when its protocol is gone
    firewall          updated in place (PUT); recreated if network/direction change

Order: forwarding-rule deletions, backend-service and address deletions, address
creation, health check, backend service, forwarding-rule creations, firewalls, so no
step ever references something missing or deletes something still referenced.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from cloud_lb.provider import Change
from providers.gcp.naming import relative
from providers.gcp.render import NEW_ADDRESS, fill_address

Json = dict[str, Any]
IGNORED = frozenset({"description"})
RECREATE_BACKEND_SERVICE = ("loadBalancingScheme", "network")
RECREATE_FIREWALL = ("network", "direction")
ADDRESS_FIELDS = ("addressType", "subnetwork", "networkTier", "address")

RESOURCE_NAMES = {
    "address": "address",
    "healthCheck": "health-check",
    "backendService": "backend-service",
    "forwardingRule": "forwarding-rule",
    "firewall": "firewall",
}


@dataclass(frozen=True)
class Step:
    action: str  # "create" | "update" | "delete"
    kind: str  # "address" | "healthCheck" | "backendService" | "forwardingRule" | "firewall"
    name: str
    body: Json | None = None
    fingerprint: str | None = None
    detail: str = ""

    def change(self) -> Change:
        return Change(self.action, RESOURCE_NAMES[self.kind], self.name, self.detail)


@dataclass(frozen=True)
class Desired:
    address: Json | None  # None: a user-reserved address (`user_ip`) is used
    user_ip: str | None
    health_check: Json
    backend_service: Json
    forwarding_rules: dict[str, Json]
    firewalls: dict[str, Json]


@dataclass(frozen=True)
class Actual:
    address: Json | None = None  # ours, by name
    health_check: Json | None = None
    backend_service: Json | None = None
    forwarding_rules: dict[str, Json] = field(default_factory=dict)
    firewalls: dict[str, Json] = field(default_factory=dict)


def _norm(value: Any) -> Any:
    if isinstance(value, str):
        return relative(value)
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, (int, float)):
        return str(value)
    return value


def differences(desired: Any, actual: Any, path: str = "") -> list[str]:
    """Paths where `desired` is not matched by `actual`."""
    if isinstance(desired, dict):
        actual = actual if isinstance(actual, dict) else {}
        out: list[str] = []
        for key, want in desired.items():
            if key in IGNORED and not path:
                continue
            out += differences(want, actual.get(key), f"{path}.{key}" if path else key)
        return out
    if isinstance(desired, list):
        have = actual if isinstance(actual, list) else []
        if len(desired) != len(have):
            return [path]
        if all(not isinstance(x, (dict, list)) for x in desired):
            return (
                []
                if sorted(map(str, map(_norm, desired))) == sorted(map(str, map(_norm, have)))
                else [path]
            )
        # lists of objects: pair them in a stable order
        key = _sort_key
        for want, got in zip(sorted(desired, key=key), sorted(have, key=key), strict=True):
            if differences(want, got, path):
                return [path]
        return []
    if desired in (False, "", 0, None) and actual in (False, "", 0, None):
        return []
    return [] if _norm(desired) == _norm(actual) else [path]


def _sort_key(item: Any) -> str:
    if isinstance(item, dict):
        return "|".join(
            f"{k}={_norm(v)}" for k, v in sorted(item.items()) if not isinstance(v, (dict, list))
        )
    return str(_norm(item))


def _detail(fields: list[str]) -> str:
    return "changed: " + ", ".join(sorted(set(fields)))


def plan(desired: Desired, actual: Actual) -> list[Step]:
    """The ordered steps from `actual` to `desired`."""
    deletes_fr: list[Step] = []
    deletes_other: list[Step] = []
    creates: list[Step] = []

    # address: decides the IP everything else points at
    address_recreated = False
    ip: str | None = desired.user_ip
    if desired.address is None:
        if actual.address is not None:
            deletes_other.append(
                Step(
                    "delete",
                    "address",
                    actual.address["name"],
                    detail="replaced by the user's reserved address",
                )
            )
    elif actual.address is None:
        creates.append(Step("create", "address", desired.address["name"], desired.address))
    else:
        wanted = {k: desired.address[k] for k in ADDRESS_FIELDS if k in desired.address}
        diff = differences(wanted, actual.address)
        if diff:
            address_recreated = True
            deletes_other.append(
                Step(
                    "delete",
                    "address",
                    actual.address["name"],
                    detail="recreated: " + _detail(diff),
                )
            )
            creates.append(
                Step(
                    "create",
                    "address",
                    desired.address["name"],
                    desired.address,
                    detail=_detail(diff),
                )
            )
        else:
            ip = actual.address.get("address")

    # backend service (and health check, which is never recreated)
    hc = desired.health_check
    hc_steps: list[Step] = []
    if actual.health_check is None:
        hc_steps.append(Step("create", "healthCheck", hc["name"], hc))
    elif diff := differences(hc, actual.health_check):
        hc_steps.append(Step("update", "healthCheck", hc["name"], hc, detail=_detail(diff)))

    bs = desired.backend_service
    bs_steps: list[Step] = []
    bs_recreated = False
    if actual.backend_service is None:
        bs_steps.append(Step("create", "backendService", bs["name"], bs))
    elif diff := differences(bs, actual.backend_service):
        if any(d in RECREATE_BACKEND_SERVICE for d in diff):
            bs_recreated = True
            deletes_other.insert(
                0,
                Step("delete", "backendService", bs["name"], detail="recreated: " + _detail(diff)),
            )
            bs_steps.append(Step("create", "backendService", bs["name"], bs, detail=_detail(diff)))
        else:
            bs_steps.append(
                Step(
                    "update",
                    "backendService",
                    bs["name"],
                    bs,
                    actual.backend_service.get("fingerprint"),
                    detail=_detail(diff),
                )
            )

    # forwarding rules: immutable
    fr_creates: list[Step] = []
    for name, want in desired.forwarding_rules.items():
        body = fill_address(want, ip) if ip else want
        have = actual.forwarding_rules.get(name)
        if have is None:
            fr_creates.append(Step("create", "forwardingRule", name, body))
            continue
        diff = differences(body, have)
        reason = (
            diff
            or (["backendService"] if bs_recreated else [])
            or (["IPAddress"] if address_recreated else [])
        )
        if reason:
            deletes_fr.append(
                Step("delete", "forwardingRule", name, detail="recreated: " + _detail(reason))
            )
            fr_creates.append(Step("create", "forwardingRule", name, body, detail=_detail(reason)))
    for name in sorted(set(actual.forwarding_rules) - set(desired.forwarding_rules)):
        deletes_fr.append(Step("delete", "forwardingRule", name, detail="protocol no longer used"))

    # firewalls
    fw_steps: list[Step] = []
    for name, want in desired.firewalls.items():
        body = fill_address(want, ip) if ip else want
        have = actual.firewalls.get(name)
        if have is None:
            fw_steps.append(Step("create", "firewall", name, body))
        elif diff := differences(body, have):
            if any(d in RECREATE_FIREWALL for d in diff):
                fw_steps.append(
                    Step("delete", "firewall", name, detail="recreated: " + _detail(diff))
                )
                fw_steps.append(Step("create", "firewall", name, body, detail=_detail(diff)))
            else:
                fw_steps.append(Step("update", "firewall", name, body, detail=_detail(diff)))

    return deletes_fr + deletes_other + creates + hc_steps + bs_steps + fr_creates + fw_steps


def needs_address(steps: list[Step]) -> bool:
    return any(s.kind == "address" and s.action == "create" for s in steps)


def unresolved(body: Json | None) -> bool:
    """True while a body still waits for the new address."""
    return body is not None and NEW_ADDRESS in repr(body)
