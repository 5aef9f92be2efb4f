"""What an Ingress load balancer has vs. what we want -> ordered Octavia writes. Pure.

Objects are matched by identity that survives a change: listeners by port, pools by
name, policies first by equal content, then by name (route_<host>_<backend>, so a
changed path keeps its policy and only the PATH rule is rewritten), rules within a
policy by type. Steps come out in an order Octavia accepts, each one API call:

1. the load balancer's own tags/name;
2. policies that go (on listeners that stay) - they may hold pools that go;
3. listeners that go (a protocol change is delete + create: freeing the port first);
4. pools: created (with members and monitor), or updated in place;
5. listeners created (their policies follow), listeners updated (default pool,
   certificates, headers, timeouts ...);
6. per listener: policy content updates and rule writes, then the creates and moves of
   `l7_order.placements` (positions are Octavia's, computed on the list as it will be);
7. pools no longer used.

Objects created in this run are referred to by `Ref(kind, name)` in later steps'
bodies; the provider resolves them to the ids Octavia returned.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from cloud_lb.provider import Change
from providers.openstack.diff import (
    ObservedLB,
    ObservedListener,
    Step,
    norm,
    pool_detail,
    pool_steps,
)
from providers.openstack.l7_order import placements
from providers.openstack.l7_policies import DesiredPolicy, DesiredRule
from providers.openstack.l7_render import DesiredIngressLB, DesiredL7Listener


@dataclass(frozen=True)
class Ref:
    """An object created earlier in the same apply, known by name until then."""

    kind: str  # "pool" | "listener" | "l7policy"
    name: str


@dataclass(frozen=True)
class ObservedRule:
    id: str
    type: str
    compare_type: str
    value: str
    invert: bool = False
    key: str | None = None

    @property
    def same_as(self) -> tuple[str, str, str, bool, str | None]:
        return (self.type, self.compare_type, self.value, self.invert, self.key)


@dataclass(frozen=True)
class ObservedPolicy:
    id: str
    name: str
    action: str
    position: int
    redirect_pool_id: str | None
    redirect_prefix: str | None
    redirect_http_code: int | None
    rules: tuple[ObservedRule, ...]


@dataclass(frozen=True)
class ObservedIngressLB:
    lb: ObservedLB  # listeners, pools (members, monitors)
    policies: Mapping[str, tuple[ObservedPolicy, ...]] = field(default_factory=dict)
    container_names: Mapping[str, str] = field(default_factory=dict)  # ref -> our name

    def tls_names(self, listener: ObservedListener) -> tuple[str | None, tuple[str, ...]]:
        """The listener's certificates by our container names (foreign refs as they are)."""
        name = self.container_names.get
        default = name(listener.default_tls_ref, listener.default_tls_ref) \
            if listener.default_tls_ref else None
        return default, tuple(name(r, r) for r in listener.sni_refs)


def _wanted_rule(rule: DesiredRule) -> tuple[str, str, str, bool, str | None]:
    return (rule.type, rule.compare_type, rule.value, False, None)


def _same(have: ObservedPolicy, want: DesiredPolicy, pool_name: Callable[[str | None], str]
          ) -> bool:
    return (have.name == want.name and have.action == want.action
            and (have.redirect_pool_id is None) == (want.redirect_pool is None)
            and (want.redirect_pool is None or pool_name(have.redirect_pool_id)
                 == want.redirect_pool)
            and have.redirect_prefix == want.redirect_prefix
            and (want.redirect_prefix is None
                 or have.redirect_http_code == want.redirect_http_code)
            and sorted(r.same_as for r in have.rules)
            == sorted(_wanted_rule(r) for r in want.rules))


def pair_policies(have: Sequence[ObservedPolicy], want: Sequence[DesiredPolicy],
                  pool_name: Callable[[str | None], str]) -> dict[int, int]:
    """wanted index -> observed index: equal content first, then same name and action
    (a changed path: its rule is rewritten), then same action and rules (a changed
    backend: the policy is pointed at the other pool)."""
    pairs: dict[int, int] = {}
    free = list(range(len(have)))
    for test in (lambda h, w: _same(h, w, pool_name),
                 lambda h, w: h.name == w.name and h.action == w.action,
                 lambda h, w: h.action == w.action and sorted(r.same_as for r in h.rules)
                 == sorted(_wanted_rule(r) for r in w.rules)):
        for wi, w in enumerate(want):
            if wi in pairs:
                continue
            hit = next((hi for hi in free if test(have[hi], w)), None)
            if hit is not None:
                pairs[wi] = hit
                free.remove(hit)
    return pairs


