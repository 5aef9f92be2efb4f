"""Carry out a `Diff`: the only module of the provider that changes AWS for `ensure`.

Order matters and is chosen so that traffic is never more open than asked, and nothing
in use is deleted:
1. the security groups (the cluster's shared backend group and our NLB group, created
   if missing) and all new rules: allow-list first;
2. the NLB: create / re-create / set groups, IP type, subnets, tags, attributes;
3. target groups: create (then the attributes that differ from AWS defaults), health
   checks, attributes, tags;
4. listeners: delete the old, create the new, point changed ones at their new group;
5. targets: one RegisterTargets and one DeregisterTargets call per target group;
6. target groups no listener uses any more are deleted;
7. rules no longer wanted are revoked (ours only), then a group we no longer use.
Every create that can collide with an earlier, interrupted attempt adopts the existing
resource after checking its tags instead of failing or duplicating.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Sequence

from cloud_lb.model import LBRef
from cloud_lb.provider import OwnershipError, PendingError
from providers.aws.clients import AWSCallError, AWSClients
from providers.aws.diff import Diff, attributes_on_create
from providers.aws.naming import is_backend_group, is_owned, ownership_tags, tags_dict, tags_list
from providers.aws.observe import Observer
from providers.aws.security_groups import BACKEND, FRONTEND, Rule, to_permission
from providers.aws.state import Desired, DesiredSecurityGroup, DesiredTargetGroup, Observed

log = logging.getLogger(__name__)


class Applier:
    def __init__(self, clients: AWSClients, observer: Observer, *, vpc_id: str, ref: LBRef) -> None:
        self._aws = clients
        self._observer = observer
        self._vpc_id = vpc_id
        self._ref = ref

    def apply(self, desired: Desired, observed: Observed, diff: Diff) -> tuple[str, str]:
        """Returns the NLB's (ARN, DNS name)."""
        arn, dns = self.front(desired, observed, diff)
        arns = self.target_groups(observed, diff)
        self._listeners(arn, diff, arns)
        self.finish(diff, arns)
        return arn, dns

    # The phases, public so that the ALB applier runs the same steps around its own
    # listeners, rules and certificates.

    def front(self, desired: Desired, observed: Observed, diff: Diff) -> tuple[str, str]:
        """Steps 1 and 2: security groups, new rules, the load balancer. (ARN, DNS)."""
        ids: dict[str, str] = {}
        if observed.backend_sg_id:
            ids[BACKEND] = observed.backend_sg_id
        elif diff.create_backend_sg and desired.backend_sg is not None:
            ids[BACKEND] = self._create_security_group(desired.backend_sg, shared=True)
        if observed.frontend_sg_id:
            ids[FRONTEND] = observed.frontend_sg_id
        elif diff.create_frontend_sg and desired.frontend_sg is not None:
            ids[FRONTEND] = self._create_security_group(desired.frontend_sg, shared=False)
        self.authorize([r.resolve(ids) for r in diff.rules.authorize])

        lb_groups = [ids.get(g, g) for g in desired.lb.security_groups]
        return self._load_balancer(desired, observed, diff, lb_groups)

    def target_groups(self, observed: Observed, diff: Diff) -> dict[str, str]:
        """Step 3: create and converge target groups; returns name -> ARN of all ours."""
        arns = {tg.name: tg.arn for tg in observed.target_groups}
        tgs = diff.target_groups
        for tg in tgs.create:
            arns[tg.name] = self._create_target_group(tg)
            attrs = attributes_on_create(tg)
            if attrs:
                self._set_tg_attributes(arns[tg.name], attrs)
        for old, new in tgs.modify_health:
            self._aws.call(
                "elbv2", "modify_target_group", TargetGroupArn=old.arn, **new.health.to_params()
            )
        for old, attrs in tgs.modify_attributes:
            self._set_tg_attributes(old.arn, attrs)
        for old, tags in tgs.add_tags:
            self._aws.call("elbv2", "add_tags", ResourceArns=[old.arn], Tags=tags_list(dict(tags)))
        return arns

    def _listeners(self, arn: str, diff: Diff, arns: dict[str, str]) -> None:
        """Step 4 for an NLB: one forwarding listener per port."""
        for listener in diff.listeners.delete:
            self._aws.call("elbv2", "delete_listener", ListenerArn=listener.arn)
        for li in diff.listeners.create:
            self._aws.call(
                "elbv2",
                "create_listener",
                LoadBalancerArn=arn,
                Protocol=li.protocol,
                Port=li.port,
                Tags=tags_list(ownership_tags(self._ref)),
                DefaultActions=[{"Type": "forward", "TargetGroupArn": arns[li.target_group]}],
            )
        for old_li, li in diff.listeners.modify:
            self._aws.call(
                "elbv2",
                "modify_listener",
                ListenerArn=old_li.arn,
                DefaultActions=[{"Type": "forward", "TargetGroupArn": arns[li.target_group]}],
            )

    def finish(self, diff: Diff, arns: dict[str, str]) -> None:
        """Steps 5 to 7: targets, unused target groups, stale rules, an unused group."""
        for change in diff.targets:
            self.targets(
                arns[change.target_group], register=change.register, deregister=change.deregister
            )
        for tg in diff.target_groups.delete:
            self.delete_target_group(tg.arn, tg.name)
        self.revoke(diff.rules.revoke)
        if diff.delete_frontend_sg:
            self.delete_security_group(diff.delete_frontend_sg)

    # -- load balancer ---------------------------------------------------------------

    def _load_balancer(
        self, desired: Desired, observed: Observed, diff: Diff, groups: Sequence[str]
    ) -> tuple[str, str]:
        lb = diff.lb
        want = desired.lb
        if lb.recreate_reason and observed.lb is not None:
            log.info("event=nlb_recreate name=%s reason=%r", want.name, lb.recreate_reason)
            self._aws.call("elbv2", "delete_load_balancer", LoadBalancerArn=observed.lb.arn)
        if lb.creates:
            arn, dns = self._create_load_balancer(desired, groups)
        else:
            assert observed.lb is not None
            arn, dns = observed.lb.arn, observed.lb.dns_name
            if lb.set_security_groups is not None:
                self._aws.call(
                    "elbv2", "set_security_groups", LoadBalancerArn=arn, SecurityGroups=list(groups)
                )
            if lb.set_ip_address_type:
                self._aws.call(
                    "elbv2",
                    "set_ip_address_type",
                    LoadBalancerArn=arn,
                    IpAddressType=lb.set_ip_address_type,
                )
            if lb.set_subnets is not None:
                self._aws.call(
                    "elbv2",
                    "set_subnets",
                    LoadBalancerArn=arn,
                    SubnetMappings=[m.to_params() for m in lb.set_subnets],
                )
            if lb.add_tags:
                self._aws.call(
                    "elbv2", "add_tags", ResourceArns=[arn], Tags=tags_list(dict(lb.add_tags))
                )
        if lb.attributes:
            self._aws.call(
                "elbv2",
                "modify_load_balancer_attributes",
                LoadBalancerArn=arn,
                Attributes=[{"Key": k, "Value": v} for k, v in lb.attributes],
            )
        return arn, dns

    def _create_load_balancer(self, desired: Desired, groups: Sequence[str]) -> tuple[str, str]:
        want = desired.lb
        params = {
            "Name": want.name,
            "Type": want.type,
            "Scheme": want.scheme,
            "IpAddressType": want.ip_address_type,
            "SubnetMappings": [m.to_params() for m in want.subnets],
            "Tags": tags_list(dict(want.tags)),
        }
        if groups:
            params["SecurityGroups"] = list(groups)
        try:
            created = self._aws.call("elbv2", "create_load_balancer", **params)["LoadBalancers"][0]
        except AWSCallError as exc:
            if exc.code != "DuplicateLoadBalancerName":
                raise
            # an interrupted earlier attempt created it: adopt if it's ours
            found, _, _ = self._observer.owned_load_balancer(self._ref, want.name)
            if found is None:
                raise
            return found.arn, found.dns_name
        log.info(
            "event=nlb_created name=%s arn=%s scheme=%s",
            want.name,
            created["LoadBalancerArn"],
            want.scheme,
        )
        return created["LoadBalancerArn"], created.get("DNSName", "")

    # -- target groups -----------------------------------------------------------------

    def _create_target_group(self, tg: DesiredTargetGroup) -> str:
        try:
            created = self._aws.call(
                "elbv2",
                "create_target_group",
                Name=tg.name,
                Protocol=tg.protocol,
                Port=tg.port,
                VpcId=self._vpc_id,
                TargetType="instance",
                Tags=tags_list(dict(tg.tags)),
                **tg.health.to_params(),
            )
            return str(created["TargetGroups"][0]["TargetGroupArn"])
        except AWSCallError as exc:
            if exc.code != "DuplicateTargetGroupName":
                raise
            adopted = self._observer.adopt_by_name(self._ref, [tg.name])
            if not adopted:
                raise
            return str(adopted[0][0]["TargetGroupArn"])

    def _set_tg_attributes(self, arn: str, attrs: Sequence[tuple[str, str]]) -> None:
        self._aws.call(
            "elbv2",
            "modify_target_group_attributes",
            TargetGroupArn=arn,
            Attributes=[{"Key": k, "Value": v} for k, v in attrs],
        )

    def targets(self, arn: str, *, register: Sequence[str], deregister: Sequence[str]) -> None:
        if register:
            self._aws.call(
                "elbv2",
                "register_targets",
                TargetGroupArn=arn,
                Targets=[{"Id": i} for i in register],
            )
        if deregister:
            try:
                self._aws.call(
                    "elbv2",
                    "deregister_targets",
                    TargetGroupArn=arn,
                    Targets=[{"Id": i} for i in deregister],
                )
            except AWSCallError as exc:
                if exc.code != "InvalidTarget":  # already gone (terminated instance)
                    raise

    def delete_target_group(self, arn: str, name: str) -> None:
        try:
            self._aws.call("elbv2", "delete_target_group", TargetGroupArn=arn)
        except AWSCallError as exc:
            if exc.code == "TargetGroupNotFound":
                return
            if exc.code == "ResourceInUse":
                raise PendingError(
                    f"target group {name} is still in use; retrying", retry_after=5
                ) from exc
            raise

    # -- security groups ---------------------------------------------------------------

    def _create_security_group(self, sg: DesiredSecurityGroup, *, shared: bool) -> str:
        try:
            created = self._aws.call(
                "ec2",
                "create_security_group",
                GroupName=sg.name,
                Description=sg.description,
                VpcId=self._vpc_id,
                TagSpecifications=[
                    {"ResourceType": "security-group", "Tags": tags_list(dict(sg.tags))}
                ],
            )
            log.info("event=sg_created name=%s id=%s", sg.name, created["GroupId"])
            return str(created["GroupId"])
        except AWSCallError as exc:
            if exc.code != "InvalidGroup.Duplicate":
                raise
            # created meanwhile (an interrupted attempt, or another Service for the
            # shared group): adopt it if its tags say it is ours
            found = self._observer.security_group_by_name(sg.name)
            tags = tags_dict(found.get("Tags")) if found else {}
            ours = (
                is_backend_group(tags, self._ref.cluster) if shared else is_owned(tags, self._ref)
            )
            if found is None or not ours:
                raise OwnershipError(
                    f"security group {sg.name} exists but is not tagged as "
                    f"cloud-lb's; not touching it"
                ) from exc
            return str(found["GroupId"])

    def authorize(self, rules: Sequence[Rule]) -> None:
        tags = [
            {"ResourceType": "security-group-rule", "Tags": tags_list(ownership_tags(self._ref))}
        ]
        for group_id, group_rules in _by_group(rules).items():
            try:
                self._aws.call(
                    "ec2",
                    "authorize_security_group_ingress",
                    GroupId=group_id,
                    IpPermissions=[to_permission(r) for r in group_rules],
                    TagSpecifications=tags,
                )
            except AWSCallError as exc:
                if exc.code != "InvalidPermission.Duplicate":
                    raise
                # one of them was added meanwhile (by us or someone): add the others
                # one by one; a single duplicate rule is simply there already
                if len(group_rules) > 1:
                    for rule in group_rules:
                        self.authorize([rule])

    def revoke(self, rules: Sequence[Rule]) -> None:
        for group_id, group_rules in _by_group(rules).items():
            try:
                self._aws.call(
                    "ec2",
                    "revoke_security_group_ingress",
                    GroupId=group_id,
                    IpPermissions=[to_permission(r) for r in group_rules],
                )
            except AWSCallError as exc:
                if exc.code not in ("InvalidPermission.NotFound", "InvalidGroup.NotFound"):
                    raise

    def delete_security_group(self, group_id: str) -> None:
        try:
            self._aws.call("ec2", "delete_security_group", GroupId=group_id)
        except AWSCallError as exc:
            if exc.code in ("InvalidGroup.NotFound", "InvalidGroupId.NotFound"):
                return
            if exc.code == "DependencyViolation":
                # the NLB's network interfaces go away a little after the NLB
                raise PendingError(
                    f"security group {group_id} is still in use; retrying", retry_after=10
                ) from exc
            raise


def _by_group(rules: Sequence[Rule]) -> dict[str, list[Rule]]:
    grouped: dict[str, list[Rule]] = defaultdict(list)
    for rule in rules:
        grouped[rule.group_id].append(rule)
    return dict(grouped)
