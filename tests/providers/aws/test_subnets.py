"""Subnet discovery: role tag for the scheme, not another cluster's, one per AZ."""

from __future__ import annotations

from providers.aws.subnets import ROLE_ELB, ROLE_INTERNAL_ELB, SubnetInfo, discover, pick
from tests.providers.aws.conftest import Harness, tcp

OURS = "kubernetes.io/cluster/prod"


def subnet(sid: str, zone: str, **tags: str) -> SubnetInfo:
    return SubnetInfo(id=sid, zone=zone, cidr="10.0.0.0/24", tags=tuple(sorted(tags.items())))


def test_discovery_table() -> None:
    subnets = [
        subnet("subnet-b2", "a", **{ROLE_ELB: "1"}),  # untagged for a cluster
        subnet("subnet-b1", "a", **{ROLE_ELB: "1", OURS: "shared"}),  # ours wins in zone a
        subnet(
            "subnet-c1", "b", **{ROLE_ELB: "", "kubernetes.io/cluster/other": "owned"}
        ),  # other's
        subnet("subnet-c2", "b", **{ROLE_ELB: ""}),  # empty value counts
        subnet("subnet-d1", "c", **{ROLE_INTERNAL_ELB: "1"}),  # internal only
        subnet("subnet-e1", "d", **{ROLE_ELB: "0"}),  # "0" does not count
    ]
    public = discover(subnets, cluster="prod", internal=False)
    assert [s.id for s in public] == ["subnet-b1", "subnet-c2"]
    internal = discover(subnets, cluster="prod", internal=True)
    assert [s.id for s in internal] == ["subnet-d1"]


def test_lowest_id_wins_between_equals() -> None:
    subnets = [
        subnet("subnet-9", "a", **{ROLE_ELB: "1"}),
        subnet("subnet-1", "a", **{ROLE_ELB: "1"}),
    ]
    assert [s.id for s in discover(subnets, cluster="x", internal=False)] == ["subnet-1"]


def test_pick_by_id_or_unique_name() -> None:
    subnets = [
        subnet("subnet-1", "a", Name="pub-a"),
        subnet("subnet-2", "b", Name="dup"),
        subnet("subnet-3", "c", Name="dup"),
    ]
    found, missing = pick(subnets, ["pub-a", "subnet-2", "dup", "nope"])
    assert [s.id for s in found] == ["subnet-1", "subnet-2"]
    assert missing == ["dup", "nope"]


def test_discovery_in_moto_uses_the_role_tags(aws: Harness) -> None:
    """Only subnets tagged for internal NLBs are used by an internal one."""
    ec2 = aws.ec2()
    extra = ec2.create_subnet(
        VpcId=aws.fake.vpc_id,
        CidrBlock="10.0.9.0/24",
        AvailabilityZone="eu-west-3c",
        TagSpecifications=[
            {"ResourceType": "subnet", "Tags": [{"Key": ROLE_INTERNAL_ELB, "Value": "1"}]}
        ],
    )["Subnet"]["SubnetId"]
    provider = aws.provider()
    public = aws.spec(listeners=(tcp(),))
    internal = aws.spec(listeners=(tcp(),), internal=True)
    provider.ensure(public)
    provider.ensure(internal)
    from providers.aws.naming import load_balancer_name

    public_subnets = {
        az["SubnetId"] for az in aws.lb(load_balancer_name(public.ref))["AvailabilityZones"]
    }
    internal_subnets = {
        az["SubnetId"] for az in aws.lb(load_balancer_name(internal.ref))["AvailabilityZones"]
    }
    assert public_subnets == set(aws.fake.subnets.values())
    assert internal_subnets == set(aws.fake.subnets.values()) | {extra}


def test_explicit_subnets_by_name(aws: Harness) -> None:
    from providers.aws import annotations as ann
    from providers.aws.naming import load_balancer_name

    provider = aws.provider()
    zone = "eu-west-3a"
    spec = aws.spec(options={ann.SUBNETS: f"{aws.cluster}-{zone}"})
    provider.ensure(spec)
    assert [az["SubnetId"] for az in aws.lb(load_balancer_name(spec.ref))["AvailabilityZones"]] == [
        aws.fake.subnets[zone]
    ]
