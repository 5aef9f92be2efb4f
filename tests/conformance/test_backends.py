"""update_backends touches members only and leaves nothing for ensure to do."""

from __future__ import annotations

from cloud_lb.testing.conformance import ConformanceTarget
from tests.conformance.helpers import MEMBER_OPERATION, calls, mutating_operations
from tests.conformance.specs import make_ref, make_spec, with_backends


def test_update_backends_only_touches_members(target: ConformanceTarget, cluster: str) -> None:
    """Growing and shrinking the node set calls member operations only, and converges:
    a following ensure makes no mutation and reports the new backend count."""
    spec = make_spec(target, make_ref(cluster), nodes=2)
    target.provider.ensure(spec)
    for count in (3, 1):
        changed = with_backends(spec, target.backends(count))
        before = calls(target.recorder)
        target.provider.update_backends(changed)
        operations = mutating_operations(before, calls(target.recorder))
        assert operations, f"update_backends to {count} nodes made no mutating call"
        assert all(MEMBER_OPERATION.search(op) for op in operations), (
            f"update_backends made non-member calls: {sorted(operations)}"
        )
        mutations = target.recorder.mutations()
        status = target.provider.ensure(changed)
        assert target.recorder.mutations() == mutations, "ensure after update_backends mutated"
        assert target.provider.plan(changed) == []
        assert status.backends_total == count
