"""Fixtures: a fake OpenStack per test, a provider on it through openstacksdk, and a
spec builder that makes Services the way the translator does."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from cloud_lb.model import (
    Backend,
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
from cloud_lb.testing.fakeopenstack import FakeOpenStack
from providers.openstack.provider import OpenStackProvider
from providers.openstack.testing import fake_config

KUBE_PROXY = HealthCheck(protocol=HealthCheckProtocol.HTTP, port=10256, path="/healthz")


@pytest.fixture
def fake() -> Iterator[FakeOpenStack]:
    with FakeOpenStack() as cloud:
        yield cloud


@pytest.fixture
def servers(fake: FakeOpenStack) -> list[dict[str, Any]]:
    return [fake.add_server(f"node-{i}") for i in range(6)]


@pytest.fixture
def recorder() -> CallRecorder:
    return CallRecorder()


@pytest.fixture
def make_provider(fake: FakeOpenStack, recorder: CallRecorder
                  ) -> Iterator[Callable[..., OpenStackProvider]]:
    built: list[OpenStackProvider] = []

    def make(cluster: str = "prod", **overrides: Any) -> OpenStackProvider:
        provider = OpenStackProvider(fake_config(fake, **overrides),
                                     ProviderContext(cluster_name=cluster, recorder=recorder),
                                     sleep=lambda _: None)
        built.append(provider)
        return provider

    yield make
    for provider in built:
        provider.close()


@pytest.fixture
def provider(make_provider: Callable[..., OpenStackProvider]) -> OpenStackProvider:
    return make_provider()


def listener(port: int, node_port: int, protocol: Protocol = Protocol.TCP,
             check: HealthCheck = KUBE_PROXY) -> Listener:
    return Listener(name=f"{protocol.value.lower()}-{port}", protocol=protocol, port=port,
                    node_port=node_port, health_check=check)


def three_ports() -> tuple[Listener, ...]:
    return (listener(80, 30080), listener(443, 30443), listener(53, 30053, Protocol.UDP))


def backends(n: int) -> tuple[Backend, ...]:
    """Nodes as the translator reports them (members need no Nova server to exist)."""
    return tuple(Backend(node_name=f"node-{i}", address=f"10.0.5.{10 + i}",
                         provider_id=f"openstack:///server-{i}") for i in range(n))


def build_spec(name: str = "web", *, nodes: int = 3,
               listeners: tuple[Listener, ...] | None = None,
               options: dict[str, str] | None = None, uid: str | None = None,
               cluster: str = "prod", **fields: Any) -> LoadBalancerSpec:
    ref = LBRef(cluster=cluster, kind=ObjectKind.SERVICE, namespace="default", name=name,
                uid=uid or str(uuid.uuid4()))
    return LoadBalancerSpec(ref=ref, listeners=listeners or three_ports(),
                            backends=backends(nodes),
                            options=tuple(sorted((options or {}).items())), **fields)


@pytest.fixture
def spec_for() -> Callable[..., LoadBalancerSpec]:
    return build_spec


def local_check(port: int = 32000) -> HealthCheck:
    return HealthCheck(protocol=HealthCheckProtocol.HTTP, port=port, path="/healthz")


__all__ = ["KUBE_PROXY", "Backend", "TrafficPolicy", "listener", "local_check", "three_ports"]
