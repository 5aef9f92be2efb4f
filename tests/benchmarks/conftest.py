"""A simulated cloud per test (its own process on 127.0.0.1:0, stopped after), fast
enough that provider tests take a second, and providers of both models built on it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from benchmarks.simcloud import SIM_PLUGIN, CloudSettings
from benchmarks.simserver import CloudServer, serve_cloud
from cloud_lb.model import (
    Backend,
    HealthCheck,
    HealthCheckProtocol,
    LBRef,
    Listener,
    LoadBalancerSpec,
    ObjectKind,
    Protocol,
)
from cloud_lb.provider import CallRecorder, LoadBalancerProvider, ProviderContext

FAST = CloudSettings(read_latency=0.002, write_latency=0.004, provision_seconds=0.3,
                     update_seconds=0.1, delete_seconds=0.1, rate=1000.0, burst=1000)


@pytest.fixture(scope="module")
def cloud() -> Iterator[CloudServer]:
    server = serve_cloud(FAST)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def make_provider(cloud: CloudServer) -> Iterator[Callable[..., tuple[LoadBalancerProvider,
                                                                      CallRecorder]]]:
    built: list[LoadBalancerProvider] = []

    def make(mode: str = "cloud-lb", **overrides: Any) -> tuple[LoadBalancerProvider,
                                                                CallRecorder]:
        recorder = CallRecorder()
        config = SIM_PLUGIN.config_model.model_validate({
            "port": cloud.address[1], "authkey": cloud.authkey.hex(), "mode": mode,
            "pendingRetrySeconds": 0.1, "pollInitialSeconds": 0.05, "pollFactor": 1.0,
            "pollSteps": 100, "clientQps": 0, **overrides})
        provider = SIM_PLUGIN.factory(config, ProviderContext("test", recorder))
        built.append(provider)
        return provider, recorder

    yield make
    for provider in built:
        provider.close()


def spec(name: str, *, nodes: int = 3, ranges: tuple[str, ...] = (), uid: str = "") -> LoadBalancerSpec:
    health = HealthCheck(HealthCheckProtocol.HTTP, 10256)
    return LoadBalancerSpec(
        ref=LBRef("test", ObjectKind.SERVICE, "default", name, uid or f"uid-{name}"),
        listeners=(Listener("http", Protocol.TCP, 80, 30080, health),),
        backends=tuple(Backend(f"node-{i}", f"10.0.0.{i + 1}") for i in range(nodes)),
        source_ranges=ranges)
