"""Fake Octavia's rules: errors, validation, rendering and the provisioning state machine.

Errors use Octavia's (WSME) body `{"faultcode", "faultstring", "debuginfo"}` and its
messages ("Load Balancer <id> is immutable and cannot be updated.", "Quota has been met
for resources: Load Balancer", "Validation failure: ...").

State machine, as Octavia's API and worker drive it: any write to a load balancer or
one of its children needs the load balancer ACTIVE (deletes also accept ERROR) and puts
it PENDING_UPDATE (PENDING_CREATE / PENDING_DELETE for the load balancer itself); the
written child goes PENDING_CREATE / PENDING_UPDATE / PENDING_DELETE. When the operation
completes (after `Store.provisioning_delay`, evaluated lazily) everything pending goes
ACTIVE, deleted children disappear, and a deleted load balancer disappears with its
whole tree and its VIP port. `Store.fail_next_provisioning` makes completions end in
ERROR instead, like a failed amphora build.
"""

from __future__ import annotations

import ipaddress
from typing import Any

from cloud_lb.testing.fakeopenstack import neutron_ports
from cloud_lb.testing.fakeopenstack.store import Resource, Store, public, timestamp
from cloud_lb.testing.fakeopenstack.wire import ApiError

LISTENER_PROTOCOLS = ("HTTP", "HTTPS", "TCP", "TERMINATED_HTTPS", "UDP", "SCTP", "PROMETHEUS")
POOL_PROTOCOLS = ("HTTP", "HTTPS", "PROXY", "PROXYV2", "TCP", "UDP", "SCTP")
LB_ALGORITHMS = ("ROUND_ROBIN", "LEAST_CONNECTIONS", "SOURCE_IP", "SOURCE_IP_PORT")
HM_TYPES = ("HTTP", "HTTPS", "PING", "TCP", "TLS-HELLO", "UDP-CONNECT", "SCTP")
# which pool protocols a listener protocol may forward to (Octavia's VALID_LISTENER_POOL_
# PROTOCOL_MAP)
LISTENER_POOL_PROTOCOLS = {
    "TCP": ("HTTP", "HTTPS", "PROXY", "PROXYV2", "TCP"),
    "HTTP": ("HTTP", "PROXY", "PROXYV2"),
    "HTTPS": ("HTTPS", "PROXY", "PROXYV2", "TCP"),
    "TERMINATED_HTTPS": ("HTTP", "PROXY", "PROXYV2"),
    "UDP": ("UDP",),
    "SCTP": ("SCTP",),
    "PROMETHEUS": (),
}
L4 = {"HTTP": "TCP", "HTTPS": "TCP", "TCP": "TCP", "TERMINATED_HTTPS": "TCP",
      "PROMETHEUS": "TCP", "UDP": "UDP", "SCTP": "SCTP"}
PENDING = ("PENDING_CREATE", "PENDING_UPDATE", "PENDING_DELETE")
NAMES = {"loadbalancers": "Load Balancer", "listeners": "Listener", "pools": "Pool",
         "members": "Member", "healthmonitors": "Health Monitor", "l7policies": "L7 Policy",
         "l7rules": "L7 Rule", "flavors": "Flavor", "availability_zones": "Availability Zone"}
QUOTA_KEYS = {"loadbalancers": "load_balancer", "listeners": "listener", "pools": "pool",
              "members": "member", "healthmonitors": "health_monitor",
              "l7policies": "l7policy", "l7rules": "l7rule"}


# -- errors ---------------------------------------------------------------------------
def fault(status: int, message: str) -> ApiError:
    return ApiError(status, {"faultcode": "Client" if status < 500 else "Server",
                             "faultstring": message, "debuginfo": None})


def not_found(collection: str, rid: str) -> ApiError:
    return fault(404, f"{NAMES[collection]} {rid} not found.")


def immutable(collection: str, rid: str) -> ApiError:
    return fault(409, f"{NAMES[collection]} {rid} is immutable and cannot be updated.")


