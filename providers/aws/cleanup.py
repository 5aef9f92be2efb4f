"""Delete everything one Service's NLB left in AWS, and list what this cluster owns.

`delete` is idempotent and tag-driven: it removes the NLB (its listeners go with it),
our target groups (those on the NLB and orphans recognised by name, then confirmed by
tags), our rules in every security group of the VPC (found by their description) and
our NLB security group; with the cluster's last NLB, also the cluster-shared rules and
the shared backend group. Anything with our name but without our tags is left alone.
AWS releases an NLB's network interfaces a little after deleting it, so the last steps
may answer `PendingError`; the next attempt finishes the job.
"""

from __future__ import annotations

import logging

from cloud_lb.model import LBRef
from cloud_lb.provider import OwnershipError
from providers.aws.apply import Applier
from providers.aws.clients import AWSClients
from providers.aws.naming import (
    OWNED,
    UID_TAG,
    backend_security_group_name,
    cluster_tag,
    is_backend_group,
    is_owned,
    is_target_group_of,
    load_balancer_name,
    ref_from_tags,
    rule_description,
    security_group_name,
    shared_rule_description,
    tags_dict,
)
from providers.aws.observe import Observer
from providers.aws.security_groups import from_group

log = logging.getLogger(__name__)


def delete(clients: AWSClients, observer: Observer, ref: LBRef, *, vpc_id: str) -> None:
    applier = Applier(clients, observer, vpc_id=vpc_id, ref=ref)
    name = load_balancer_name(ref)
    target_groups: dict[str, str] = {}  # arn -> name
    try:
        lb, groups, tags = observer.owned_load_balancer(ref, name)
    except OwnershipError as exc:
        # not ours: never touched; ours is gone as far as we are concerned
        log.warning("event=nlb_not_owned name=%s detail=%r", name, str(exc))
        lb, groups, tags = None, [], {}
    for group in groups:
        if is_owned(tags.get(group["TargetGroupArn"], {}), ref):
            target_groups[group["TargetGroupArn"]] = group["TargetGroupName"]
    if lb is not None:
        clients.call("elbv2", "delete_load_balancer", LoadBalancerArn=lb.arn)
        log.info("event=nlb_deleted name=%s arn=%s", name, lb.arn)

    # target groups left behind by an interrupted ensure: recognised by name, owned by tag
    candidates = [
        g
        for g in clients.pages("elbv2", "describe_target_groups", "TargetGroups")
        if is_target_group_of(g["TargetGroupName"], ref)
        and g["TargetGroupArn"] not in target_groups
    ]
    if candidates:
        orphan_tags = observer.tags([g["TargetGroupArn"] for g in candidates])
        for group in candidates:
            if is_owned(orphan_tags.get(group["TargetGroupArn"], {}), ref):
                target_groups[group["TargetGroupArn"]] = group["TargetGroupName"]
    for arn, tg_name in sorted(target_groups.items()):
        applier.delete_target_group(arn, tg_name)

    sg_name = security_group_name(ref)
    vpc_groups = clients.pages(
        "ec2",
        "describe_security_groups",
        "SecurityGroups",
        Filters=[{"Name": "vpc-id", "Values": [vpc_id]}],
    )
    frontend = next((g for g in vpc_groups if g["GroupName"] == sg_name), None)
    if frontend is not None and not is_owned(tags_dict(frontend.get("Tags")), ref):
        log.warning("event=sg_not_owned name=%s id=%s", sg_name, frontend["GroupId"])
        frontend = None
    ours = rule_description(ref)
    stale = [
        rule
        for g in vpc_groups
        if frontend is None or g["GroupId"] != frontend["GroupId"]
        for rule in from_group(g)
        if rule.description == ours
    ]
    applier.revoke(stale)
    if frontend is not None:
        applier.delete_security_group(frontend["GroupId"])
    if not _cluster_has_other_nlbs(clients, observer, ref.cluster):
        _remove_cluster_shared(applier, vpc_groups, ref.cluster)
    log.info(
        "event=nlb_cleanup_done name=%s target_groups=%d rules=%d",
        name,
        len(target_groups),
        len(stale),
    )


def _cluster_has_other_nlbs(clients: AWSClients, observer: Observer, cluster: str) -> bool:
    """Whether any NLB of this cluster is left (ours is deleted by now)."""
    arns = [
        lb["LoadBalancerArn"]
        for lb in clients.pages("elbv2", "describe_load_balancers", "LoadBalancers")
        if lb["LoadBalancerName"].startswith("k8s-")
    ]
    return any(ref_from_tags(tags, cluster) is not None for tags in observer.tags(arns).values())


def _remove_cluster_shared(applier: Applier, vpc_groups: list[dict], cluster: str) -> None:  # type: ignore[type-arg]
    """The cluster's last NLB is gone: its shared rules and backend group go too.

    A Service created at this very moment may race with this; its next resync puts the
    group and rules back (they are desired state of every ensure), so the race costs a
    resync period, never a leak or a foreign change.
    """
    shared = shared_rule_description(cluster)
    backend = next(
        (
            g
            for g in vpc_groups
            if g["GroupName"] == backend_security_group_name(cluster)
            and is_backend_group(tags_dict(g.get("Tags")), cluster)
        ),
        None,
    )
    rules = [
        rule
        for g in vpc_groups
        if backend is None or g["GroupId"] != backend["GroupId"]
        for rule in from_group(g)
        if rule.description == shared
    ]
    applier.revoke(rules)
    if backend is not None:
        applier.delete_security_group(backend["GroupId"])
    if rules or backend is not None:
        log.info(
            "event=cluster_shared_removed cluster=%s rules=%d backend_group=%s",
            cluster,
            len(rules),
            backend["GroupId"] if backend else "",
        )


def list_owned(
    clients: AWSClients, observer: Observer, cluster: str, *, vpc_id: str
) -> list[LBRef]:
    """Every NLB (and NLB security group) tagged as this cluster's."""
    refs: set[LBRef] = set()
    lbs = clients.pages("elbv2", "describe_load_balancers", "LoadBalancers")
    tags = observer.tags([lb["LoadBalancerArn"] for lb in lbs])
    for lb in lbs:
        ref = ref_from_tags(tags.get(lb["LoadBalancerArn"], {}), cluster)
        if ref is not None:
            refs.add(ref)
    # a security group without its NLB (interrupted create, then the Service went away)
    groups = clients.pages(
        "ec2",
        "describe_security_groups",
        "SecurityGroups",
        Filters=[
            {"Name": "vpc-id", "Values": [vpc_id]},
            {"Name": f"tag:{cluster_tag(cluster)}", "Values": [OWNED]},
            {"Name": "tag-key", "Values": [UID_TAG]},
        ],
    )
    for group in groups:
        ref = ref_from_tags(tags_dict(group.get("Tags")), cluster)
        if ref is not None:
            refs.add(ref)
    return sorted(refs, key=lambda r: (r.namespace, r.name, r.uid))
