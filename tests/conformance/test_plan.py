"""plan says what ensure would do, and never does it."""

from __future__ import annotations

from cloud_lb.provider import Change
from cloud_lb.testing.conformance import ConformanceTarget
from tests.conformance.specs import make_ref, make_spec, tcp_listener, with_listener


def test_plan_of_a_new_load_balancer_creates_and_mutates_nothing(
    target: ConformanceTarget, cluster: str
) -> None:
    """Before the first ensure, plan lists creations; the cloud and the recorder stay as
    they were and the load balancer still does not exist."""
    ref = make_ref(cluster)
    spec = make_spec(target, ref)
    before = target.snapshot()
    changes = target.provider.plan(spec)
    assert changes and all(isinstance(c, Change) for c in changes)
    assert any(c.action == "create" for c in changes)
    assert all(str(c) for c in changes)
    assert target.recorder.mutations() == 0
    assert target.snapshot() == before
    assert target.provider.get(ref) is None


def test_plan_of_a_changed_spec_mutates_nothing_and_ensure_empties_it(
    target: ConformanceTarget, cluster: str
) -> None:
    """A new port shows up in plan without being applied; after ensure the plan is empty."""
    spec = make_spec(target, make_ref(cluster))
    target.provider.ensure(spec)
    assert target.provider.plan(spec) == []
    changed = with_listener(spec, tcp_listener(node_port=30443))
    before, mutations = target.snapshot(), target.recorder.mutations()
    assert target.provider.plan(changed)
    assert target.snapshot() == before
    assert target.recorder.mutations() == mutations
    target.provider.ensure(changed)
    assert target.provider.plan(changed) == []
