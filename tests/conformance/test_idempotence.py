"""ensure is idempotent, and an unchanged ensure or resync costs zero mutations."""

from __future__ import annotations

from cloud_lb.testing.conformance import ConformanceTarget
from tests.conformance.helpers import configured
from tests.conformance.specs import make_ref, make_spec


def test_ensure_twice_gives_the_same_status(target: ConformanceTarget, cluster: str) -> None:
    """The second ensure of one spec reports the same load balancer, and get agrees."""
    ref = make_ref(cluster)
    spec = make_spec(target, ref)
    first = target.provider.ensure(spec)
    second = target.provider.ensure(spec)
    assert configured(first) == configured(second)
    assert first.ref == ref
    assert first.provider_id
    assert first.ingress and all(p.ip or p.hostname for p in first.ingress)
    assert first.backends_total == len(spec.backends)
    got = target.provider.get(ref)
    assert got is not None
    assert (got.provider_id, got.ingress) == (first.provider_id, first.ingress)


def test_unchanged_ensure_makes_zero_mutations(target: ConformanceTarget, cluster: str) -> None:
    """A resync of an unchanged spec (ensure, update_backends, plan) only reads."""
    spec = make_spec(target, make_ref(cluster))
    target.provider.ensure(spec)
    mutations = target.recorder.mutations()
    assert mutations > 0, "creating a load balancer recorded no mutating call"
    target.provider.ensure(spec)
    target.provider.update_backends(spec)
    assert target.provider.plan(spec) == []
    assert target.recorder.mutations() == mutations
