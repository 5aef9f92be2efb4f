"""Cloud faults: 30 % of cloud calls fail (500, 503, 429) and 5 % are slowed by latency
spikes while Services are created, updated and deleted. Every Service converges, no
resource leaks, and no key is retried before the delay its queue chose; under pure
throttling the global token bucket spreads retries instead of failing Services.

CI: 20 Services; CLOUD_LB_FULL=1: 100.
"""

from __future__ import annotations

import pytest

from tests.reliability import cloudfaults, scenario
from tests.reliability.conftest import FULL, WorldFactory
from tests.reliability.inprocess import running_controller
from tests.reliability.processes import wait_until
from tests.reliability.worlds import NS, ingress_of

COUNT = 100 if FULL else 20
SETTLE = 600 if FULL else 180


def _all(world, names, **kwargs) -> bool:  # type: ignore[no-untyped-def]
    return all(scenario.served(world, n, **kwargs) for n in names)


@pytest.mark.timeout(900 if FULL else 300)
@pytest.mark.parametrize("provider", ["openstack", "aws", "gcp"])
def test_everything_converges_under_30_percent_cloud_faults(
        provider: str, worlds: WorldFactory, record_property: pytest.RecordProperty) -> None:
    with worlds(provider) as world:
        dice = cloudfaults.inject(world, failure_rate=0.30)
        names = [f"svc-{i:03d}" for i in range(COUNT)]
        hook = cloudfaults.aws_hook(world) if provider == "aws" else None
        with running_controller(world, hook=hook,
                                rateLimit={"backoffBase": "0.1s", "backoffMax": "1s",
                                           "qps": 50, "burst": 50}) as (
                controller, _, recorder, timeline):
            for name in names:
                world.create_service(name)
            wait_until(lambda: _all(world, names), SETTLE, "every Service served")
            for name in names:
                world.core.patch_namespaced_service(
                    name, NS, {"spec": {"ports": [{"name": "tcp", "port": 81,
                                                   "targetPort": 8080}]}},
                    _content_type="application/merge-patch+json")
            wait_until(lambda: _all(world, names, port=81), SETTLE, "every Service updated")
            for name in names:
                world.core.delete_namespaced_service(name, NS)
            wait_until(lambda: all(world.service(n) is None for n in names), SETTLE,
                       "every Service deleted")
            assert controller.wait_idle(60)
        faults = cloudfaults.injected(dice)
        failed_calls = sum(n for (_, _, result), n in recorder.calls.items() if result != "ok")
        assert faults > COUNT and failed_calls > 0, "the faults did not fire"
        assert world.resources() == {}, f"leaked under faults: {world.resources()}"
        early = timeline.violations()
        assert not early, f"retried before their backoff: {early[:10]}"
        backoffs = [r for r in timeline.retries if r.kind == "backoff"]
        record_property("faults_injected", faults)
        record_property("cloud_calls", sum(recorder.calls.values()))
        print(f"{provider}: {COUNT} Services, {sum(recorder.calls.values())} cloud calls, "
              f"{faults} faults injected, {len(backoffs)} backoff requeues, results "
              f"{ {r.value: n for r, n in timeline.results().items()} }")


@pytest.mark.timeout(300)
def test_throttling_slows_the_global_rate_instead_of_failing(
        worlds: WorldFactory, record_property: pytest.RecordProperty) -> None:
    """Every cloud call has a 30 % chance of 429 and the provider tries only once, so
    reconciles fail often: the queue's token bucket (qps 5, burst 5) must space the
    retries of all keys together, and every Service still converges."""
    qps, burst = 5.0, 5
    with worlds("openstack") as world:
        world.section.update({"retryAttempts": 1})
        dice = cloudfaults.inject(world, failure_rate=0.3, throttling_only=True, seed=11)
        names = [f"thr-{i:02d}" for i in range(12)]
        with running_controller(world, rateLimit={"backoffBase": "0.05s", "backoffMax": "0.2s",
                                                  "qps": qps, "burst": burst}) as (
                controller, _, _, timeline):
            for name in names:
                world.create_service(name)
            # judged from the Services' status first: the test's own cloud reads would
            # meet the 429s too; then, with the faults gone, against the cloud
            wait_until(lambda: all(ingress_of(world.service(n)) for n in names), 240,
                       "every Service has an address despite 429s")
            world.fake.faults.clear()
            wait_until(lambda: _all(world, names), 60, "every Service served")
        retries = sorted(r.at + r.delay for r in timeline.retries if r.kind == "backoff")
        assert len(retries) > burst * 2, f"too few throttled retries to judge: {len(retries)}"
        # the bucket's promise: in any window of w seconds, at most burst + qps*w retries
        for i, start in enumerate(retries):
            for j in range(i, len(retries)):
                window = retries[j] - start
                assert j - i + 1 <= burst + qps * window + 1, (
                    f"{j - i + 1} retries within {window:.2f}s")
        assert not timeline.violations()
        record_property("throttled_retries", len(retries))
        print(f"throttling: {cloudfaults.injected(dice)} 429s injected, {len(retries)} "
              f"rate-limited retries spread over {retries[-1] - retries[0]:.1f}s")
