"""Deleting an Ingress's ALB leaves nothing behind, and nothing that is not tagged as
the Ingress's (look-alike ALBs, groups, certificates) is ever changed."""

from __future__ import annotations

import pytest

from cloud_lb.provider import OwnershipError
from cloud_lb.testing.certs import self_signed
from providers.aws.naming import (
    UID_TAG,
    cluster_tag,
    load_balancer_name,
    security_group_name,
    tags_list,
)
from tests.providers.aws.conftest import Harness, tcp
from tests.providers.aws.ingress import cafe, cert, ingress_ref


def test_delete_leaves_the_account_as_it_was(aws: Harness) -> None:
    provider = aws.provider()
    backends = aws.fake.backends(2)
    before = aws.fake.snapshot()
    ref = ingress_ref(aws.cluster)
    spec = cafe(ref, backends, tls=(cert(), cert("tea-tls", ("tea.example.com",))))
    provider.ensure(spec)
    assert provider.list_owned() == [ref]
    provider.delete(ref)
    # ALB, listeners, rules, target groups, both certificates, our group, our rules and
    # (the cluster's last load balancer) the shared backend group and node rules
    assert aws.fake.snapshot() == before
    assert provider.get(ref) is None
    assert provider.list_owned() == []
    provider.delete(ref)  # gone is success


def test_the_shared_backend_group_stays_while_a_service_uses_it(aws: Harness) -> None:
    provider = aws.provider()
    service = aws.spec(listeners=(tcp(),))
    provider.ensure(service)
    with_nlb = aws.fake.snapshot()
    ref = ingress_ref(aws.cluster)
    provider.ensure(cafe(ref, service.backends))
    provider.delete(ref)
    assert aws.fake.snapshot() == with_nlb


def test_look_alikes_of_other_clusters_are_never_touched(aws: Harness) -> None:
    provider = aws.provider()
    ref = ingress_ref(aws.cluster)
    foreign = {cluster_tag(f"{aws.cluster}-other"): "owned", UID_TAG: ref.uid}
    # an ALB and a security group with our names, and a certificate with our UID tag,
    # all of another cluster
    group = aws.ec2().create_security_group(
        GroupName=security_group_name(ref),
        Description="not cloud-lb's",
        VpcId=aws.fake.vpc_id,
        TagSpecifications=[{"ResourceType": "security-group", "Tags": tags_list(foreign)}],
    )["GroupId"]
    aws.elb().create_load_balancer(
        Name=load_balancer_name(ref),
        Type="application",
        Subnets=list(aws.fake.subnets.values()),
        SecurityGroups=[group],
        Tags=tags_list(foreign),
    )
    cert_pem, key_pem = self_signed(["cafe.example.com"])
    aws.fake.client("acm").import_certificate(
        Certificate=cert_pem.encode(), PrivateKey=key_pem.encode(), Tags=tags_list(foreign)
    )
    spec = cafe(ref, aws.fake.backends(1), tls=(cert(),))
    before = aws.fake.snapshot()

    with pytest.raises(OwnershipError):
        provider.ensure(spec)
    with pytest.raises(OwnershipError):
        provider.plan(spec)
    assert provider.get(ref) is None
    assert provider.list_owned() == []
    provider.delete(ref)
    assert aws.fake.snapshot() == before


def test_a_look_alike_group_stops_the_create_before_anything_is_made(aws: Harness) -> None:
    provider = aws.provider()
    ref = ingress_ref(aws.cluster)
    aws.ec2().create_security_group(
        GroupName=security_group_name(ref), Description="someone's", VpcId=aws.fake.vpc_id
    )
    spec = cafe(ref, aws.fake.backends(1))
    before = aws.fake.snapshot()
    aws.recorder.reset()
    with pytest.raises(OwnershipError):
        provider.ensure(spec)
    assert aws.recorder.mutations() == 0
    assert aws.fake.snapshot() == before


def test_certificates_left_without_their_alb_are_listed_and_deleted(aws: Harness) -> None:
    provider = aws.provider()
    ref = ingress_ref(aws.cluster)
    provider.ensure(cafe(ref, aws.fake.backends(1), tls=(cert(),)))
    # someone deletes the ALB and its group by hand: the certificate still tells whose
    # it was
    aws.elb().delete_load_balancer(
        LoadBalancerArn=aws.lb(load_balancer_name(ref))["LoadBalancerArn"]
    )
    (group,) = aws.ec2().describe_security_groups(
        Filters=[{"Name": "group-name", "Values": [security_group_name(ref)]}]
    )["SecurityGroups"]
    aws.ec2().delete_security_group(GroupId=group["GroupId"])
    assert provider.list_owned() == [ref]
    provider.delete(ref)
    assert aws.fake.client("acm").list_certificates()["CertificateSummaryList"] == []
    assert provider.list_owned() == []
