"""Ownership: only this cluster's load balancers are listed, changed or deleted.

`plant_foreign(ref)` creates, behind the provider's back, a load balancer that looks
like the one `ref` would get but belongs to another cluster (or carries no tags).
`snapshot()` covers the whole fake cloud, so comparing it before and after proves the
look-alike was neither modified nor deleted.
"""

from __future__ import annotations

import contextlib

from cloud_lb.provider import OwnershipError
from cloud_lb.testing.conformance import ConformanceTarget
from tests.conformance.specs import make_ref, make_spec


def test_list_owned_returns_only_ours(target: ConformanceTarget, cluster: str) -> None:
    ours = make_ref(cluster, "ours")
    lookalike = make_ref(cluster, "lookalike")
    target.plant_foreign(lookalike)
    target.provider.ensure(make_spec(target, ours))
    owned = target.provider.list_owned()
    assert ours in owned
    assert lookalike not in owned
    assert all(ref.cluster == cluster for ref in owned)


def test_foreign_lookalike_is_never_modified_or_deleted(
    target: ConformanceTarget, cluster: str
) -> None:
    """get, list_owned and plan ignore or refuse it; ensure refuses it (OwnershipError)
    or builds ours beside it; delete refuses it or removes only ours."""
    ref = make_ref(cluster)
    spec = make_spec(target, ref)
    target.plant_foreign(ref)
    before = target.snapshot()

    assert target.provider.get(ref) is None
    assert ref not in target.provider.list_owned()
    with contextlib.suppress(OwnershipError):
        target.provider.plan(spec)
    assert target.snapshot() == before

    try:
        target.provider.ensure(spec)
    except OwnershipError:
        assert target.snapshot() == before
    with contextlib.suppress(OwnershipError):
        target.provider.delete(ref)
    assert target.snapshot() == before
    with contextlib.suppress(OwnershipError):
        target.provider.delete(ref)
    assert target.snapshot() == before
