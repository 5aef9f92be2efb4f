"""What AWS has around one load balancer, read the same way for an NLB and an ALB.

`read_surroundings` reads, checking ownership before anything can change: the load
balancer with our name (`OwnershipError` if its tags are not `ref`'s), our target groups
on it, the instances behind the backends, the nodes' security groups, our own group
and the cluster's shared backend group (each `OwnershipError` when someone else's has
the name). `observed_base` then adopts target groups left by an interrupted create and
builds the shared part of `Observed`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from cloud_lb.model import LBRef, LoadBalancerSpec
from cloud_lb.provider import OwnershipError
from providers.aws.naming import (
    backend_security_group_name,
    is_backend_group,
    is_owned,
    load_balancer_name,
    security_group_name,
    tags_dict,
)
from providers.aws.observe import Observer
from providers.aws.placement import PlacementResolver
from providers.aws.render import instance_id
from providers.aws.state import Desired, Observed, ObservedLoadBalancer

log = logging.getLogger(__name__)

Raw = dict[str, Any]


@dataclass
class Surroundings:
    lb: ObservedLoadBalancer | None
    target_groups: list[tuple[Raw, dict[str, str]]]  # ours on the LB: (description, tags)
    instances: dict[str, Raw]  # instance ID -> description (running or pending only)
    node_groups: tuple[str, ...] = ()
    vpc_cidrs: tuple[str, ...] = ()
    groups: list[Raw] = field(default_factory=list)  # described security groups
    frontend_id: str | None = None
    backend_id: str | None = None


def read_surroundings(
    observer: Observer,
    placement: PlacementResolver,
    spec: LoadBalancerSpec,
    *,
    vpc_id: str,
    manage_node_rules: bool,
    wants_frontend: bool,
    wants_backend: bool,
    wants_vpc_cidrs: bool,
) -> Surroundings:
    ref = spec.ref
    lb, raw_groups, tags = observer.owned_load_balancer(ref, load_balancer_name(ref))
    ours = [
        (g, tags[g["TargetGroupArn"]])
        for g in raw_groups
        if is_owned(tags.get(g["TargetGroupArn"], {}), ref)
    ]
    instance_ids = sorted({i for b in spec.backends if (i := instance_id(b.provider_id))})
    instances = placement.instances(instance_ids)
    for missing in sorted(set(instance_ids) - set(instances)):
        log.warning("event=target_unknown object=%s instance=%s", ref, missing)
    node_groups: tuple[str, ...] = ()
    known: list[Raw] = []  # groups already described
    vpc_cidrs: tuple[str, ...] = ()
    if manage_node_rules:
        node_groups, known = placement.node_groups(instances, also=lb.security_groups if lb else ())
        if wants_vpc_cidrs:
            vpc_cidrs = placement.vpc_cidrs()

    sg_name = security_group_name(ref)
    have = {g["GroupId"] for g in known}
    groups = known + observer.security_groups(
        [g for g in (*(lb.security_groups if lb else ()), *node_groups) if g not in have]
    )
    frontend = next(
        (g for g in groups if g["GroupName"] == sg_name and g.get("VpcId", vpc_id) == vpc_id),
        None,
    )
    if frontend is None and wants_frontend:
        frontend = observer.security_group_by_name(sg_name)
        if frontend is not None:
            groups.append(frontend)
    if frontend is not None and not is_owned(tags_dict(frontend.get("Tags")), ref):
        raise OwnershipError(
            f"security group {sg_name} ({frontend['GroupId']}) exists but is not "
            f"tagged as {ref}'s; not touching it"
        )
    backend_id = _backend_group(observer, groups, ref.cluster) if wants_backend else None
    return Surroundings(
        lb=lb,
        target_groups=ours,
        instances=instances,
        node_groups=node_groups,
        vpc_cidrs=vpc_cidrs,
        groups=groups,
        frontend_id=frontend["GroupId"] if frontend is not None else None,
        backend_id=backend_id,
    )


def observed_base(
    observer: Observer,
    ref: LBRef,
    around: Surroundings,
    desired: Desired,
    *,
    nlb: bool,
) -> Observed:
    """The shared part of `Observed`; adopts our target groups that a crash left off
    the load balancer (found by name, confirmed by tag). `nlb`: also the attributes
    (load balancer and target groups) and the forwarding listeners of an NLB; an ALB
    sets no attributes and reads its listeners itself."""
    attached = {g["TargetGroupName"] for g, _ in around.target_groups}
    adopted = observer.adopt_by_name(
        ref, sorted({tg.name for tg in desired.target_groups} - attached)
    )
    lb = around.lb
    return Observed(
        lb=lb,
        attributes=observer.attributes(lb.arn) if lb and nlb else (),
        listeners=observer.listeners(lb.arn) if lb and nlb else (),
        target_groups=tuple(
            observer.target_group(g, t, with_attributes=nlb)
            for g, t in [*around.target_groups, *adopted]
        ),
        frontend_sg_id=around.frontend_id,
        backend_sg_id=around.backend_id,
        rules=observer.rules(around.groups),
    )


def _backend_group(observer: Observer, groups: list[Raw], cluster: str) -> str | None:
    """The cluster's shared backend group (appended to `groups` when read here)."""
    name = backend_security_group_name(cluster)
    found = next((g for g in groups if g["GroupName"] == name), None)
    if found is None:
        found = observer.security_group_by_name(name)
        if found is None:
            return None
        groups.append(found)
    if not is_backend_group(tags_dict(found.get("Tags")), cluster):
        raise OwnershipError(
            f"security group {name} ({found['GroupId']}) exists but is not "
            f"tagged as cluster {cluster}'s; not touching it"
        )
    return str(found["GroupId"])