def diff_ingress(observed: ObservedIngressLB, desired: DesiredIngressLB,
                 refs: Mapping[str, str]) -> list[Step]:
    """`refs`: container name -> Barbican reference for the wanted certificates."""
    lb = observed.lb
    tags = list(desired.child_tags)
    steps: dict[int, list[Step]] = {n: [] for n in range(1, 8)}
    lb_update: dict[str, Any] = {}
    missing = [t for t in desired.tags if t not in lb.tags]
    if missing:
        lb_update["tags"] = list(lb.tags) + missing
    if lb.name != desired.name:
        lb_update["name"] = desired.name
    if lb_update:
        steps[1].append(Step("update_load_balancer", lb.id, lb_update,
                             Change("update", "loadbalancer", desired.name,
                                    ", ".join(sorted(lb_update)))))
    pool_by_name = {p.name: p for p in lb.pools if p.protocol == "HTTP"}
    names_by_id = {p.id: p.name for p in lb.pools}

    def pool_name(pool_id: str | None) -> str:
        return names_by_id.get(pool_id or "", pool_id or "")

    def pool_ref(name: str | None) -> Any:
        if name is None:
            return None
        return pool_by_name[name].id if name in pool_by_name else Ref("pool", name)

    for want_pool in desired.pools:
        have_pool = pool_by_name.get(want_pool.name)
        if have_pool is None:
            steps[4].append(Step("create_pool", lb.id,
                                 {**want_pool.body(tags), "loadbalancer_id": lb.id},
                                 Change("create", "pool", want_pool.name,
                                        pool_detail(want_pool))))
        else:
            steps[4].extend(pool_steps(have_pool, want_pool, tags))
    wanted_pools = {p.name for p in desired.pools}
    for have_pool in lb.pools:
        if have_pool.name not in wanted_pools or pool_by_name.get(have_pool.name) is not \
                have_pool:
            steps[7].append(Step("delete_pool", have_pool.id, {},
                                 Change("delete", "pool", have_pool.name, "not wanted")))

    wanted = {li.key: li for li in desired.listeners}
    for have in lb.listeners:
        want = wanted.get(have.key)
        if want is None or want.protocol != have.protocol:
            steps[3].append(Step("delete_listener", have.id, {},
                                 Change("delete", "listener", have.name,
                                        f"{have.protocol}/{have.protocol_port}")))
            continue
        del wanted[have.key]
        steps[5].extend(_listener_update(observed, have, want, refs, pool_ref))
        _policy_steps(steps, observed.policies.get(have.id, ()), want, have.id, tags,
                      pool_name, pool_ref)
    for want in desired.listeners:
        if want.key not in wanted:
            continue
        body = {**want.body(tags, refs), "loadbalancer_id": lb.id,
                "default_pool_id": pool_ref(want.default_pool)}
        steps[5].append(Step("create_listener", lb.id, body,
                             Change("create", "listener", want.name,
                                    f"{want.protocol}/{want.protocol_port}, "
                                    f"{len(want.policies)} policies")))
        _policy_steps(steps, (), want, Ref("listener", want.name), tags, pool_name, pool_ref)
    return [s for n in sorted(steps) for s in steps[n]]


def _listener_update(observed: ObservedIngressLB, have: ObservedListener,
                     want: DesiredL7Listener, refs: Mapping[str, str],
                     pool_ref: Callable[[str | None], Any]) -> list[Step]:
    default_tls, sni = observed.tls_names(have)
    current = {"name": have.name,
               "allowed_cidrs": sorted(have.allowed_cidrs) if have.allowed_cidrs else None,
               "connection_limit": have.connection_limit, **dict(have.timeouts),
               "insert_headers": dict(have.insert_headers)}
    target = want.updatable({})  # compared by container name
    changed = {k: v for k, v in target.items()
               if k not in ("default_tls_container_ref", "sni_container_refs")
               and norm(current.get(k)) != norm(v)}
    detail = sorted(changed)
    if "allowed_cidrs" in changed and changed["allowed_cidrs"] is None:
        changed["allowed_cidrs"] = []  # Octavia clears the allow-list with an empty list
    resolved = want.updatable(refs)
    if default_tls != want.default_tls:
        changed["default_tls_container_ref"] = resolved["default_tls_container_ref"]
        detail.append("default certificate")
    if sorted(sni) != sorted(want.sni):
        changed["sni_container_refs"] = resolved["sni_container_refs"]
        detail.append("SNI certificates")
    have_pool = observed.lb.pool(have.default_pool_id)
    if (have_pool.name if have_pool else have.default_pool_id) != want.default_pool:
        changed["default_pool_id"] = pool_ref(want.default_pool)
        detail.append(f"default pool {want.default_pool or 'none'}")
    if not changed:
        return []
    return [Step("update_listener", have.id, changed,
                 Change("update", "listener", want.name, ", ".join(detail)))]


