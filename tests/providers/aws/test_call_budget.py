"""How many AWS calls the provider makes: create, unchanged resync, node change.

Exact counts on purpose: a change here is a change in what an account's API budget pays
per Service, and should be noticed (and the numbers in docs/providers/aws.md updated).
"""

from __future__ import annotations

import dataclasses

from tests.providers.aws.conftest import Harness, tcp


def _count(aws: Harness) -> tuple[int, int]:
    return aws.recorder.count(), aws.recorder.mutations()


def test_two_port_service_create_resync_and_node_change(aws: Harness) -> None:
    provider = aws.provider()
    spec = aws.spec(listeners=(tcp(80, 30080), tcp(443, 30443)), nodes=3)

    provider.ensure(spec)
    created = _count(aws)
    # 2 security groups (the NLB's, and the cluster's shared backend group, first Service
    # only) + 2 rule batches (NLB group, node group) + 1 NLB + 2 target groups + 2 listeners
    # + 2 registrations
    assert created[1] == 11
    # reads: the NLB, instances, node groups, our group and the backend group by name,
    # subnets, and each target group by name (to adopt leftovers of an interrupted create)
    assert created[0] - created[1] == 8

    aws.recorder.reset()
    provider.ensure(spec)
    # unchanged resync, reads only: NLB, target groups, tags, attributes, listeners,
    # 2 x (group attributes, target health), instances, security groups, subnets
    assert _count(aws) == (12, 0)

    aws.recorder.reset()
    provider.update_backends(dataclasses.replace(spec, backends=aws.fake.backends(4)[1:]))
    # DescribeLoadBalancers, DescribeTargetGroups, DescribeTags, 2 x DescribeTargetHealth,
    # then one RegisterTargets and one DeregisterTargets per target group
    assert _count(aws) == (9, 4)

    aws.recorder.reset()
    provider.update_backends(dataclasses.replace(spec, backends=aws.fake.backends(4)[1:]))
    assert _count(aws) == (5, 0)

    # a second Service finds the shared backend group and the node rules in place: its
    # group + its rules + NLB + 2 target groups + 2 listeners + 2 registrations
    aws.recorder.reset()
    provider.ensure(aws.spec(listeners=(tcp(80, 31080), tcp(443, 31443)), nodes=3))
    assert _count(aws)[1] == 9
