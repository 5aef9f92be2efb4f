"""Source ranges and node rules: added, changed and removed precisely; others untouched."""

from __future__ import annotations

import dataclasses

import pytest

from providers.aws import annotations as ann
from providers.aws.naming import load_balancer_name, rule_description, security_group_name
from tests.providers.aws.conftest import Harness, tcp, udp


def _sources(aws: Harness, group_id: str) -> set[tuple[str, int, str, str]]:
    """(protocol, port, source, description) of every ingress rule of a group."""
    out = set()
    for perm in aws.ingress(group_id):
        for r in perm.get("IpRanges", []):
            out.add((perm["IpProtocol"], perm["FromPort"], r["CidrIp"], r.get("Description", "")))
        for r in perm.get("Ipv6Ranges", []):
            out.add((perm["IpProtocol"], perm["FromPort"], r["CidrIpv6"], r.get("Description", "")))
        for r in perm.get("UserIdGroupPairs", []):
            out.add((perm["IpProtocol"], perm["FromPort"], r["GroupId"], r.get("Description", "")))
    return out


def _frontend(aws: Harness, spec_name: str) -> str:
    return aws.lb(spec_name)["SecurityGroups"][0]


def test_source_ranges_added_changed_and_removed_with_no_stray_rule(aws: Harness) -> None:
    ec2 = aws.ec2()
    # someone else's rules on the shared node group, one of them identical to one we need
    ec2.authorize_security_group_ingress(
        GroupId=aws.fake.node_sg,
        IpPermissions=[
            {
                "IpProtocol": "tcp",
                "FromPort": 22,
                "ToPort": 22,
                "IpRanges": [{"CidrIp": "10.9.0.0/16", "Description": "ssh"}],
            }
        ],
    )
    foreign_before = {r for r in _sources(aws, aws.fake.node_sg) if r[3] == "ssh"}
    provider = aws.provider()
    spec = aws.spec(listeners=(tcp(80, 30080), udp(53, 30053)))
    provider.ensure(spec)
    name = load_balancer_name(spec.ref)
    frontend, backend = aws.lb(name)["SecurityGroups"]
    ours, shared = rule_description(spec.ref), f"cloud-lb/{aws.cluster}/shared"
    assert _sources(aws, frontend) == {
        ("tcp", 80, "0.0.0.0/0", ours),
        ("udp", 53, "0.0.0.0/0", ours),
    }
    assert _sources(aws, backend) == set()
    assert _sources(aws, aws.fake.node_sg) == foreign_before | {
        ("tcp", 30000, backend, shared),
        ("udp", 30000, backend, shared),
        ("tcp", 10256, backend, shared),
    }

    restricted = dataclasses.replace(spec, source_ranges=("203.0.113.0/24", "198.51.100.7/32"))
    changes = provider.plan(restricted)
    assert sum(c.resource == "security-group-rule" and c.action == "create" for c in changes) == 4
    assert sum(c.resource == "security-group-rule" and c.action == "delete" for c in changes) == 2
    provider.ensure(restricted)
    assert {(p, port, src) for p, port, src, _ in _sources(aws, frontend)} == {
        ("tcp", 80, "203.0.113.0/24"),
        ("udp", 53, "203.0.113.0/24"),
        ("tcp", 80, "198.51.100.7/32"),
        ("udp", 53, "198.51.100.7/32"),
    }

    narrowed = dataclasses.replace(spec, source_ranges=("198.51.100.7/32",))
    provider.ensure(narrowed)
    assert {(p, src) for p, _, src, _ in _sources(aws, frontend)} == {
        ("tcp", "198.51.100.7/32"),
        ("udp", "198.51.100.7/32"),
    }
    provider.ensure(spec)  # removed: back to everyone, nothing left of the ranges
    assert {src for _, _, src, _ in _sources(aws, frontend)} == {"0.0.0.0/0"}
    assert provider.plan(spec) == []

    other = aws.spec(listeners=(tcp(8080, 31080),))
    provider.ensure(other)
    provider.delete(spec.ref)  # another NLB still needs the shared rules
    assert ("tcp", 30000, backend, shared) in _sources(aws, aws.fake.node_sg)
    groups = ec2.describe_security_groups(
        Filters=[{"Name": "group-name", "Values": [security_group_name(spec.ref)]}]
    )
    assert groups["SecurityGroups"] == []
    provider.delete(other.ref)  # the last one: everything of ours goes
    assert _sources(aws, aws.fake.node_sg) == foreign_before
    names = {g["GroupName"] for g in ec2.describe_security_groups()["SecurityGroups"]}
    assert names == {"default", f"{aws.cluster}-nodes"}