def _policy_body(policy: DesiredPolicy, pool_ref: Callable[[str | None], Any]
                 ) -> dict[str, Any]:
    if policy.action == "REDIRECT_TO_POOL":
        return {"action": policy.action, "redirect_pool_id": pool_ref(policy.redirect_pool)}
    return {"action": policy.action, "redirect_prefix": policy.redirect_prefix,
            "redirect_http_code": policy.redirect_http_code}


def _policy_steps(steps: dict[int, list[Step]], have: Sequence[ObservedPolicy],
                  want: DesiredL7Listener, listener: Any, tags: list[str],
                  pool_name: Callable[[str | None], str],
                  pool_ref: Callable[[str | None], Any]) -> None:
    ordered = sorted(have, key=lambda p: p.position)
    pairs = pair_policies(ordered, want.policies, pool_name)
    kept = set(pairs.values())
    for hi, gone in enumerate(ordered):
        if hi not in kept:
            steps[2].append(Step("delete_l7policy", gone.id, {},
                                 Change("delete", "l7policy", gone.name,
                                        f"on {want.name}")))
    index_of = {hi: wi for wi, hi in pairs.items()}
    order = placements([index_of[hi] for hi in range(len(ordered)) if hi in kept],
                       len(want.policies))
    moving = {p.index for p in order if p.action == "move"}
    updates: dict[int, dict[str, Any]] = {}
    for wi, hi in sorted(pairs.items()):
        got, policy = ordered[hi], want.policies[wi]
        if not _same(got, policy, pool_name):
            updates[wi] = {k: v for k, v in _policy_body(policy, pool_ref).items()
                           if k != "action" or got.action != policy.action}
            updates[wi] = {k: v for k, v in updates[wi].items()
                           if not _unchanged(got, k, v)}
            if got.name != policy.name:
                updates[wi]["name"] = policy.name
        if updates.get(wi) and wi not in moving:
            steps[6].append(_update_step(got, policy, updates[wi]))
        steps[6].extend(_rule_steps(got, policy, tags))
    # creates and moves last, in placement order: each position assumes the ones before
    for placement in order:
        policy = want.policies[placement.index]
        if placement.action == "move":
            got = ordered[pairs[placement.index]]
            steps[6].append(_update_step(got, policy, {**updates.get(placement.index, {}),
                                                       "position": placement.position}))
            continue
        body = {"listener_id": listener, "name": policy.name, "tags": tags,
                "position": placement.position, **_policy_body(policy, pool_ref),
                "rules": [r.body(tags) for r in policy.rules]}
        steps[6].append(Step("create_l7policy", "", body,
                             Change("create", "l7policy", policy.name,
                                    f"#{placement.position} {policy.describe()}")))


def _unchanged(got: ObservedPolicy, key: str, value: Any) -> bool:
    if key == "redirect_pool_id":
        return not isinstance(value, Ref) and value == got.redirect_pool_id
    return bool(getattr(got, key, None) == value)


def _update_step(got: ObservedPolicy, policy: DesiredPolicy, update: dict[str, Any]) -> Step:
    what = ", ".join(f"position {v}" if k == "position" else
                     f"{k} {v.name if isinstance(v, Ref) else v}" for k, v in update.items())
    return Step("update_l7policy", got.id, update,
                Change("update", "l7policy", policy.name, what))


def _rule_steps(have: ObservedPolicy, want: DesiredPolicy, tags: list[str]) -> list[Step]:
    out: list[Step] = []
    left = list(have.rules)
    for rule in want.rules:
        exact = next((r for r in left if r.same_as == _wanted_rule(rule)), None)
        if exact is not None:
            left.remove(exact)
            continue
        similar = next((r for r in left if r.type == rule.type), None)
        if similar is None:
            out.append(Step("create_l7rule", have.id, rule.body(tags),
                            Change("create", "l7rule", want.name, str(rule))))
            continue
        left.remove(similar)
        out.append(Step("update_l7rule", f"{have.id}/{similar.id}",
                        {"compare_type": rule.compare_type, "value": rule.value,
                         "invert": False},
                        Change("update", "l7rule", want.name,
                               f"{similar.type} {similar.compare_type} {similar.value} -> "
                               f"{rule.compare_type} {rule.value}")))
    out.extend(Step("delete_l7rule", f"{have.id}/{r.id}", {},
                    Change("delete", "l7rule", want.name, f"{r.type} {r.value}"))
               for r in left)
    return out
