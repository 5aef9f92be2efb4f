"""Fixtures of the AWS provider tests: boto3 against in-process moto (`mock_aws`).

Every test gets its own moto account (see `providers.aws.testing`), a VPC with two
tagged subnets and a node security group, and `Harness.provider(**config)` to build
providers on it with fast retries and no client-side pacing.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from cloud_lb.model import (
    HealthCheck,
    HealthCheckProtocol,
    LBRef,
    Listener,
    LoadBalancerSpec,
    ObjectKind,
    Protocol,
    TrafficPolicy,
)
from cloud_lb.provider import CallRecorder, ProviderContext
from providers.aws.provider import AWSProvider
from providers.aws.testing import FakeAWS, fake_aws

KUBE_PROXY = HealthCheck(protocol=HealthCheckProtocol.HTTP, port=10256, path="/healthz")


def tcp(port: int = 80, node_port: int = 30080, health: HealthCheck = KUBE_PROXY) -> Listener:
    return Listener(
        name=f"tcp-{port}",
        protocol=Protocol.TCP,
        port=port,
        node_port=node_port,
        health_check=health,
    )


def udp(port: int = 53, node_port: int = 30053, health: HealthCheck = KUBE_PROXY) -> Listener:
    return Listener(
        name=f"udp-{port}",
        protocol=Protocol.UDP,
        port=port,
        node_port=node_port,
        health_check=health,
    )


@dataclass
class Harness:
    fake: FakeAWS
    cluster: str
    recorder: CallRecorder = field(default_factory=CallRecorder)
    providers: list[AWSProvider] = field(default_factory=list)

    def provider(self, **config: Any) -> AWSProvider:
        built = AWSProvider(
            self.fake.config(**config),
            ProviderContext(cluster_name=self.cluster, recorder=self.recorder),
        )
        self.providers.append(built)
        return built

    def ref(self, name: str = "web", namespace: str = "default") -> LBRef:
        return LBRef(
            cluster=self.cluster,
            kind=ObjectKind.SERVICE,
            namespace=namespace,
            name=name,
            uid=str(uuid.uuid4()),
        )

    def spec(
        self,
        ref: LBRef | None = None,
        *,
        listeners: tuple[Listener, ...] = (),
        nodes: int = 2,
        options: dict[str, str] | None = None,
        **kwargs: Any,
    ) -> LoadBalancerSpec:
        return LoadBalancerSpec(
            ref=ref or self.ref(),
            listeners=listeners or (tcp(),),
            backends=self.fake.backends(nodes),
            options=tuple(sorted((options or {}).items())),
            **kwargs,
        )

    def mutations(self) -> dict[str, int]:
        """Mutating calls so far, by operation."""
        out: dict[str, int] = {}
        for (op, mutating, _), n in self.recorder.calls.items():
            if mutating:
                out[op] = out.get(op, 0) + n
        return out

    def elb(self) -> Any:
        return self.fake.client("elbv2")

    def ec2(self) -> Any:
        return self.fake.client("ec2")

    def lb(self, name: str) -> dict[str, Any]:
        return self.elb().describe_load_balancers(Names=[name])["LoadBalancers"][0]

    def target_groups(self, lb_arn: str) -> list[dict[str, Any]]:
        return self.elb().describe_target_groups(LoadBalancerArn=lb_arn)["TargetGroups"]

    def targets(self, tg_arn: str) -> set[str]:
        health = self.elb().describe_target_health(TargetGroupArn=tg_arn)[
            "TargetHealthDescriptions"
        ]
        return {h["Target"]["Id"] for h in health}

    def ingress(self, group_id: str) -> list[dict[str, Any]]:
        return self.ec2().describe_security_groups(GroupIds=[group_id])["SecurityGroups"][0][
            "IpPermissions"
        ]


@pytest.fixture
def aws() -> Iterator[Harness]:
    cluster = f"t{uuid.uuid4().hex[:8]}"
    with fake_aws(cluster) as fake:
        harness = Harness(fake=fake, cluster=cluster)
        try:
            yield harness
        finally:
            for provider in harness.providers:
                provider.close()


LOCAL = TrafficPolicy.LOCAL
