"""Desired vs observed -> the smallest set of changes. Pure.

An empty `Diff` means an unchanged resync: `apply` then makes no mutating call.
Attributes AWS does not report (moto omits some; AWS omits unset ones) compare against
AWS's documented defaults, so a default we want is not "changed" on every resync.
Things AWS cannot change in place force a re-create of the NLB: the scheme, the static
addresses it was created with, and going from no security group to some (or back).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from cloud_lb.provider import Change
from providers.aws.naming import STATIC_ADDRESSES_TAG
from providers.aws.security_groups import BACKEND, FRONTEND, Rule
from providers.aws.state import (
    Desired,
    DesiredListener,
    DesiredTargetGroup,
    Observed,
    ObservedListener,
    ObservedTargetGroup,
    SubnetMapping,
)

LB_DEFAULT_ATTRIBUTES = {"load_balancing.cross_zone.enabled": "false"}
TG_DEFAULT_ATTRIBUTES = {
    "proxy_protocol_v2.enabled": "false",
    "preserve_client_ip.enabled": "true",
    "deregistration_delay.timeout_seconds": "300",
    "deregistration_delay.connection_termination.enabled": "false",
    "stickiness.enabled": "false",
    "stickiness.type": "source_ip",
    "target_health_state.unhealthy.connection_termination.enabled": "true",
}

Pairs = tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class LoadBalancerDiff:
    create: bool = False
    recreate_reason: str = ""  # non-empty: delete and create again
    set_security_groups: tuple[str, ...] | None = None
    set_ip_address_type: str | None = None
    set_subnets: tuple[SubnetMapping, ...] | None = None
    add_tags: Pairs = ()
    attributes: Pairs = ()

    @property
    def creates(self) -> bool:
        return self.create or bool(self.recreate_reason)


@dataclass(frozen=True)
class TargetGroupDiff:
    create: tuple[DesiredTargetGroup, ...] = ()
    modify_health: tuple[tuple[ObservedTargetGroup, DesiredTargetGroup], ...] = ()
    modify_attributes: tuple[tuple[ObservedTargetGroup, Pairs], ...] = ()
    add_tags: tuple[tuple[ObservedTargetGroup, Pairs], ...] = ()
    delete: tuple[ObservedTargetGroup, ...] = ()


@dataclass(frozen=True)
class ListenerDiff:
    create: tuple[DesiredListener, ...] = ()
    modify: tuple[tuple[ObservedListener, DesiredListener], ...] = ()  # new target group
    delete: tuple[ObservedListener, ...] = ()  # gone, or protocol changed (created again)


@dataclass(frozen=True)
class TargetChange:
    target_group: str  # name
    register: tuple[str, ...] = ()
    deregister: tuple[str, ...] = ()


@dataclass(frozen=True)
class RuleDiff:
    authorize: tuple[Rule, ...] = ()
    revoke: tuple[Rule, ...] = ()


@dataclass(frozen=True)
class Diff:
    lb: LoadBalancerDiff
    create_frontend_sg: bool
    delete_frontend_sg: str | None
    target_groups: TargetGroupDiff
    listeners: ListenerDiff
    targets: tuple[TargetChange, ...]
    rules: RuleDiff
    lb_name: str = ""
    create_backend_sg: str = ""  # the name of the cluster's shared group to create
    lb_type: str = "network"

    @property
    def empty(self) -> bool:
        return not self.changes()

    def changes(self) -> list[Change]:
        out: list[Change] = []
        if self.create_backend_sg:
            out.append(
                Change(
                    "create",
                    "security-group",
                    self.create_backend_sg,
                    "shared by the cluster's load balancers",
                )
            )
        if self.create_frontend_sg:
            out.append(Change("create", "security-group", self.lb_name))
        lb = self.lb
        if lb.create:
            out.append(Change("create", "load-balancer", self.lb_name, self.lb_type))
        elif lb.recreate_reason:
            out.append(
                Change("update", "load-balancer", self.lb_name, f"re-create: {lb.recreate_reason}")
            )
        if lb.set_security_groups is not None:
            out.append(
                Change(
                    "update",
                    "load-balancer",
                    self.lb_name,
                    f"security groups {','.join(lb.set_security_groups)}",
                )
            )
        if lb.set_ip_address_type:
            out.append(
                Change(
                    "update",
                    "load-balancer",
                    self.lb_name,
                    f"ip address type {lb.set_ip_address_type}",
                )
            )
        if lb.set_subnets is not None:
            out.append(
                Change(
                    "update",
                    "load-balancer",
                    self.lb_name,
                    "subnets " + ",".join(m.subnet_id for m in lb.set_subnets),
                )
            )
        if lb.add_tags:
            out.append(
                Change("update", "load-balancer", self.lb_name, "tags " + _keys(lb.add_tags))
            )
        for key, value in lb.attributes:
            out.append(Change("update", "load-balancer", self.lb_name, f"{key}={value}"))
        tgs = self.target_groups
        for tg in tgs.create:
            out.append(
                Change(
                    "create", "target-group", tg.name, f"{tg.protocol}:{tg.port} health {tg.health}"
                )
            )
        for old, new in tgs.modify_health:
            out.append(
                Change("update", "target-group", old.name, f"health {old.health} -> {new.health}")
            )
        for old, attrs in tgs.modify_attributes:
            out.append(
                Change("update", "target-group", old.name, ", ".join(f"{k}={v}" for k, v in attrs))
            )
        for old, tags in tgs.add_tags:
            out.append(Change("update", "target-group", old.name, "tags " + _keys(tags)))
        for li in self.listeners.create:
            out.append(
                Change("create", "listener", f"{li.protocol}/{li.port}", f"-> {li.target_group}")
            )
        for _old, li in self.listeners.modify:
            out.append(
                Change("update", "listener", f"{li.protocol}/{li.port}", f"-> {li.target_group}")
            )
        for old_li in self.listeners.delete:
            out.append(Change("delete", "listener", f"{old_li.protocol}/{old_li.port}"))
        for tc in self.targets:
            if tc.register or tc.deregister:
                detail = " ".join(
                    [*(f"+{t}" for t in tc.register), *(f"-{t}" for t in tc.deregister)]
                )
                out.append(Change("update", "targets", tc.target_group, detail))
        for gone in tgs.delete:
            out.append(Change("delete", "target-group", gone.name))
        for rule in self.rules.authorize:
            out.append(Change("create", "security-group-rule", str(rule)))
        for rule in self.rules.revoke:
            out.append(Change("delete", "security-group-rule", str(rule)))
        if self.delete_frontend_sg:
            out.append(Change("delete", "security-group", self.delete_frontend_sg))
        return out


def diff(desired: Desired, observed: Observed, *, our_description: str) -> Diff:
    lb_diff = _diff_lb(desired, observed)
    tg_diff = _diff_target_groups(desired, observed)
    observed_listeners = () if lb_diff.creates else observed.listeners
    return Diff(
        lb=lb_diff,
        create_frontend_sg=desired.frontend_sg is not None and observed.frontend_sg_id is None,
        delete_frontend_sg=observed.frontend_sg_id if desired.frontend_sg is None else None,
        target_groups=tg_diff,
        listeners=_diff_listeners(desired, observed_listeners, observed.target_groups),
        targets=_diff_targets(desired, observed),
        rules=_diff_rules(desired, observed, our_description),
        lb_name=desired.lb.name,
        lb_type=desired.lb.type,
        create_backend_sg=desired.backend_sg.name
        if desired.backend_sg is not None and observed.backend_sg_id is None
        else "",
    )


def _diff_lb(desired: Desired, observed: Observed) -> LoadBalancerDiff:
    want = desired.lb
    have = observed.lb
    if have is None:
        return LoadBalancerDiff(
            create=True, attributes=_changed(want.attributes, {}, LB_DEFAULT_ATTRIBUTES)
        )
    reason = ""
    if have.scheme != want.scheme:
        reason = f"scheme {have.scheme} -> {want.scheme}"
    elif have.tag_map.get(STATIC_ADDRESSES_TAG, "") != want.static_addresses:
        reason = "static addresses changed"
    elif bool(have.security_groups) != bool(want.security_groups):
        reason = "security groups can only be set when the NLB is created"
    if reason:
        return LoadBalancerDiff(
            recreate_reason=reason, attributes=_changed(want.attributes, {}, LB_DEFAULT_ATTRIBUTES)
        )
    return LoadBalancerDiff(
        set_security_groups=want.security_groups
        if set(want.security_groups) != set(have.security_groups)
        else None,
        set_ip_address_type=want.ip_address_type
        if want.ip_address_type != have.ip_address_type
        else None,
        set_subnets=want.subnets if set(want.subnet_ids) != set(have.subnets) else None,
        add_tags=_changed(want.tags, have.tag_map, {}),
        attributes=_changed(want.attributes, dict(observed.attributes), LB_DEFAULT_ATTRIBUTES),
    )


def _diff_target_groups(desired: Desired, observed: Observed) -> TargetGroupDiff:
    have = {tg.name: tg for tg in observed.target_groups}
    wanted = {tg.name for tg in desired.target_groups}
    create: list[DesiredTargetGroup] = []
    health: list[tuple[ObservedTargetGroup, DesiredTargetGroup]] = []
    attrs: list[tuple[ObservedTargetGroup, Pairs]] = []
    tags: list[tuple[ObservedTargetGroup, Pairs]] = []
    for tg in desired.target_groups:
        old = have.get(tg.name)
        if old is None:
            create.append(tg)
            continue
        if not _same_health(old, tg):
            health.append((old, tg))
        changed = _changed(tg.attributes, dict(old.attributes), TG_DEFAULT_ATTRIBUTES)
        if changed:
            attrs.append((old, changed))
        missing_tags = _changed(tg.tags, dict(old.tags), {})
        if missing_tags:
            tags.append((old, missing_tags))
    return TargetGroupDiff(
        create=tuple(create),
        modify_health=tuple(health),
        modify_attributes=tuple(attrs),
        add_tags=tuple(tags),
        delete=tuple(tg for tg in observed.target_groups if tg.name not in wanted),
    )


def _diff_listeners(
    desired: Desired,
    observed: tuple[ObservedListener, ...],
    target_groups: tuple[ObservedTargetGroup, ...],
) -> ListenerDiff:
    arn_of = {tg.name: tg.arn for tg in target_groups}
    have = {li.port: li for li in observed}
    wanted = {li.port for li in desired.listeners}
    create: list[DesiredListener] = []
    modify: list[tuple[ObservedListener, DesiredListener]] = []
    delete: list[ObservedListener] = [li for li in observed if li.port not in wanted]
    for li in desired.listeners:
        old = have.get(li.port)
        if old is None:
            create.append(li)
        elif old.protocol != li.protocol:
            delete.append(old)
            create.append(li)
        elif old.target_group_arn != arn_of.get(li.target_group):
            modify.append((old, li))
    return ListenerDiff(create=tuple(create), modify=tuple(modify), delete=tuple(delete))


def _diff_targets(desired: Desired, observed: Observed) -> tuple[TargetChange, ...]:
    have = {tg.name: tg.targets for tg in observed.target_groups}
    changes: list[TargetChange] = []
    for tg in desired.target_groups:
        current = have.get(tg.name, frozenset())
        changes.append(
            TargetChange(
                target_group=tg.name,
                register=tuple(sorted(desired.targets - current)),
                deregister=tuple(sorted(current - desired.targets)),
            )
        )
    return tuple(c for c in changes if c.register or c.deregister)


def _diff_rules(desired: Desired, observed: Observed, our_description: str) -> RuleDiff:
    frontend = observed.frontend_sg_id
    ids = {k: v for k, v in ((FRONTEND, frontend), (BACKEND, observed.backend_sg_id)) if v}
    want = [r.resolve(ids) for r in desired.rules]
    have_keys = {r.key for r in observed.rules}
    want_keys = {r.key for r in want}
    managed = set(desired.managed_groups)
    if frontend and desired.frontend_sg is not None:
        managed.add(frontend)
    elif frontend:
        managed.discard(frontend)  # the whole group is about to be deleted
    return RuleDiff(
        authorize=tuple(r for r in want if r.key not in have_keys),
        revoke=tuple(
            r
            for r in observed.rules
            if r.description == our_description and r.group_id in managed and r.key not in want_keys
        ),
    )


def _same_health(old: ObservedTargetGroup, new: DesiredTargetGroup) -> bool:
    have = old.health
    if have.matcher is None and new.health.matcher is not None:
        # AWS always reports the matcher of an HTTP check; moto forgets it when a TCP
        # check is modified into an HTTP one. "Not reported" is not a difference.
        have = dataclasses.replace(have, matcher=new.health.matcher)
    return have == new.health


def attributes_on_create(tg: DesiredTargetGroup) -> Pairs:
    """The attributes a new target group needs set (those not at AWS's default)."""
    return _changed(tg.attributes, {}, TG_DEFAULT_ATTRIBUTES)


def _changed(want: Pairs, have: dict[str, str], defaults: dict[str, str]) -> Pairs:
    return tuple((k, v) for k, v in want if have.get(k, defaults.get(k)) != v)


def _keys(pairs: Pairs) -> str:
    return ",".join(k for k, _ in pairs)
