"""An Ingress's load balancer on a flaky cloud: throttling retried, a slow operation
requeued, and a controller that dies right after any mutating call leaves nothing the
next one (a fresh provider, empty caches) cannot adopt and finish, without duplicates."""

from __future__ import annotations

import os

import pytest

from cloud_lb.model import Backend
from cloud_lb.provider import CallRecorder, PendingError, ProviderContext
from cloud_lb.testing.fakegce import FakeGCE
from providers.gcp import naming
from providers.gcp.provider import GCPProvider
from providers.gcp.testing import fake_config
from tests.providers.gcp.conftest import ProviderFactory, until_done
from tests.providers.gcp.ingress_specs import HOSTS, certificate, ingress_ref, ingress_spec

FULL = os.environ.get("CLOUD_LB_FULL") == "1"


class Crash(Exception):
    """The process died right after a mutating call was answered."""


def _ours(fake: FakeGCE, prefix: str) -> list[str]:
    return sorted(
        f"{r['kind']}/{r['name']}" for r in fake.resources() if r["name"].startswith(prefix)
    )


def test_throttling_is_retried_and_a_slow_operation_requeues(
    fake: FakeGCE, make_provider: ProviderFactory, nodes: list[Backend]
) -> None:
    provider = make_provider(operationDeadlineSeconds=0.3)
    fake.faults.rate_limit("urlMaps.insert", times=2)
    lb = ingress_spec(ingress_ref(), nodes, tls=(certificate(*HOSTS),))
    fake.operations.hold()
    with pytest.raises(PendingError):
        provider.ensure(lb)
    fake.operations.release()
    until_done(lambda: provider.ensure(lb))
    assert fake.count("urlMaps.insert", status=429) == 2
    assert provider.plan(lb) == []


def test_a_crash_after_any_mutating_call_is_finished_by_the_next_controller(
    fake: FakeGCE, make_provider: ProviderFactory, nodes: list[Backend]
) -> None:
    tls = (certificate(*HOSTS),)
    clean = make_provider()
    clean.ensure(ingress_spec(ingress_ref("first"), nodes, tls=tls))  # the groups exist now
    reference = ingress_ref("reference")
    counting = CallRecorder()
    clean = GCPProvider(fake_config(fake), ProviderContext("test-cluster", counting))
    clean.ensure(ingress_spec(reference, nodes, tls=tls))
    clean.close()
    steps = counting.mutations()
    assert steps == 17
    prefix = naming.ingress_prefix(reference)
    expected = [n.replace(prefix, "") for n in _ours(fake, prefix)]
    crash_points = range(steps) if FULL else range(0, steps, 5)
    for point in crash_points:
        lb_ref = ingress_ref(f"crash-{point}")
        recorder = CallRecorder()
        seen = [0]

        def die(
            op: str,
            mutating: bool,
            result: str,
            seconds: float,
            at: int = point,
            seen: list[int] = seen,
        ) -> None:
            if mutating and result == "ok":
                seen[0] += 1
                if seen[0] > at:
                    raise Crash(op)

        recorder.subscribe(die)
        dying = GCPProvider(fake_config(fake), ProviderContext("test-cluster", recorder))
        lb = ingress_spec(lb_ref, nodes, tls=tls)
        with pytest.raises(Crash):
            dying.ensure(lb)
        dying.close()
        successor = make_provider()
        until_done(lambda: successor.ensure(lb))  # noqa: B023 - called right here
        assert successor.plan(lb) == []
        prefix = naming.ingress_prefix(lb_ref)
        assert [n.replace(prefix, "") for n in _ours(fake, prefix)] == expected, point