def validation(detail: str) -> ApiError:
    return fault(400, f"Validation failure: {detail}")


def invalid_input(attribute: str, value: Any, should: str) -> ApiError:
    return fault(400, f"Invalid input for field/attribute {attribute}. Value: '{value}'. "
                      f"{should}")


def quota_met(collection: str) -> ApiError:
    return fault(403, f"Quota has been met for resources: {NAMES[collection]}")


# -- field validation -----------------------------------------------------------------
def check_choice(attribute: str, value: Any, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise invalid_input(attribute, value, f"Value should be one of: {', '.join(choices)}")


def check_int(attribute: str, value: Any, low: int, high: int) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise invalid_input(attribute, value,
                            f"Value should be greater or equal to {low} and lower or equal "
                            f"to {high}")


def check_tags(value: Any) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(t, str) and len(t) <= 255
                                              for t in value):
        raise invalid_input("tags", value, "Value should be a list of strings of at most "
                                           "255 characters")
    return list(value)


def check_cidrs(value: Any, vip_address: str) -> list[str] | None:
    if value is None:
        return None
    if not isinstance(value, list):
        raise invalid_input("allowed_cidrs", value, "Value should be a list")
    vip_v6 = ipaddress.ip_address(vip_address).version == 6
    for cidr in value:
        try:
            net = ipaddress.ip_network(cidr, strict=False)
        except (ValueError, TypeError):
            raise invalid_input("allowed_cidrs", cidr, "Value should be IPv4 or IPv6 CIDR "
                                                       "format") from None
        if (net.version == 6) != vip_v6:
            raise validation(f"CIDR {cidr} IP version incompatible with VIP {vip_address} "
                             f"IP version.")
    return list(dict.fromkeys(value)) or None


def require_mutable(store: Store, lb: Resource, *, deleting: bool = False) -> None:
    allowed = ("ACTIVE", "ERROR") if deleting else ("ACTIVE",)
    if lb["provisioning_status"] not in allowed:
        raise immutable("loadbalancers", lb["id"])


def require_quota(store: Store, wanted: dict[str, int]) -> None:
    for collection, n in wanted.items():
        left = store.quota_left(QUOTA_KEYS[collection], collection)
        if left is not None and n > left:
            raise quota_met(collection)


# -- state machine --------------------------------------------------------------------
def begin(store: Store, lb: Resource, lb_status: str = "PENDING_UPDATE") -> None:
    """Start one provisioning operation on `lb` (children were marked by the caller)."""
    lb["provisioning_status"] = lb_status
    lb["updated_at"] = timestamp()
    lb["_ready_at"] = store.clock.now() + store.provisioning_delay
    if store.fail_next_provisioning > 0 and lb_status != "PENDING_DELETE":
        store.fail_next_provisioning -= 1
        lb["_outcome"] = "ERROR"
    else:
        lb["_outcome"] = "ACTIVE"


def mark(resource: Resource, status: str) -> None:
    resource["provisioning_status"] = status
    resource["updated_at"] = timestamp()


def children(store: Store, lb_id: str) -> list[tuple[str, Resource]]:
    out = []
    for collection in ("l7rules", "l7policies", "healthmonitors", "members", "pools",
                       "listeners"):
        out.extend((collection, r) for r in store.all(collection) if r.get("_lb_id") == lb_id)
    return out


def renumber_policies(store: Store, lb_id: str) -> None:
    """Positions 1..n per listener again, once deleted policies are gone."""
    by_listener: dict[str, list[Resource]] = {}
    for policy in store.all("l7policies"):
        if policy["_lb_id"] == lb_id:
            by_listener.setdefault(policy["listener_id"], []).append(policy)
    for policies in by_listener.values():
        for number, policy in enumerate(sorted(policies, key=lambda p: p["position"]), 1):
            policy["position"] = number


