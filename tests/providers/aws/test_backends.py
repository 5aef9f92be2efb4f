"""Node changes: one RegisterTargets and one DeregisterTargets call per target group."""

from __future__ import annotations

import dataclasses

from providers.aws.naming import load_balancer_name
from tests.providers.aws.conftest import Harness, tcp, udp


def test_node_add_and_remove_is_one_call_each_per_target_group(aws: Harness) -> None:
    provider = aws.provider()
    spec = aws.spec(listeners=(tcp(80, 30080), udp(53, 30053)), nodes=3)
    provider.ensure(spec)
    three = {iid for iid, _, _ in aws.fake.instances[:3]}
    # node 0 leaves, nodes 3 and 4 join
    changed = dataclasses.replace(spec, backends=aws.fake.backends(5)[1:])
    before = aws.mutations()
    provider.update_backends(changed)
    delta = {
        op: n - before.get(op, 0) for op, n in aws.mutations().items() if n != before.get(op, 0)
    }
    assert delta == {"elbv2:RegisterTargets": 2, "elbv2:DeregisterTargets": 2}
    lb = aws.lb(load_balancer_name(spec.ref))
    wanted = {iid for iid, _, _ in aws.fake.instances[1:5]}
    for tg in aws.target_groups(lb["LoadBalancerArn"]):
        assert aws.targets(tg["TargetGroupArn"]) == wanted != three
    assert provider.plan(changed) == []


def test_nodes_without_an_instance_are_skipped_not_fatal(aws: Harness) -> None:
    from cloud_lb.model import Backend

    provider = aws.provider()
    spec = aws.spec(nodes=2)
    odd = dataclasses.replace(
        spec,
        backends=(
            *spec.backends,
            Backend("bare-metal", "10.0.1.200", "kind://x/y"),
            Backend("gone", "10.0.1.201", "aws:///eu-west-3a/i-0000000000000dead"),
        ),
    )
    status = provider.ensure(odd)
    assert status.backends_total == 2
    [tg] = aws.target_groups(aws.lb(load_balancer_name(spec.ref))["LoadBalancerArn"])
    assert aws.targets(tg["TargetGroupArn"]) == {iid for iid, _, _ in aws.fake.instances[:2]}


def test_a_stopped_node_fails_registration_and_falls_back_to_a_full_ensure(aws: Harness) -> None:
    provider = aws.provider()
    spec = aws.spec(nodes=2)
    provider.ensure(spec)
    three = aws.fake.backends(3)
    aws.ec2().stop_instances(InstanceIds=[aws.fake.instances[2][0]])
    provider.update_backends(dataclasses.replace(spec, backends=three))
    [tg] = aws.target_groups(aws.lb(load_balancer_name(spec.ref))["LoadBalancerArn"])
    assert aws.targets(tg["TargetGroupArn"]) == {iid for iid, _, _ in aws.fake.instances[:2]}
