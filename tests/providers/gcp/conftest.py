"""Fixtures: a fake Compute API per test, a pool of instances, and the provider on it."""

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
from cloud_lb.testing.fakegce import FakeGCE
from providers.gcp.provider import GCPProvider
from providers.gcp.testing import PROJECT, REGION, ZONES, fake_config, seed_nodes

CLUSTER = "test-cluster"
KUBE_PROXY = HealthCheck(protocol=HealthCheckProtocol.HTTP, port=10256, path="/healthz")


@pytest.fixture
def fake() -> Iterator[FakeGCE]:
    with FakeGCE(project=PROJECT, regions={REGION: ZONES}) as started:
        yield started


@pytest.fixture
def nodes(fake: FakeGCE) -> list[Backend]:
    """node-0..node-5, two per zone (node-i in zone i % 3)."""
    seeded = seed_nodes(fake, [f"node-{i}" for i in range(6)])
    return [seeded[f"node-{i}"] for i in range(6)]


@pytest.fixture
def recorder() -> CallRecorder:
    return CallRecorder()


ProviderFactory = Callable[..., GCPProvider]


@pytest.fixture
def make_provider(fake: FakeGCE, recorder: CallRecorder) -> Iterator[ProviderFactory]:
    built: list[GCPProvider] = []

    def build(cluster: str = CLUSTER, **overrides: Any) -> GCPProvider:
        provider = GCPProvider(fake_config(fake, **overrides), ProviderContext(cluster, recorder))
        built.append(provider)
        return provider

    yield build
    for provider in built:
        provider.close()


@pytest.fixture
def provider(make_provider: ProviderFactory, nodes: list[Backend]) -> GCPProvider:
    return make_provider()


def ref(name: str = "web", *, cluster: str = CLUSTER, namespace: str = "default") -> LBRef:
    return LBRef(
        cluster=cluster,
        kind=ObjectKind.SERVICE,
        namespace=namespace,
        name=name,
        uid=str(uuid.uuid4()),
    )


def listener(protocol: str, port: int, node_port: int, check: HealthCheck = KUBE_PROXY) -> Listener:
    return Listener(
        name=f"{protocol.lower()}-{port}",
        protocol=Protocol(protocol),
        port=port,
        node_port=node_port,
        health_check=check,
    )


def spec(
    lb_ref: LBRef,
    backends: list[Backend] | tuple[Backend, ...],
    *,
    ports: tuple[tuple[str, int, int], ...] = (("TCP", 80, 30080),),
    check: HealthCheck = KUBE_PROXY,
    **kwargs: Any,
) -> LoadBalancerSpec:
    return LoadBalancerSpec(
        ref=lb_ref,
        listeners=tuple(listener(p, port, np, check) for p, port, np in ports),
        backends=tuple(backends),
        **kwargs,
    )


def local_spec(
    lb_ref: LBRef, backends: list[Backend], hc_node_port: int = 32000
) -> LoadBalancerSpec:
    check = HealthCheck(protocol=HealthCheckProtocol.HTTP, port=hc_node_port, path="/healthz")
    return spec(lb_ref, backends, check=check, traffic_policy=TrafficPolicy.LOCAL)


def by_name(fake: FakeGCE, collection: str) -> dict[str, dict[str, Any]]:
    return {r["name"]: r for r in fake.resources(collection)}


T = Any


def until_done(call: Callable[[], T], *, attempts: int = 30) -> T:
    """Call again while the provider says PendingError, as the work queue would requeue
    (a short operation deadline on a loaded machine may need more than one pass)."""
    from cloud_lb.provider import PendingError

    for _ in range(attempts - 1):
        try:
            return call()
        except PendingError:
            continue
    return call()
