"""A create interrupted after any kind of mutating call is finished by the next ensure:
adopt, don't duplicate (the certificate by its tags, target groups by name, listeners
and rules by port and priority)."""

from __future__ import annotations

from typing import Any

import pytest

from providers.aws.clients import is_mutating
from providers.aws.naming import load_balancer_name
from tests.providers.aws.conftest import Harness
from tests.providers.aws.ingress import cafe, cafe_rules, cert, ingress_ref


class Interrupted(Exception):
    pass


def shape(aws: Harness, lb_name: str) -> dict[str, Any]:
    """What one Ingress's ALB holds, without generated IDs."""
    elb = aws.elb()
    lb = aws.lb(lb_name)
    listeners = elb.describe_listeners(LoadBalancerArn=lb["LoadBalancerArn"])["Listeners"]
    return {
        "listeners": sorted(
            (
                li["Port"],
                len(li.get("Certificates", [])),
                sorted(
                    str(r["Priority"])
                    for r in elb.describe_rules(ListenerArn=li["ListenerArn"])["Rules"]
                ),
            )
            for li in listeners
        ),
        "target_groups": sorted(tg["Port"] for tg in aws.target_groups(lb["LoadBalancerArn"])),
        "certificates": len(aws.fake.client("acm").list_certificates()["CertificateSummaryList"]),
        "groups": len(lb["SecurityGroups"]),
    }


def test_every_interrupted_create_is_finished_without_duplicates(aws: Harness) -> None:
    provider = aws.provider()
    backends = aws.fake.backends(1)
    rules = cafe_rules()[:2]
    operations: list[str] = []

    # a clean run: the order of mutating calls, and the shape to reach
    clean = cafe(ingress_ref(aws.cluster, "clean"), backends, tls=(cert(),), rules=rules)
    real_call = provider.clients.call

    def recording(service: str, method: str, **params: Any) -> dict[str, Any]:
        api = provider.clients.client(service).meta.method_to_api_mapping[method]
        if is_mutating(api):
            operations.append(f"{service}:{api}")
        return real_call(service, method, **params)

    provider.clients.call = recording  # type: ignore[method-assign]
    provider.ensure(clean)
    want = shape(aws, load_balancer_name(clean.ref))
    provider.clients.call = real_call  # type: ignore[method-assign]
    provider.delete(clean.ref)
    assert want["certificates"] == 1

    # interrupt right after the first call of each kind (deleting the clean run's ALB,
    # the cluster's last load balancer, removed the shared backend group as well)
    firsts = {op: i for i, op in reversed(list(enumerate(operations)))}
    for op, index in sorted(firsts.items(), key=lambda item: item[1]):
        spec = cafe(ingress_ref(aws.cluster, "cut"), backends, tls=(cert(),), rules=rules)

        def failing(service: str, method: str, *, _cut: str = op, **params: Any) -> dict[str, Any]:
            response = real_call(service, method, **params)
            api = provider.clients.client(service).meta.method_to_api_mapping[method]
            if f"{service}:{api}" == _cut:
                raise Interrupted(_cut)  # the call went through, the process did not
            return response

        provider.clients.call = failing  # type: ignore[method-assign]
        with pytest.raises(Interrupted):
            provider.ensure(spec)
        provider.clients.call = real_call  # type: ignore[method-assign]
        provider.ensure(spec)
        assert shape(aws, load_balancer_name(spec.ref)) == want, f"after {op} (call {index})"
        aws.recorder.reset()
        provider.ensure(spec)
        assert aws.recorder.mutations() == 0, f"after {op}"
        provider.delete(spec.ref)
    assert set(firsts) == {
        "ec2:CreateSecurityGroup",
        "ec2:AuthorizeSecurityGroupIngress",
        "elbv2:CreateLoadBalancer",
        "elbv2:CreateTargetGroup",
        "elbv2:RegisterTargets",
        "acm:ImportCertificate",
        "elbv2:CreateListener",
        "elbv2:CreateRule",
    }