def test_a_foreign_rule_equal_to_ours_counts_as_present_and_is_never_revoked(aws: Harness) -> None:
    provider = aws.provider(securityGroupMode="nodes")
    spec = aws.spec(source_ranges=("192.0.2.0/24",))
    aws.ec2().authorize_security_group_ingress(
        GroupId=aws.fake.node_sg,
        IpPermissions=[
            {
                "IpProtocol": "tcp",
                "FromPort": 30080,
                "ToPort": 30080,
                "IpRanges": [{"CidrIp": "192.0.2.0/24", "Description": "hand-made"}],
            }
        ],
    )
    provider.ensure(spec)
    assert provider.plan(spec) == []
    provider.delete(spec.ref)
    assert ("tcp", 30080, "192.0.2.0/24", "hand-made") in _sources(aws, aws.fake.node_sg)


def test_nodes_mode_puts_client_ranges_and_health_checks_on_the_node_group(aws: Harness) -> None:
    provider = aws.provider(securityGroupMode="nodes")
    spec = aws.spec(source_ranges=("192.0.2.0/24",))
    provider.ensure(spec)
    lb = aws.lb(load_balancer_name(spec.ref))
    assert lb.get("SecurityGroups", []) == []
    ours, shared = rule_description(spec.ref), f"cloud-lb/{aws.cluster}/shared"
    assert _sources(aws, aws.fake.node_sg) == {
        ("tcp", 30080, "192.0.2.0/24", ours),
        ("tcp", 10256, "10.0.0.0/16", shared),
    }
    moved = dataclasses.replace(spec, source_ranges=("192.0.2.128/25",))
    provider.ensure(moved)
    assert ("tcp", 30080, "192.0.2.0/24", ours) not in _sources(aws, aws.fake.node_sg)
    other = aws.spec(listeners=(tcp(8080, 31080),))
    provider.ensure(other)
    provider.delete(spec.ref)
    # the kube-proxy rule serves every Service of the cluster: it stays while one is left
    assert _sources(aws, aws.fake.node_sg) == {
        ("tcp", 31080, "0.0.0.0/0", rule_description(other.ref)),
        ("tcp", 10256, "10.0.0.0/16", shared),
    }
    provider.delete(other.ref)
    assert _sources(aws, aws.fake.node_sg) == set()


def test_user_security_groups_replace_ours_and_are_never_edited(aws: Harness) -> None:
    ec2 = aws.ec2()
    mine = ec2.create_security_group(
        GroupName="team-frontend", Description="theirs", VpcId=aws.fake.vpc_id
    )["GroupId"]
    before = aws.ingress(mine)
    provider = aws.provider()
    spec = aws.spec(options={ann.SECURITY_GROUPS: "team-frontend"})
    provider.ensure(spec)
    groups = aws.lb(load_balancer_name(spec.ref))["SecurityGroups"]
    assert groups[0] == mine and len(groups) == 2  # theirs, and the cluster's backend group
    assert aws.ingress(mine) == before
    assert ("tcp", 30000, groups[1], f"cloud-lb/{aws.cluster}/shared") in _sources(
        aws, aws.fake.node_sg
    )
    assert provider.plan(spec) == []


def test_delete_waits_for_aws_to_release_the_group_then_finishes(aws: Harness) -> None:
    """AWS refuses to delete an NLB's group until its network interfaces are gone: that is
    a PendingError (requeue), and the next delete finishes the job."""
    from cloud_lb.provider import PendingError
    from tests.providers.aws.test_throttling import EC2_ERROR, inject

    provider = aws.provider()
    spec = aws.spec()
    provider.ensure(spec)
    inject(
        provider.clients.ec2,
        "ec2.DeleteSecurityGroup",
        code="DependencyViolation",
        status=400,
        times=1,
        template=EC2_ERROR,
    )
    with pytest.raises(PendingError):
        provider.delete(spec.ref)
    provider.delete(spec.ref)
    names = {g["GroupName"] for g in aws.ec2().describe_security_groups()["SecurityGroups"]}
    assert names == {"default", f"{aws.cluster}-nodes"}
    assert provider.list_owned() == []
