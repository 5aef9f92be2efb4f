"""Soak: random creates, updates, deletes, node churn and cloud faults for a bounded
time (30 s in CI, 5 min with CLOUD_LB_FULL=1), then the invariant: with faults cleared,
the cloud equals the desired state (every Service served on its current port, nothing
else owned), and after deleting everything, zero leaked resources. The RSS of the
process (controller in-process) is sampled and its slope reported."""

from __future__ import annotations

import random
import time

import pytest

from cloud_lb.testing.fakecluster.nodes import node_manifest
from tests.reliability import cloudfaults, scenario
from tests.reliability.conftest import FULL, WorldFactory
from tests.reliability.inprocess import running_controller
from tests.reliability.processes import wait_until
from tests.reliability.worlds import NS

DURATION = 300.0 if FULL else 30.0


def _rss_kib() -> int:
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmRSS:"))


def _slope(samples: list[tuple[float, int]]) -> float:
    """Least-squares KiB per minute."""
    n = len(samples)
    mean_t = sum(t for t, _ in samples) / n
    mean_r = sum(r for _, r in samples) / n
    var = sum((t - mean_t) ** 2 for t, _ in samples) or 1.0
    return 60 * sum((t - mean_t) * (r - mean_r) for t, r in samples) / var


@pytest.mark.timeout(int(DURATION) + 300)
def test_soak(worlds: WorldFactory, record_property: pytest.RecordProperty) -> None:
    rng = random.Random(2024)
    with worlds("openstack", nodes=4) as world:
        nodes = world.extra["nodes"]
        present = {n for n, _, _ in nodes}
        dice = cloudfaults.inject(world, failure_rate=0.10, seed=5)
        desired: dict[str, int] = {}  # Service -> port
        ops: dict[str, int] = {}
        samples: list[tuple[float, int]] = []
        with running_controller(world) as (controller, _, recorder, _):
            start = time.monotonic()
            next_sample = start
            while time.monotonic() - start < DURATION:
                op = rng.choice(["create", "create", "update", "delete", "node"])
                if op == "create" and len(desired) < 15:
                    name = f"soak-{sum(ops.values())}"
                    world.create_service(name)
                    desired[name] = 80
                elif op == "update" and desired:
                    name = rng.choice(sorted(desired))
                    desired[name] = 80 + rng.randrange(1, 20)
                    world.core.patch_namespaced_service(name, NS, {"spec": {"ports": [
                        {"name": "tcp", "port": desired[name], "targetPort": 8080}]}},
                        _content_type="application/merge-patch+json")
                elif op == "delete" and desired:
                    name = rng.choice(sorted(desired))
                    del desired[name]
                    world.core.delete_namespaced_service(name, NS)
                elif op == "node":
                    name, ip, pid = rng.choice(nodes)
                    if name in present and len(present) > 1:
                        world.core.delete_node(name)
                        present.discard(name)
                    elif name not in present:
                        world.core.create_node(node_manifest(name, ip, provider_id=pid))
                        present.add(name)
                ops[op] = ops.get(op, 0) + 1
                if time.monotonic() >= next_sample:
                    samples.append((time.monotonic() - start, _rss_kib()))
                    next_sample += 1.0
                time.sleep(rng.uniform(0.05, 0.3))
            world.fake.faults.clear()
            wait_until(lambda: all(scenario.served(world, n, port=p, backends=len(present))
                                   for n, p in desired.items())
                       and {r.name for r in scenario.reader(world).list_owned()} == set(desired),
                       180, "cloud == desired after the soak")
            for name in desired:
                world.core.delete_namespaced_service(name, NS)
            wait_until(lambda: not scenario.reader(world).list_owned(), 120, "all deleted")
            assert controller.wait_idle(60)
        assert world.resources() == {}, f"leaked after the soak: {world.resources()}"
        slope = _slope(samples)
        record_property("rss_slope_kib_per_min", round(slope))
        print(f"soak {DURATION:.0f}s: ops {ops}, {cloudfaults.injected(dice)} faults, "
              f"{sum(recorder.calls.values())} cloud calls, RSS {samples[0][1]}->"
              f"{samples[-1][1]} KiB, slope {slope:.0f} KiB/min")