def settler(store: Store) -> Any:
    def settle(now: float) -> None:
        for lb in store.all("loadbalancers"):
            if lb["provisioning_status"] not in PENDING or lb.get("_ready_at", 0) > now:
                continue
            _complete(store, lb)
    return settle


def _complete(store: Store, lb: Resource) -> None:
    if lb["provisioning_status"] == "PENDING_DELETE":
        for collection, child in children(store, lb["id"]):
            store.remove(collection, child["id"])
        if lb.get("_owns_vip_port"):
            neutron_ports.delete_port(store, lb["vip_port_id"])
        store.remove("loadbalancers", lb["id"])
        return
    outcome = lb.get("_outcome", "ACTIVE")
    for collection, child in children(store, lb["id"]):
        if child["provisioning_status"] == "PENDING_DELETE":
            store.remove(collection, child["id"])
        elif child["provisioning_status"] in PENDING:
            child["provisioning_status"] = outcome
    renumber_policies(store, lb["id"])
    lb["provisioning_status"] = outcome
    lb["operating_status"] = "ONLINE" if outcome == "ACTIVE" else "ERROR"
    for collection, child in children(store, lb["id"]):
        child["operating_status"] = _operating(store, collection, child, outcome)


def _operating(store: Store, collection: str, child: Resource, outcome: str) -> str:
    if outcome != "ACTIVE":
        return "ERROR"
    if not child.get("admin_state_up", True):
        return "OFFLINE"
    if collection == "members":
        has_hm = any(hm.get("_pool_id") == child["_pool_id"]
                     for hm in store.all("healthmonitors"))
        return "ONLINE" if has_hm else "NO_MONITOR"
    return "ONLINE"


# -- rendering ------------------------------------------------------------------------
def render(store: Store, collection: str, resource: Resource) -> Resource:
    out = public(resource)
    rid = resource["id"]
    if collection == "loadbalancers":
        out["listeners"] = [{"id": r["id"]} for r in store.all("listeners")
                            if r["_lb_id"] == rid]
        out["pools"] = [{"id": r["id"]} for r in store.all("pools") if r["_lb_id"] == rid]
    elif collection == "listeners":
        out["loadbalancers"] = [{"id": resource["_lb_id"]}]
        out["l7policies"] = [{"id": r["id"]} for r in store.all("l7policies")
                             if r["listener_id"] == rid]
    elif collection == "pools":
        out["loadbalancers"] = [{"id": resource["_lb_id"]}]
        out["listeners"] = [{"id": r["id"]} for r in store.all("listeners")
                            if r.get("default_pool_id") == rid]
        out["members"] = [{"id": r["id"]} for r in store.all("members")
                          if r["_pool_id"] == rid]
        hms = [r["id"] for r in store.all("healthmonitors") if r["_pool_id"] == rid]
        out["healthmonitor_id"] = hms[0] if hms else None
    elif collection == "healthmonitors":
        out["pools"] = [{"id": resource["_pool_id"]}]
    elif collection == "l7policies":
        out["rules"] = [{"id": r["id"]} for r in store.all("l7rules")
                        if r["_policy_id"] == rid]
    return out


def render_full_lb(store: Store, lb: Resource) -> Resource:
    """The fully-populated create answer: listeners and pools as whole objects."""
    out = render(store, "loadbalancers", lb)
    out["listeners"] = [render(store, "listeners", r) for r in store.all("listeners")
                        if r["_lb_id"] == lb["id"]]
    pools = []
    for pool in store.all("pools"):
        if pool["_lb_id"] != lb["id"]:
            continue
        p = render(store, "pools", pool)
        p["members"] = [render(store, "members", m) for m in store.all("members")
                        if m["_pool_id"] == pool["id"]]
        hms = [render(store, "healthmonitors", h) for h in store.all("healthmonitors")
               if h["_pool_id"] == pool["id"]]
        p["healthmonitor"] = hms[0] if hms else None
        pools.append(p)
    out["pools"] = pools
    return out
