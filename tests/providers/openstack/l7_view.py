"""Read the fake OpenStack's L7 state as plain data, to compare with what a spec asks."""

from __future__ import annotations

from typing import Any

from cloud_lb.testing.fakeopenstack import FakeOpenStack

Rule = tuple[str, str, str]


def rules_of(fake: FakeOpenStack, policy: dict[str, Any]) -> list[Rule]:
    ids = {r["id"] for r in policy["rules"]}
    return sorted((r["type"], r["compare_type"], r["value"])
                  for r in fake.resources("l7rules") if r["id"] in ids)


def listener(fake: FakeOpenStack, protocol: str,
             lb_listeners: set[str] | None = None) -> dict[str, Any]:
    """The one listener of that protocol (among `lb_listeners` ids, when given)."""
    [found] = [li for li in fake.resources("listeners") if li["protocol"] == protocol
               and (lb_listeners is None or li["id"] in lb_listeners)]
    return found


def routes(fake: FakeOpenStack, protocol: str, lb_listeners: set[str] | None = None
           ) -> list[tuple[str, str, list[Rule]]]:
    """(action, target, rules) of one listener's policies, in position order; targets
    are pool names or redirect prefixes with their code."""
    pools = {p["id"]: p["name"] for p in fake.resources("pools")}
    li = listener(fake, protocol, lb_listeners)
    policies = sorted((p for p in fake.resources("l7policies") if p["listener_id"] == li["id"]),
                      key=lambda p: p["position"])
    assert [p["position"] for p in policies] == list(range(1, len(policies) + 1))
    return [(p["action"], pools.get(p["redirect_pool_id"] or "") or
             f"{p['redirect_http_code']} {p['redirect_prefix']}", rules_of(fake, p))
            for p in policies]


def ids(fake: FakeOpenStack, collection: str) -> set[str]:
    return {r["id"] for r in fake.resources(collection)}
