"""Resolve the AWS facts a rendering needs: subnets, static addresses, security groups.

Reads only. Everything here turns names the user wrote (subnet names, security group
names, Elastic IP allocation IDs, `loadBalancerIP`) into IDs, and turns "that does not
exist" into an `InvalidSpecError` naming the annotation, so the user gets one clear
event instead of a cloud error on create.
"""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Sequence

from cloud_lb.model import LoadBalancerSpec
from cloud_lb.provider import InvalidSpecError
from providers.aws import annotations as ann
from providers.aws.annotations import NLBOptions
from providers.aws.clients import AWSCallError, AWSClients
from providers.aws.config import AWSConfig
from providers.aws.naming import cluster_tag, tags_dict
from providers.aws.render import Placement, is_dualstack, scheme_of
from providers.aws.subnets import SubnetInfo, discover, duplicate_zones, pick, role_tag

log = logging.getLogger(__name__)


class PlacementResolver:
    def __init__(self, clients: AWSClients, config: AWSConfig, cluster: str) -> None:
        self._aws = clients
        self._config = config
        self._cluster = cluster

    def resolve(
        self,
        spec: LoadBalancerSpec,
        opts: NLBOptions,
        *,
        frontend_sg_id: str | None,
        node_security_groups: tuple[str, ...],
        vpc_cidrs: tuple[str, ...],
    ) -> Placement:
        internal = scheme_of(spec, opts) == "internal"
        subnets = self._subnets(opts, internal=internal)
        allocations: tuple[str, ...] = ()
        private: tuple[str, ...] = ()
        if opts.eip_allocations:
            allocations = self._check_allocations(opts.eip_allocations, len(subnets))
        elif opts.private_ipv4_addresses:
            private = self._check_private(opts.private_ipv4_addresses, subnets)
        elif spec.static_ip is not None:
            subnets, allocations, private = self._static_ip(
                spec.static_ip, subnets, internal=internal
            )
        if is_dualstack(spec, opts):
            bare = [s.id for s in subnets if not s.ipv6_cidrs]
            if bare:
                raise InvalidSpecError(
                    f"{ann.IP_ADDRESS_TYPE}: dualstack needs subnets with an "
                    f"IPv6 CIDR; {', '.join(bare)} have none",
                    field=ann.IP_ADDRESS_TYPE,
                )
        return Placement(
            subnets=subnets,
            allocation_ids=allocations,
            private_ipv4=private,
            frontend_sg_id=frontend_sg_id,
            user_security_groups=self._user_groups(opts.security_groups),
            node_security_groups=node_security_groups,
            vpc_cidrs=vpc_cidrs,
        )

    def _subnets(self, opts: NLBOptions, *, internal: bool) -> tuple[SubnetInfo, ...]:
        vpc = {"Name": "vpc-id", "Values": [self._config.vpc_id]}
        if opts.subnets:
            found, missing = pick(
                [
                    SubnetInfo.from_aws(s)
                    for s in self._aws.pages("ec2", "describe_subnets", "Subnets", Filters=[vpc])
                ],
                opts.subnets,
            )
            if missing:
                raise InvalidSpecError(
                    f"{ann.SUBNETS}: no single subnet in {self._config.vpc_id} "
                    f"with ID or Name {', '.join(missing)}",
                    field=ann.SUBNETS,
                )
            chosen = found
        elif self._config.subnets:
            chosen = tuple(
                SubnetInfo.from_aws(s)
                for s in self._aws.pages(
                    "ec2", "describe_subnets", "Subnets", SubnetIds=list(self._config.subnets)
                )
            )
        else:
            role = {"Name": "tag-key", "Values": [role_tag(internal)]}
            candidates = [
                SubnetInfo.from_aws(s)
                for s in self._aws.pages("ec2", "describe_subnets", "Subnets", Filters=[vpc, role])
            ]
            chosen = discover(candidates, cluster=self._cluster, internal=internal)
            if not chosen:
                # not the user's fault, and fixable by tagging: a retryable cloud error
                raise AWSCallError(
                    f"no subnet in {self._config.vpc_id} is tagged {role_tag(internal)} (and for "
                    f"cluster {self._cluster} or no cluster); tag subnets or set aws.subnets",
                    operation="ec2:DescribeSubnets",
                    code="NoSubnets",
                    retryable=True,
                )
        dupes = duplicate_zones(chosen)
        if dupes:
            raise InvalidSpecError(
                f"{ann.SUBNETS}: more than one subnet in {', '.join(dupes)}; "
                "an NLB takes one subnet per availability zone",
                field=ann.SUBNETS,
            )
        return chosen

    def _check_allocations(self, allocations: tuple[str, ...], n_subnets: int) -> tuple[str, ...]:
        if len(allocations) != n_subnets:
            raise InvalidSpecError(
                f"{ann.EIP_ALLOCATIONS}: {len(allocations)} allocations for "
                f"{n_subnets} subnets; give one per subnet",
                field=ann.EIP_ALLOCATIONS,
            )
        try:
            self._aws.call("ec2", "describe_addresses", AllocationIds=list(allocations))
        except AWSCallError as exc:
            if exc.code.startswith("InvalidAllocationID"):
                raise InvalidSpecError(
                    f"{ann.EIP_ALLOCATIONS}: {exc}", field=ann.EIP_ALLOCATIONS
                ) from exc
            raise
        return allocations

    def _check_private(
        self, addresses: tuple[str, ...], subnets: Sequence[SubnetInfo]
    ) -> tuple[str, ...]:
        if len(addresses) != len(subnets):
            raise InvalidSpecError(
                f"{ann.PRIVATE_IPV4}: {len(addresses)} addresses for "
                f"{len(subnets)} subnets; give one per subnet",
                field=ann.PRIVATE_IPV4,
            )
        for address, subnet in zip(addresses, subnets, strict=True):
            if ipaddress.ip_address(address) not in ipaddress.ip_network(subnet.cidr):
                raise InvalidSpecError(
                    f"{ann.PRIVATE_IPV4}: {address} is not in subnet {subnet.id} ({subnet.cidr})",
                    field=ann.PRIVATE_IPV4,
                )
        return addresses

    def _static_ip(
        self, ip: str, subnets: tuple[SubnetInfo, ...], *, internal: bool
    ) -> tuple[tuple[SubnetInfo, ...], tuple[str, ...], tuple[str, ...]]:
        """`spec.loadBalancerIP`: one address pins the NLB to one subnet."""
        if internal:
            for subnet in subnets:
                if ipaddress.ip_address(ip) in ipaddress.ip_network(subnet.cidr):
                    return (subnet,), (), (ip,)
            raise InvalidSpecError(
                f"loadBalancerIP {ip} is in none of the load balancer's subnets "
                f"({', '.join(s.cidr for s in subnets)})",
                field="spec.loadBalancerIP",
            )
        try:
            found = self._aws.call("ec2", "describe_addresses", PublicIps=[ip]).get("Addresses", [])
        except AWSCallError as exc:
            if not exc.code.startswith("InvalidAddress"):
                raise
            found = []
        if not found or not found[0].get("AllocationId"):
            # we never allocate (so never release) an address the user asked for by IP
            raise InvalidSpecError(
                f"loadBalancerIP {ip} is not an Elastic IP of this account; allocate it first",
                field="spec.loadBalancerIP",
            )
        log.info("event=static_ip_single_subnet ip=%s subnet=%s", ip, subnets[0].id)
        return (subnets[0],), (found[0]["AllocationId"],), ()

    def _user_groups(self, groups: tuple[str, ...]) -> tuple[str, ...]:
        if not groups:
            return ()
        ids = [g for g in groups if g.startswith("sg-")]
        names = [g for g in groups if not g.startswith("sg-")]
        resolved: dict[str, str] = {}
        if names:
            found = self._aws.pages(
                "ec2",
                "describe_security_groups",
                "SecurityGroups",
                Filters=[
                    {"Name": "vpc-id", "Values": [self._config.vpc_id]},
                    {"Name": "group-name", "Values": names},
                ],
            )
            resolved = {g["GroupName"]: g["GroupId"] for g in found}
        missing = [n for n in names if n not in resolved]
        if ids:
            try:
                self._aws.call("ec2", "describe_security_groups", GroupIds=ids)
            except AWSCallError as exc:
                if exc.code != "InvalidGroup.NotFound":
                    raise
                missing += ids
        if missing:
            raise InvalidSpecError(
                f"{ann.SECURITY_GROUPS}: no security group {', '.join(missing)} "
                f"in {self._config.vpc_id}",
                field=ann.SECURITY_GROUPS,
            )
        return tuple(g if g.startswith("sg-") else resolved[g] for g in groups)

    def instances(self, instance_ids: Sequence[str]) -> dict[str, dict]:  # type: ignore[type-arg]
        """Instances that can be targets, by ID (a filter: unknown IDs do not fail the call)."""
        if not instance_ids:
            return {}
        reservations = self._aws.pages(
            "ec2",
            "describe_instances",
            "Reservations",
            Filters=[
                {"Name": "instance-id", "Values": sorted(instance_ids)},
                # only these can be registered as targets
                {"Name": "instance-state-name", "Values": ["pending", "running"]},
            ],
        )
        return {i["InstanceId"]: i for r in reservations for i in r.get("Instances", [])}

    def node_groups(
        self,
        instances: dict[str, dict],
        *,  # type: ignore[type-arg]
        also: Sequence[str] = (),
    ) -> tuple[tuple[str, ...], list[dict]]:  # type: ignore[type-arg]
        """The nodes' security groups: configured, else the cluster-tagged group of each
        instance (or its only group), as cloud-provider-aws chooses them. Also returns
        the descriptions read on the way (rules included, plus the groups `also` named,
        e.g. the NLB's), so they need no second read."""
        if self._config.node_security_group_ids:
            return tuple(self._config.node_security_group_ids), []
        per_instance = {
            iid: [g["GroupId"] for g in inst.get("SecurityGroups", [])]
            for iid, inst in instances.items()
        }
        all_ids = sorted({g for groups in per_instance.values() for g in groups} | set(also))
        if not all_ids:
            return (), []
        described = self._aws.pages(
            "ec2", "describe_security_groups", "SecurityGroups", GroupIds=all_ids
        )
        tags = {g["GroupId"]: tags_dict(g.get("Tags")) for g in described}
        ours = cluster_tag(self._cluster)
        chosen: set[str] = set()
        for iid, groups in sorted(per_instance.items()):
            tagged = sorted(g for g in groups if ours in tags.get(g, {}))
            if tagged:
                if len(tagged) > 1:
                    log.warning(
                        "event=node_sg_ambiguous instance=%s groups=%s using=%s",
                        iid,
                        ",".join(tagged),
                        tagged[0],
                    )
                chosen.add(tagged[0])
            elif len(groups) == 1:
                chosen.add(groups[0])
            else:
                log.warning(
                    "event=node_sg_unknown instance=%s groups=%s hint=tag one %s",
                    iid,
                    ",".join(groups),
                    ours,
                )
        return tuple(sorted(chosen)), described

    def vpc_cidrs(self) -> tuple[str, ...]:
        vpcs = self._aws.call("ec2", "describe_vpcs", VpcIds=[self._config.vpc_id]).get("Vpcs", [])
        cidrs: list[str] = []
        for vpc in vpcs:
            cidrs += [
                a["CidrBlock"]
                for a in vpc.get("CidrBlockAssociationSet", [])
                if a.get("CidrBlockState", {}).get("State", "associated") == "associated"
            ]
            if not cidrs and vpc.get("CidrBlock"):
                cidrs.append(vpc["CidrBlock"])
        return tuple(sorted(set(cidrs)))
