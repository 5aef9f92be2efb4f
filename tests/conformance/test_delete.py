"""delete removes everything the provider created, and gone is success."""

from __future__ import annotations

from cloud_lb.testing.conformance import ConformanceTarget
from tests.conformance.specs import make_ref, make_spec


def test_delete_is_idempotent_and_leaves_nothing(target: ConformanceTarget, cluster: str) -> None:
    """After delete, get is None, list_owned forgets it, a second delete succeeds, and the
    cloud is exactly as before the load balancer was created (nothing leaked)."""
    ref = make_ref(cluster)
    empty = target.snapshot()
    target.provider.ensure(make_spec(target, ref))
    assert ref in target.provider.list_owned()
    target.provider.delete(ref)
    assert target.provider.get(ref) is None
    assert ref not in target.provider.list_owned()
    target.provider.delete(ref)
    assert target.snapshot() == empty


def test_delete_of_a_load_balancer_never_created_succeeds(
    target: ConformanceTarget, cluster: str
) -> None:
    before = target.snapshot()
    target.provider.delete(make_ref(cluster, "never-created"))
    assert target.snapshot() == before
