"""Read an Ingress load balancer's tree: `observe` (listeners, pools, monitors, members)
plus each listener's L7 policies and each policy's rules.

Octavia lists policies per listener but rules only per policy (a policy shows its rules'
ids, not their content), so a whole tree costs 4 + <pools> + <listeners> + <policies>
reads. Rules are read rather than trusted from a cache (a description, a tag): a rule
edited by hand is found and put back.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from providers.openstack.calls import Cloud
from providers.openstack.calls_l7 import L7Calls
from providers.openstack.l7_diff import ObservedIngressLB, ObservedPolicy, ObservedRule
from providers.openstack.observe import observe


def observe_ingress(cloud: Cloud, l7: L7Calls, lb: Any, uid: str, *,
                    container_names: Mapping[str, str]) -> ObservedIngressLB:
    base = observe(cloud, lb, uid)
    policies = {li.id: tuple(_policy(l7, p) for p in l7.l7_policies(li.id)
                             if p.get("provisioning_status") != "PENDING_DELETE")
                for li in base.listeners}
    return ObservedIngressLB(lb=base, policies=policies, container_names=container_names)


def _policy(l7: L7Calls, raw: dict[str, Any]) -> ObservedPolicy:
    rules = tuple(
        ObservedRule(id=r["id"], type=r.get("type", ""), compare_type=r.get("compare_type", ""),
                     value=r.get("value", ""), invert=bool(r.get("invert")), key=r.get("key"))
        for r in (l7.l7_rules(raw["id"]) if raw.get("rules") else [])
        if r.get("provisioning_status") != "PENDING_DELETE")
    return ObservedPolicy(
        id=raw["id"], name=raw.get("name") or "", action=raw.get("action", ""),
        position=int(raw.get("position") or 0), redirect_pool_id=raw.get("redirect_pool_id"),
        redirect_prefix=raw.get("redirect_prefix"),
        redirect_http_code=raw.get("redirect_http_code"), rules=rules)
