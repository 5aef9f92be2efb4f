"""Test and demo hooks of the local provider (see `cloud_lb.testing.conformance`).

Every target and demo cloud gets a private state dir (a temp dir) and a private
address pool: a random /24 inside 127.192.0.0/11, outside the default pool, so that
parallel test workers and a user's own controller on the same host stay apart (the
address leases of `addresses.py` settle the rare collision).
"""

from __future__ import annotations

import ipaddress
import json
import random
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from cloud_lb.model import Backend, LBRef
from cloud_lb.provider import CallRecorder, ProviderContext
from cloud_lb.testing.conformance import ConformanceTarget, DemoCloud
from providers.local.config import HealthCheckOverrides, LocalConfig
from providers.local.provider import LocalProvider
from providers.local.state import (
    Record,
    atomic_write_json,
    provider_id_for,
    record_to_json,
    state_file_name,
)

_PRIVATE_SPACE = ipaddress.IPv4Network("127.192.0.0/11")


def private_subnet(rng: random.Random | None = None) -> ipaddress.IPv4Network:
    """A random /24 of loopback space that no default of cloud-lb uses."""
    index = (rng or random.SystemRandom()).randrange(2 ** (24 - _PRIVATE_SPACE.prefixlen))
    base = int(_PRIVATE_SPACE.network_address) + (index << 8)
    return ipaddress.IPv4Network((base, 24))


def _foreign_cluster(cluster: str) -> str:
    return f"{cluster}-foreign"


def _plant_entry(state_dir: Path, cluster: str, key: str, entry: dict[str, Any]) -> None:
    """Write an entry into `cluster`'s state file behind any provider's back."""
    path = state_dir / state_file_name(cluster)
    try:
        document = json.loads(path.read_text())
    except FileNotFoundError:
        document = {"version": 1, "cluster": cluster, "loadBalancers": {}}
    document["loadBalancers"][key] = entry
    atomic_write_json(path, document)


def _snapshot(state_dir: Path) -> dict[tuple[str, str], Any]:
    """Every entry of every state file: a missing file equals an empty one."""
    out: dict[tuple[str, str], Any] = {}
    for path in sorted(state_dir.glob("*.json")):
        document = json.loads(path.read_text())
        for key, entry in (document.get("loadBalancers") or {}).items():
            out[(path.name, key)] = entry
    return out


@contextmanager
def conformance_target(cluster: str) -> Iterator[ConformanceTarget]:
    with tempfile.TemporaryDirectory(prefix="cloud-lb-local-") as tmp:
        state_dir = Path(tmp)
        pool = private_subnet()
        nodes = private_subnet()
        recorder = CallRecorder()
        config = LocalConfig(address_pool=pool, state_dir=state_dir,
                             health_check=HealthCheckOverrides(interval_seconds=1.0))
        provider = LocalProvider(config, ProviderContext(cluster_name=cluster, recorder=recorder))

        def backends(n: int) -> tuple[Backend, ...]:
            hosts = list(nodes.hosts())
            return tuple(
                Backend(node_name=f"node-{i}", address=str(hosts[i]), provider_id=f"local://node-{i}")
                for i in range(n)
            )

        def plant_foreign(ref: LBRef) -> None:
            # 1. the same object in another cluster's file, on the address we would take first
            other = LBRef(_foreign_cluster(ref.cluster), ref.kind, ref.namespace, ref.name, ref.uid)
            first = str(next(pool.hosts()))
            record = Record.for_ref(other, first)
            _plant_entry(state_dir, other.cluster, record.provider_id, record_to_json(record))
            # 2. a look-alike under the exact id `ref` gets, tagged for the other cluster
            lookalike = record_to_json(Record.for_ref(other, str(list(pool.hosts())[1])))
            lookalike["providerId"] = provider_id_for(ref)
            _plant_entry(state_dir, ref.cluster, provider_id_for(ref), lookalike)

        try:
            yield ConformanceTarget(
                provider=provider,
                recorder=recorder,
                backends=backends,
                plant_foreign=plant_foreign,
                snapshot=lambda: _snapshot(state_dir),
            )
        finally:
            provider.close()


@contextmanager
def demo_cloud(cluster: str, nodes: list[tuple[str, str]]) -> Iterator[DemoCloud]:
    """A private pool and state dir, and quick health checks so the demo converges
    in about a second when a node's health changes."""
    with tempfile.TemporaryDirectory(prefix="cloud-lb-demo-local-") as tmp:
        state_dir = Path(tmp)
        pool = private_subnet()

        def describe() -> str:
            lines = []
            for (_, key), entry in sorted(_snapshot(state_dir).items()):
                tags = entry.get("tags") or {}
                listeners = ",".join(
                    f"{li['protocol']}/{li['port']}->{li['nodePort']}"
                    for li in entry.get("listeners", [])
                ) or "-"
                lines.append(
                    f"{key} {entry.get('address')} {tags.get('kind')}/{tags.get('namespace')}/"
                    f"{tags.get('name')} listeners={listeners} "
                    f"backends={len(entry.get('backends', []))}"
                )
            return "\n".join(lines) or f"no local load balancers (pool {pool})"

        yield DemoCloud(
            provider="local",
            config={
                "addressPool": str(pool),
                "stateDir": str(state_dir),
                "healthCheck": {"intervalSeconds": 0.5, "timeoutSeconds": 1.0},
            },
            provider_ids={name: f"local://{name}" for name, _ in nodes},
            describe=describe,
        )
