"""Fixtures for the local provider's tests: fake nodes, providers on private pools."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
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
)
from cloud_lb.provider import CallRecorder, ProviderContext
from providers.local.config import LocalConfig
from providers.local.provider import LocalProvider
from providers.local.testing import private_subnet
from tests.providers.local.nodes import FakeNodes


@dataclass
class Harness:
    provider: LocalProvider
    recorder: CallRecorder
    config: LocalConfig
    cluster: str

    def ops(self) -> dict[str, int]:
        """Mutating calls so far, by operation."""
        out: dict[str, int] = {}
        for (op, mutating, _), n in self.recorder.calls.items():
            if mutating:
                out[op] = out.get(op, 0) + n
        return out


@pytest.fixture
def state_dir(tmp_path: Path) -> Path:
    return tmp_path / "state"


@pytest.fixture
def pool() -> str:
    return str(private_subnet())


@pytest.fixture
def cluster() -> str:
    return f"local-{uuid.uuid4().hex[:8]}"


@pytest.fixture
def make_provider(state_dir: Path, pool: str, cluster: str) -> Iterator[Callable[..., Harness]]:
    """Build providers on this test's private pool and state dir; all closed at the end."""
    built: list[LocalProvider] = []

    def make(**overrides: Any) -> Harness:
        settings: dict[str, Any] = {
            "addressPool": pool,
            "stateDir": str(state_dir),
            "healthCheck": {"intervalSeconds": 0.05, "timeoutSeconds": 1.0},
        }
        settings.update(overrides)
        config = LocalConfig.model_validate(settings)
        recorder = CallRecorder()
        provider = LocalProvider(config, ProviderContext(cluster_name=cluster, recorder=recorder))
        built.append(provider)
        return Harness(provider, recorder, config, cluster)

    yield make
    for provider in built:
        provider.close()


@pytest.fixture
def make_nodes() -> Iterator[Callable[..., FakeNodes]]:
    started: list[FakeNodes] = []

    def make(n: int, **kwargs: Any) -> FakeNodes:
        nodes = FakeNodes(n, **kwargs)
        started.append(nodes)
        return nodes

    yield make
    for nodes in started:
        nodes.close()


def make_ref(cluster: str, name: str = "web") -> LBRef:
    return LBRef(cluster=cluster, kind=ObjectKind.SERVICE, namespace="default", name=name,
                 uid=str(uuid.uuid4()))


def http_check(nodes: FakeNodes) -> HealthCheck:
    return HealthCheck(protocol=HealthCheckProtocol.HTTP, port=nodes.health_port, path="/healthz")


def listener(protocol: Protocol, port: int, node_port: int, check: HealthCheck) -> Listener:
    return Listener(name=f"{protocol.value.lower()}-{port}", protocol=protocol, port=port,
                    node_port=node_port, health_check=check)


def spec_for(ref: LBRef, nodes: FakeNodes, *listeners: Listener, **fields: Any) -> LoadBalancerSpec:
    return LoadBalancerSpec(ref=ref, listeners=listeners, backends=nodes.backends(), **fields)


def wait_until(predicate: Callable[[], bool], what: str, *, timeout: float = 20.0) -> None:
    """Poll until `predicate` holds; a deadline for convergence, not a timing assertion."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for: {what}")
        time.sleep(0.02)


def healthy_count(harness: Harness, ref: LBRef) -> int | None:
    status = harness.provider.get(ref)
    return None if status is None else status.backends_healthy
