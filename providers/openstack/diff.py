"""What the cloud has vs. what we want -> the ordered Octavia writes to get there. Pure.

Listeners are matched by (L4 protocol, port), members by (address, port): names are
ours and stable, but matching on identity keeps a renamed or adopted object in place.
Steps come out in an order Octavia accepts: deletions first (they free ports), then
updates, then creations. Each step is one API call; the provider waits for ACTIVE
between them, because Octavia refuses a write while the load balancer is PENDING_*.

Members of one pool change through one batch update (`PUT .../members`, the whole set),
never member by member. Member weights and `backup` are not compared: an operator who
drains a node by weight keeps the drain.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from cloud_lb.provider import Change
from providers.openstack.render import DesiredLB, DesiredListener, DesiredPool, Placement, l4


@dataclass(frozen=True)
class ObservedMember:
    id: str
    name: str
    address: str
    protocol_port: int
    monitor_port: int | None
    operating_status: str = ""

    @property
    def key(self) -> tuple[str, int]:
        return (self.address, self.protocol_port)


@dataclass(frozen=True)
class ObservedMonitor:
    id: str
    name: str
    type: str
    delay: int
    timeout: int
    max_retries: int
    max_retries_down: int
    url_path: str | None
    http_method: str | None
    expected_codes: str | None


@dataclass(frozen=True)
class ObservedPool:
    id: str
    name: str
    protocol: str
    lb_algorithm: str
    members: tuple[ObservedMember, ...]
    monitor: ObservedMonitor | None


@dataclass(frozen=True)
class ObservedListener:
    id: str
    name: str
    protocol: str
    protocol_port: int
    allowed_cidrs: tuple[str, ...] | None
    connection_limit: int
    timeouts: tuple[tuple[str, int], ...]
    insert_headers: tuple[tuple[str, str], ...]
    default_pool_id: str | None
    default_tls_ref: str | None = None
    sni_refs: tuple[str, ...] = ()

    @property
    def key(self) -> tuple[str, int]:
        return (l4(self.protocol), self.protocol_port)


@dataclass(frozen=True)
class ObservedLB:
    id: str
    name: str
    tags: tuple[str, ...]
    provisioning_status: str
    vip_address: str
    vip_port_id: str
    vip_subnet_id: str | None
    vip_network_id: str | None
    flavor_id: str | None
    availability_zone: str | None
    listeners: tuple[ObservedListener, ...] = ()
    pools: tuple[ObservedPool, ...] = ()

    def pool(self, pool_id: str | None) -> ObservedPool | None:
        return next((p for p in self.pools if p.id == pool_id), None)


@dataclass(frozen=True)
class Step:
    """One Octavia write. `target` is the id written to (parent id for creations)."""

    op: str  # update_load_balancer | delete_listener | delete_pool | delete_health_monitor
    #          | update_listener | update_pool | update_health_monitor | batch_update_members
    #          | create_health_monitor | create_pool | create_listener
    target: str
    body: dict[str, Any] = field(default_factory=dict, compare=False)
    change: Change = field(default_factory=lambda: Change("update", "?", "?"))


class Placed(Protocol):
    """A wanted load balancer (Service or Ingress): what matters here is placement."""

    @property
    def placement(self) -> Placement: ...


def immutable_conflicts(observed: ObservedLB, desired: Placed) -> list[str]:
    """Placement the cloud cannot change in place: 'flavor_id has X, wants Y', ..."""
    p = desired.placement
    out = []
    for attr, want in (("flavor_id", p.flavor_id), ("availability_zone", p.availability_zone),
                       ("vip_subnet_id", p.vip_subnet_id)):
        have = getattr(observed, attr)
        if want and have and want != have:
            out.append(f"{attr} has {have}, wants {want}")
    if p.vip_network_id and not p.vip_subnet_id and observed.vip_network_id \
            and p.vip_network_id != observed.vip_network_id:
        out.append(f"vip_network_id has {observed.vip_network_id}, wants {p.vip_network_id}")
    return out


def diff(observed: ObservedLB, desired: DesiredLB) -> list[Step]:
    deletes: list[Step] = []
    updates: list[Step] = []
    creates: list[Step] = []
    lb_update: dict[str, Any] = {}
    missing_tags = [t for t in desired.tags if t not in observed.tags]
    if missing_tags:
        lb_update["tags"] = list(observed.tags) + missing_tags
    if observed.name != desired.name:
        lb_update["name"] = desired.name
    if lb_update:
        updates.append(Step("update_load_balancer", observed.id, lb_update,
                            Change("update", "loadbalancer", desired.name,
                                   ", ".join(sorted(lb_update)))))
    wanted = {li.key: li for li in desired.listeners}
    kept_pools: set[str] = set()
    child_tags = list(desired.child_tags)
    for have in observed.listeners:
        want = wanted.get(have.key)
        if want is None or want.protocol != have.protocol:
            deletes.append(Step("delete_listener", have.id, {},
                                Change("delete", "listener", have.name,
                                       f"{have.protocol}/{have.protocol_port}")))
            continue
        del wanted[have.key]
        updates.extend(_listener_steps(have, want))
        pool = observed.pool(have.default_pool_id)
        if pool is not None and pool.protocol == want.pool.protocol:
            kept_pools.add(pool.id)
            updates.extend(pool_steps(pool, want.pool, child_tags))
        else:
            if pool is not None:
                deletes.append(Step("delete_pool", pool.id, {},
                                    Change("delete", "pool", pool.name, "protocol changes")))
                kept_pools.add(pool.id)  # deleted above, not again as an orphan
            creates.append(Step("create_pool", have.id,
                                {**want.pool.body(child_tags), "listener_id": have.id},
                                Change("create", "pool", want.pool.name,
                                       pool_detail(want.pool))))
    for pool in observed.pools:
        if pool.id not in kept_pools:
            deletes.append(Step("delete_pool", pool.id, {},
                                Change("delete", "pool", pool.name, "not used by a listener")))
    for want in desired.listeners:
        if want.key in wanted:
            creates.append(Step("create_listener", observed.id,
                                {**want.body(child_tags), "loadbalancer_id": observed.id},
                                Change("create", "listener", want.name,
                                       f"{want.protocol}/{want.protocol_port} -> "
                                       f"{pool_detail(want.pool)}")))
    # deleting a listener must come before deleting the pool it used
    deletes.sort(key=lambda s: 0 if s.op == "delete_listener" else 1)
    return deletes + updates + creates


def member_steps(observed: ObservedLB, desired: DesiredLB) -> list[Step]:
    """Only the batch member updates (for update_backends): one step per differing pool."""
    wanted = {li.key: li for li in desired.listeners}
    steps = []
    for have in observed.listeners:
        want = wanted.get(have.key)
        pool = observed.pool(have.default_pool_id)
        if want is not None and pool is not None:
            steps.extend(pool_member_steps(pool, want.pool, list(desired.child_tags)))
    return steps


def member_steps_by_pool_name(observed: ObservedLB, desired: DesiredLB) -> list[Step] | None:
    """member_steps without the listeners: pools matched by our pool names. None when a
    wanted pool is not found by name (e.g. an adopted load balancer not yet converged)."""
    by_name = {p.name: p for p in observed.pools}
    steps = []
    for li in desired.listeners:
        pool = by_name.get(li.pool.name)
        if pool is None:
            return None
        steps.extend(pool_member_steps(pool, li.pool, list(desired.child_tags)))
    return steps


def _listener_steps(have: ObservedListener, want: DesiredListener) -> list[Step]:
    target = want.updatable()
    current = {"name": have.name,
               "allowed_cidrs": sorted(have.allowed_cidrs) if have.allowed_cidrs else None,
               "connection_limit": have.connection_limit, **dict(have.timeouts),
               "insert_headers": dict(have.insert_headers)}
    changed = {k: v for k, v in target.items()
               if norm(current.get(k)) != norm(v)}
    if not changed:
        return []
    if "allowed_cidrs" in changed and changed["allowed_cidrs"] is None:
        changed["allowed_cidrs"] = []  # Octavia clears the allow-list with an empty list
    return [Step("update_listener", have.id, changed,
                 Change("update", "listener", want.name, ", ".join(sorted(changed))))]


def pool_steps(pool: ObservedPool, want: DesiredPool, tags: list[str]) -> list[Step]:
    steps: list[Step] = []
    changed = {k: v for k, v in (("name", want.name), ("lb_algorithm", want.lb_algorithm))
               if getattr(pool, k) != v}
    if changed:
        steps.append(Step("update_pool", pool.id, changed,
                          Change("update", "pool", want.name, ", ".join(sorted(changed)))))
    steps.extend(_monitor_steps(pool, want, tags))
    steps.extend(pool_member_steps(pool, want, tags))
    return steps


def _monitor_steps(pool: ObservedPool, want: DesiredPool, tags: list[str]) -> list[Step]:
    have, monitor = pool.monitor, want.monitor
    if monitor is None and have is None:
        return []
    if monitor is None:
        assert have is not None
        return [Step("delete_health_monitor", have.id, {},
                     Change("delete", "healthmonitor", have.name, "disabled"))]
    create = Step("create_health_monitor", pool.id, {**monitor.body(tags), "pool_id": pool.id},
                  Change("create", "healthmonitor", monitor.name, _monitor_detail(monitor)))
    if have is None:
        return [create]
    if have.type != monitor.type:
        return [Step("delete_health_monitor", have.id, {},
                     Change("delete", "healthmonitor", have.name,
                            f"type {have.type} -> {monitor.type}")), create]
    changed = {k: v for k, v in monitor.updatable().items() if getattr(have, k) != v}
    if not changed:
        return []
    return [Step("update_health_monitor", have.id, changed,
                 Change("update", "healthmonitor", monitor.name, ", ".join(sorted(changed))))]


def pool_member_steps(pool: ObservedPool, want: DesiredPool, tags: list[str]) -> list[Step]:
    have = {m.key: m for m in pool.members}
    wanted = {m.key: m for m in want.members}
    added = sorted(set(wanted) - set(have))
    removed = sorted(set(have) - set(wanted))
    changed = sorted(k for k in set(have) & set(wanted)
                     if (have[k].monitor_port, have[k].name)
                     != (wanted[k].monitor_port, wanted[k].name))
    if not (added or removed or changed):
        return []
    parts = [f"+{len(added)}" if added else "", f"-{len(removed)}" if removed else "",
             f"~{len(changed)}" if changed else ""]
    return [Step("batch_update_members", pool.id, {"members": [m.body(tags)
                                                               for m in want.members]},
                 Change("update", "members", want.name,
                        f"{' '.join(p for p in parts if p)} -> {len(wanted)} members"))]


def norm(value: Any) -> Any:
    if value in (None, [], {}):
        return None
    if isinstance(value, list):
        return sorted(value)
    return value


def pool_detail(pool: DesiredPool) -> str:
    monitor = _monitor_detail(pool.monitor) if pool.monitor else "no monitor"
    return f"{pool.protocol} {pool.lb_algorithm}, {len(pool.members)} members, {monitor}"


def _monitor_detail(monitor: Any) -> str:
    if monitor.type in ("HTTP", "HTTPS"):
        return f"{monitor.type} GET {monitor.url_path}"
    return monitor.type
