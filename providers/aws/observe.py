"""Read what AWS has for one NLB into `Observed`. Reads only.

Ownership is checked here, before anything can change: a load balancer, target group
or security group that has our name but not our tags raises `OwnershipError` (for the
load balancer and the groups we would otherwise adopt by name), and target groups on
our listeners that are not ours are left out of `Observed`, so nothing ever modifies or
deletes them.

Calls for an existing 2-port NLB: DescribeLoadBalancers, DescribeTargetGroups,
DescribeTags (LB and groups together), DescribeLoadBalancerAttributes,
DescribeListeners, and per group DescribeTargetGroupAttributes + DescribeTargetHealth.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from cloud_lb.model import LBRef
from cloud_lb.provider import OwnershipError
from providers.aws.clients import AWSCallError, AWSClients
from providers.aws.naming import is_owned, tags_dict
from providers.aws.security_groups import Rule, from_group
from providers.aws.state import (
    HealthCheckSpec,
    ObservedListener,
    ObservedLoadBalancer,
    ObservedTargetGroup,
)

TAG_BATCH = 20  # DescribeTags takes at most 20 ARNs


class Observer:
    def __init__(self, clients: AWSClients, vpc_id: str) -> None:
        self._aws = clients
        self._vpc_id = vpc_id

    # -- load balancer -----------------------------------------------------------

    def load_balancer(self, name: str) -> dict[str, Any] | None:
        try:
            found = self._aws.call("elbv2", "describe_load_balancers", Names=[name])
        except AWSCallError as exc:
            if exc.code == "LoadBalancerNotFound":
                return None
            raise
        lbs = found.get("LoadBalancers", [])
        return lbs[0] if lbs else None

    def tags(self, arns: Sequence[str]) -> dict[str, dict[str, str]]:
        out: dict[str, dict[str, str]] = {}
        for i in range(0, len(arns), TAG_BATCH):
            batch = list(arns[i : i + TAG_BATCH])
            response = self._aws.call("elbv2", "describe_tags", ResourceArns=batch)
            for desc in response.get("TagDescriptions", []):
                out[desc["ResourceArn"]] = tags_dict(desc.get("Tags"))
        return out

    def owned_load_balancer(
        self, ref: LBRef, name: str
    ) -> tuple[ObservedLoadBalancer | None, list[dict[str, Any]], dict[str, dict[str, str]]]:
        """Our NLB (or None), the target groups on it, and the tags of all of them.

        Raises OwnershipError when an NLB with our name is not tagged as `ref`'s.
        """
        raw = self.load_balancer(name)
        if raw is None:
            return None, [], {}
        arn = raw["LoadBalancerArn"]
        groups = self.target_groups_of(arn)
        tags = self.tags([arn, *(g["TargetGroupArn"] for g in groups)])
        if not is_owned(tags.get(arn, {}), ref):
            raise OwnershipError(
                f"load balancer {name} ({arn}) exists but is not tagged as "
                f"{ref}'s in cluster {ref.cluster}; not touching it"
            )
        return _lb(raw, tags.get(arn, {})), groups, tags

    def target_groups_of(self, lb_arn: str) -> list[dict[str, Any]]:
        try:
            return self._aws.pages(
                "elbv2", "describe_target_groups", "TargetGroups", LoadBalancerArn=lb_arn
            )
        except AWSCallError as exc:
            if exc.code == "TargetGroupNotFound":  # moto's answer for "none" (AWS: empty list)
                return []
            raise

    def attributes(self, arn: str) -> tuple[tuple[str, str], ...]:
        response = self._aws.call("elbv2", "describe_load_balancer_attributes", LoadBalancerArn=arn)
        return tuple(sorted((a["Key"], a["Value"]) for a in response.get("Attributes", [])))

    def listeners(self, arn: str) -> tuple[ObservedListener, ...]:
        out = []
        for li in self._aws.pages("elbv2", "describe_listeners", "Listeners", LoadBalancerArn=arn):
            forward = [a for a in li.get("DefaultActions", []) if a.get("Type") == "forward"]
            tg_arn = forward[0].get("TargetGroupArn", "") if forward else ""
            if forward and not tg_arn:
                groups = forward[0].get("ForwardConfig", {}).get("TargetGroups", [])
                tg_arn = groups[0]["TargetGroupArn"] if len(groups) == 1 else ""
            out.append(
                ObservedListener(
                    arn=li["ListenerArn"],
                    port=int(li["Port"]),
                    protocol=li["Protocol"],
                    target_group_arn=tg_arn,
                )
            )
        return tuple(out)

    # -- target groups ---------------------------------------------------------------

    def adopt_by_name(
        self, ref: LBRef, names: Iterable[str]
    ) -> list[tuple[dict[str, Any], dict[str, str]]]:
        """Our target groups with these names that are not on the NLB (left by a crash
        between creating a group and its listener). A foreign group with one of our
        names raises OwnershipError."""
        found: list[dict[str, Any]] = []
        for name in names:
            try:
                found += self._aws.call("elbv2", "describe_target_groups", Names=[name]).get(
                    "TargetGroups", []
                )
            except AWSCallError as exc:
                if exc.code != "TargetGroupNotFound":
                    raise
        if not found:
            return []
        tags = self.tags([g["TargetGroupArn"] for g in found])
        for group in found:
            if not is_owned(tags.get(group["TargetGroupArn"], {}), ref):
                raise OwnershipError(
                    f"target group {group['TargetGroupName']} exists but is not "
                    f"tagged as {ref}'s; not touching it"
                )
        return [(g, tags[g["TargetGroupArn"]]) for g in found]

    def target_group(
        self, raw: dict[str, Any], tags: dict[str, str], *, with_attributes: bool = True
    ) -> ObservedTargetGroup:
        arn = raw["TargetGroupArn"]
        attributes: tuple[tuple[str, str], ...] = ()
        if with_attributes:
            response = self._aws.call(
                "elbv2", "describe_target_group_attributes", TargetGroupArn=arn
            )
            attributes = tuple(
                sorted((a["Key"], a["Value"]) for a in response.get("Attributes", []))
            )
        health = self._aws.call("elbv2", "describe_target_health", TargetGroupArn=arn)
        targets: set[str] = set()
        healthy = 0
        for desc in health.get("TargetHealthDescriptions", []):
            state = desc.get("TargetHealth", {}).get("State", "")
            if state in ("draining", "unused") and desc.get("TargetHealth", {}).get("Reason") in (
                "Target.DeregistrationInProgress",
                "Target.NotRegistered",
            ):
                continue  # on its way out already
            targets.add(desc["Target"]["Id"])
            healthy += state == "healthy"
        return ObservedTargetGroup(
            arn=arn,
            name=raw["TargetGroupName"],
            protocol=raw["Protocol"],
            port=int(raw["Port"]),
            health=health_of(raw),
            attributes=attributes,
            tags=tuple(sorted(tags.items())),
            targets=frozenset(targets),
            healthy=healthy,
        )

    # -- security groups -----------------------------------------------------------

    def security_groups(self, ids: Sequence[str]) -> list[dict[str, Any]]:
        if not ids:
            return []
        return self._aws.pages(
            "ec2", "describe_security_groups", "SecurityGroups", GroupIds=sorted(set(ids))
        )

    def security_group_by_name(self, name: str) -> dict[str, Any] | None:
        found = self._aws.pages(
            "ec2",
            "describe_security_groups",
            "SecurityGroups",
            Filters=[
                {"Name": "vpc-id", "Values": [self._vpc_id]},
                {"Name": "group-name", "Values": [name]},
            ],
        )
        return found[0] if found else None

    @staticmethod
    def rules(groups: Iterable[dict[str, Any]]) -> tuple[Rule, ...]:
        return tuple(sorted(rule for g in groups for rule in from_group(g)))


def health_of(raw: dict[str, Any]) -> HealthCheckSpec:
    protocol = raw.get("HealthCheckProtocol", "TCP")
    http = protocol in ("HTTP", "HTTPS")
    return HealthCheckSpec(
        protocol=protocol,
        port=str(raw.get("HealthCheckPort", "traffic-port")),
        path=raw.get("HealthCheckPath") if http else None,
        interval=int(raw.get("HealthCheckIntervalSeconds", 30)),
        timeout=int(raw.get("HealthCheckTimeoutSeconds", 10)),
        healthy=int(raw.get("HealthyThresholdCount", 5)),
        unhealthy=int(raw.get("UnhealthyThresholdCount", 2)),
        matcher=raw.get("Matcher", {}).get("HttpCode") if http else None,
    )


def _lb(raw: dict[str, Any], tags: dict[str, str]) -> ObservedLoadBalancer:
    return ObservedLoadBalancer(
        arn=raw["LoadBalancerArn"],
        name=raw["LoadBalancerName"],
        dns_name=raw.get("DNSName", ""),
        scheme=raw.get("Scheme", "internet-facing"),
        ip_address_type=raw.get("IpAddressType", "ipv4"),
        subnets=tuple(sorted(az["SubnetId"] for az in raw.get("AvailabilityZones", []))),
        security_groups=tuple(raw.get("SecurityGroups", [])),
        tags=tuple(sorted(tags.items())),
        state=raw.get("State", {}).get("Code", ""),
    )
