"""Which subnets an NLB goes into: pure selection over `describe_subnets` results.

Discovery follows cloud-provider-aws and the aws-load-balancer-controller:
- a subnet qualifies if it carries the role tag for the scheme
  (`kubernetes.io/role/elb` for internet-facing, `kubernetes.io/role/internal-elb` for
  internal) with value "" or "1";
- a subnet tagged `kubernetes.io/cluster/<other>` but not for our cluster belongs to
  another cluster and is skipped;
- one subnet per availability zone: the one tagged for our cluster first, then the
  lowest subnet ID (stable across reconciles, so the NLB never flaps between subnets).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from providers.aws.naming import CLUSTER_TAG_PREFIX, cluster_tag, tags_dict

ROLE_ELB = "kubernetes.io/role/elb"
ROLE_INTERNAL_ELB = "kubernetes.io/role/internal-elb"
_GONE = ("disassociating", "disassociated", "failing", "failed")


@dataclass(frozen=True)
class SubnetInfo:
    id: str
    zone: str
    cidr: str
    ipv6_cidrs: tuple[str, ...] = ()
    tags: tuple[tuple[str, str], ...] = ()

    @property
    def tag_map(self) -> dict[str, str]:
        return dict(self.tags)

    @property
    def name(self) -> str:
        return self.tag_map.get("Name", "")

    @classmethod
    def from_aws(cls, subnet: dict) -> SubnetInfo:  # type: ignore[type-arg]
        ipv6 = tuple(
            a["Ipv6CidrBlock"]
            for a in subnet.get("Ipv6CidrBlockAssociationSet", [])
            # "not gone" rather than == "associated": moto reports the state oddly
            if a.get("Ipv6CidrBlockState", {}).get("State") not in _GONE
        )
        return cls(
            id=subnet["SubnetId"],
            zone=subnet["AvailabilityZone"],
            cidr=subnet["CidrBlock"],
            ipv6_cidrs=ipv6,
            tags=tuple(sorted(tags_dict(subnet.get("Tags")).items())),
        )


def role_tag(internal: bool) -> str:
    return ROLE_INTERNAL_ELB if internal else ROLE_ELB


def discover(
    subnets: Iterable[SubnetInfo], *, cluster: str, internal: bool
) -> tuple[SubnetInfo, ...]:
    """One qualifying subnet per AZ, sorted by AZ."""
    role = role_tag(internal)
    ours = cluster_tag(cluster)
    best: dict[str, SubnetInfo] = {}
    for subnet in subnets:
        tags = subnet.tag_map
        if tags.get(role) not in ("", "1"):
            continue
        cluster_keys = {k for k in tags if k.startswith(CLUSTER_TAG_PREFIX)}
        if cluster_keys and ours not in cluster_keys:
            continue  # another cluster's subnet
        current = best.get(subnet.zone)
        if current is None or _rank(subnet, ours) < _rank(current, ours):
            best[subnet.zone] = subnet
    return tuple(best[zone] for zone in sorted(best))


def _rank(subnet: SubnetInfo, ours: str) -> tuple[int, str]:
    return (0 if ours in subnet.tag_map else 1, subnet.id)


def pick(
    subnets: Sequence[SubnetInfo], wanted: Sequence[str]
) -> tuple[tuple[SubnetInfo, ...], list[str]]:
    """Resolve subnet IDs or Name tags, in the order given; returns (found, missing)."""
    by_id = {s.id: s for s in subnets}
    by_name: dict[str, list[SubnetInfo]] = {}
    for s in subnets:
        if s.name:
            by_name.setdefault(s.name, []).append(s)
    found: list[SubnetInfo] = []
    missing: list[str] = []
    for ref in wanted:
        if ref in by_id:
            found.append(by_id[ref])
        elif len(by_name.get(ref, [])) == 1:
            found.append(by_name[ref][0])
        else:
            missing.append(ref)
    return tuple(found), missing


def duplicate_zones(subnets: Sequence[SubnetInfo]) -> list[str]:
    zones = [s.zone for s in subnets]
    return sorted({z for z in zones if zones.count(z) > 1})
