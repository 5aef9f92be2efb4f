"""The cloud a benchmark runs against: the simulated one, or a real provider's fake.

`open_cloud(kind, nodes, settings, workdir)` yields a `CloudHandle`: the provider
config section each controller process gets (per mode), environment (credentials of
a fake), the providerID of every node, and for `sim` the cloud's own counters.

- `sim`: `simcloud.SimCloud` in its own process, every knob of `CloudSettings`.
- `openstack`: the in-package fake OpenStack, with the settings' read/write latency
  injected as faults and its provisioning delay; it has no rate limit.
- `gcp`: the fake Compute API with latency faults; no rate limit.
- `aws`: moto's threaded server; moto has no latency or provisioning to inject, so
  only the call counts are comparable.
- `local`: the real local proxy (sockets on this host); no latency to inject.

Real providers run in the cloud-lb mode only: the sequential model is a behaviour of
the `sim` provider.
"""

from __future__ import annotations

import contextlib
import dataclasses
import importlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmarks.cluster import NodeInfo
from benchmarks.simcloud import CloudSettings
from benchmarks.simserver import serve_cloud

PROVIDERS = ("sim", "local", "openstack", "aws", "gcp")


@dataclass
class CloudHandle:
    provider: str
    config_for: Callable[[str], dict[str, Any]]  # mode -> provider config section
    provider_ids: dict[str, str]
    # what bounds the cloud sets: its rate limit (rate_limited), latencies and
    # provisioning time; None when nothing is known (moto, local sockets): no bound
    bound: CloudSettings | None
    rate_limited: bool
    env: dict[str, str] = field(default_factory=dict, repr=False)
    stats: Callable[[], dict[str, Any]] | None = None
    pool_members: Callable[[], dict[str, list[str]]] | None = None
    listener_cidrs: Callable[[], dict[str, list[list[str]]]] | None = None
    note: str = ""


@contextlib.contextmanager
def open_cloud(kind: str, nodes: list[NodeInfo], *, settings: CloudSettings,
               workdir: Path) -> Iterator[CloudHandle]:
    if kind == "sim":
        yield from _sim(nodes, settings)
    elif kind == "local":
        yield from _local(nodes, workdir)
    elif kind == "openstack":
        yield from _openstack(nodes, settings)
    elif kind == "gcp":
        yield from _gcp(nodes, settings)
    elif kind == "aws":
        yield from _aws(nodes)
    else:
        raise ValueError(f"unknown provider {kind!r}; one of {', '.join(PROVIDERS)}")


def _sim(nodes: list[NodeInfo], settings: CloudSettings) -> Iterator[CloudHandle]:
    server = serve_cloud(settings)
    client = server.client()
    try:
        def config_for(mode: str) -> dict[str, Any]:
            return {"host": server.address[0], "port": server.address[1],
                    "authkey": server.authkey.hex(), "mode": mode,
                    "clientQps": settings.rate, "clientBurst": settings.burst}
        yield CloudHandle(provider="sim", config_for=config_for,
                          provider_ids={n.name: f"sim:///{n.name}" for n in nodes},
                          bound=settings, rate_limited=True, stats=client.stats,
                          pool_members=client.pool_members,
                          listener_cidrs=client.listener_cidrs)
    finally:
        server.stop()


def _local(nodes: list[NodeInfo], workdir: Path) -> Iterator[CloudHandle]:
    section = {"stateDir": str(workdir / "local-state"), "addressPool": "127.241.0.0/16"}
    yield CloudHandle(provider="local", config_for=lambda mode: dict(section),
                      provider_ids={}, bound=None, rate_limited=False,
                      note="local: real sockets on this host, no injected latency; its "
                           "listeners live in the controller process, so a restart rebinds "
                           "them")


def _openstack(nodes: list[NodeInfo], settings: CloudSettings) -> Iterator[CloudHandle]:
    from cloud_lb.testing.fakeopenstack import FakeOpenStack
    from cloud_lb.testing.fakeopenstack.faults import Fault

    testing = importlib.import_module("providers.openstack.testing")
    with FakeOpenStack(provisioning_delay=settings.provision_seconds) as fake:
        ids = {n.name: testing.provider_id(fake.add_server(n.name, n.ip)) for n in nodes}
        fake.set_quota(floatingip=-1)  # Neutron's default 50 would cap N, not measure it
        fake.faults.inject(Fault(latency=settings.read_latency, method="GET", times=None))
        for method in ("POST", "PUT", "PATCH", "DELETE"):
            fake.faults.inject(Fault(latency=settings.write_latency, method=method, times=None))
        section = {"subnetId": fake.private_subnet["id"],
                   "floatingNetworkId": fake.public_network["id"], "region": fake.region}
        yield CloudHandle(provider="openstack", config_for=lambda mode: dict(section),
                          provider_ids=ids, bound=settings, rate_limited=False,
                          env=fake.env(),
                          note="openstack: fake OpenStack with injected latency and "
                               "provisioning delay, no rate limit")


def _gcp(nodes: list[NodeInfo], settings: CloudSettings) -> Iterator[CloudHandle]:
    from cloud_lb.testing.fakegce import FakeGCE

    testing = importlib.import_module("providers.gcp.testing")
    with FakeGCE(project=testing.PROJECT, regions={testing.REGION: testing.ZONES}) as fake:
        backends = testing.seed_nodes(fake, [n.name for n in nodes], [n.ip for n in nodes])
        for pattern in ("*.get", "*.list", "*.aggregatedList"):
            fake.faults.latency(settings.read_latency, pattern)
        for pattern in ("*.insert", "*.delete", "*.patch", "*.update", "*.add*",
                        "*.remove*", "*.set*"):
            fake.faults.latency(settings.write_latency, pattern)
        section = testing.fake_config(fake).model_dump(by_alias=True, exclude_none=True)
        yield CloudHandle(provider="gcp", config_for=lambda mode: dict(section),
                          provider_ids={name: b.provider_id for name, b in backends.items()},
                          bound=dataclasses.replace(settings, provision_seconds=0.0),
                          rate_limited=False,
                          note="gcp: fake Compute API with injected latency, no rate limit")


def _aws(nodes: list[NodeInfo]) -> Iterator[CloudHandle]:
    testing = importlib.import_module("providers.aws.testing")
    with testing.demo_cloud("bench", [(n.name, n.ip) for n in nodes]) as cloud:
        yield CloudHandle(provider="aws", config_for=lambda mode: dict(cloud.config),
                          provider_ids=cloud.provider_ids, bound=None, rate_limited=False,
                          env=cloud.env or {},
                          note="aws: moto server, no latency or rate limit to inject")
