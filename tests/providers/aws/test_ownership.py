"""Ownership by tags: foreign look-alikes are never touched; our leftovers are adopted."""

from __future__ import annotations

import pytest

from cloud_lb.provider import OwnershipError
from providers.aws.naming import (
    cluster_tag,
    load_balancer_name,
    ownership_tags,
    security_group_name,
    tags_list,
    target_group_name,
)
from providers.aws.testing import FakeAWS
from tests.providers.aws.conftest import Harness, tcp


def _snapshot(fake: FakeAWS) -> object:
    return fake.snapshot()


@pytest.mark.parametrize(
    "tags",
    [
        {"kubernetes.io/cluster/another": "owned"},  # another cluster's
        {},  # untagged
    ],
    ids=["other-cluster", "untagged"],
)
def test_lookalike_load_balancer_is_refused_and_untouched(
    aws: Harness, tags: dict[str, str]
) -> None:
    provider = aws.provider()
    spec = aws.spec()
    name = load_balancer_name(spec.ref)
    aws.elb().create_load_balancer(
        Name=name,
        Type="network",
        Subnets=list(aws.fake.subnets.values()),
        **({"Tags": tags_list(tags)} if tags else {}),
    )
    before = _snapshot(aws.fake)
    with pytest.raises(OwnershipError):
        provider.ensure(spec)
    with pytest.raises(OwnershipError):
        provider.update_backends(spec)
    assert provider.get(spec.ref) is None
    provider.delete(spec.ref)  # ours is gone; theirs stays
    assert _snapshot(aws.fake) == before
    assert aws.recorder.mutations() == 0


def test_lookalike_target_group_and_security_group_are_refused(aws: Harness) -> None:
    provider = aws.provider()
    spec = aws.spec(listeners=(tcp(80, 30080),))
    tg_name = target_group_name(spec.ref, protocol="TCP", node_port=30080)
    aws.elb().create_target_group(
        Name=tg_name,
        Protocol="TCP",
        Port=30080,
        VpcId=aws.fake.vpc_id,
        Tags=tags_list({cluster_tag(aws.cluster): "owned"}),
    )  # no UID: not ours
    before = _snapshot(aws.fake)
    with pytest.raises(OwnershipError, match="target group"):
        provider.ensure(spec)
    assert _snapshot(aws.fake) == before

    other = aws.spec()
    aws.ec2().create_security_group(
        GroupName=security_group_name(other.ref), Description="x", VpcId=aws.fake.vpc_id
    )
    before = _snapshot(aws.fake)
    with pytest.raises(OwnershipError, match="security group"):
        provider.ensure(other)
    provider.delete(other.ref)
    assert _snapshot(aws.fake) == before


def test_leftovers_of_an_interrupted_create_are_adopted_not_duplicated(aws: Harness) -> None:
    """A crash after the security group and a target group were created: the next ensure
    finds both by name, checks their tags and carries on."""
    provider = aws.provider()
    spec = aws.spec(listeners=(tcp(80, 30080),))
    tags = tags_list(ownership_tags(spec.ref))
    tg_name = target_group_name(spec.ref, protocol="TCP", node_port=30080)
    tg_arn = aws.elb().create_target_group(
        Name=tg_name, Protocol="TCP", Port=30080, VpcId=aws.fake.vpc_id, Tags=tags
    )["TargetGroups"][0]["TargetGroupArn"]
    sg_id = aws.ec2().create_security_group(
        GroupName=security_group_name(spec.ref),
        Description="x",
        VpcId=aws.fake.vpc_id,
        TagSpecifications=[{"ResourceType": "security-group", "Tags": tags}],
    )["GroupId"]
    provider.ensure(spec)
    assert "elbv2:CreateTargetGroup" not in aws.mutations()
    assert aws.mutations()["ec2:CreateSecurityGroup"] == 1  # the cluster's backend group only
    lb = aws.lb(load_balancer_name(spec.ref))
    assert lb["SecurityGroups"][0] == sg_id
    assert [tg["TargetGroupArn"] for tg in aws.target_groups(lb["LoadBalancerArn"])] == [tg_arn]
    assert provider.plan(spec) == []


def test_ensure_never_creates_a_second_load_balancer(aws: Harness) -> None:
    """moto accepts duplicate names; we must not rely on AWS to refuse them."""
    provider = aws.provider()
    spec = aws.spec()
    for _ in range(3):
        provider.ensure(spec)
    names = [lb["LoadBalancerName"] for lb in aws.elb().describe_load_balancers()["LoadBalancers"]]
    assert names == [load_balancer_name(spec.ref)]
    assert len(aws.elb().describe_target_groups()["TargetGroups"]) == 1
    assert aws.mutations()["elbv2:CreateLoadBalancer"] == 1


def test_list_owned_sees_only_this_clusters_and_delete_cleans_orphans(aws: Harness) -> None:
    provider = aws.provider()
    ours = aws.spec()
    provider.ensure(ours)
    aws.elb().create_load_balancer(
        Name="k8s-other-thing-0123456789",
        Type="network",
        Subnets=list(aws.fake.subnets.values()),
        Tags=tags_list(
            {
                "kubernetes.io/cluster/another": "owned",
                "cloud-lb.io/uid": "u",
                "kubernetes.io/service-name": "a/b",
            }
        ),
    )
    # a security group whose NLB never got created (interrupted, then the Service went away)
    orphan = aws.spec()
    aws.ec2().create_security_group(
        GroupName=security_group_name(orphan.ref),
        Description="x",
        VpcId=aws.fake.vpc_id,
        TagSpecifications=[
            {"ResourceType": "security-group", "Tags": tags_list(ownership_tags(orphan.ref))}
        ],
    )
    assert set(provider.list_owned()) == {ours.ref, orphan.ref}
    provider.delete(orphan.ref)
    provider.delete(ours.ref)
    assert provider.list_owned() == []
    assert [
        lb["LoadBalancerName"] for lb in aws.elb().describe_load_balancers()["LoadBalancers"]
    ] == ["k8s-other-thing-0123456789"]
