"""Deletion goes in dependency order, tolerates a cloud that is still catching up, and
keeps what others use."""

from __future__ import annotations

import pytest

from cloud_lb.model import Backend
from cloud_lb.provider import CallRecorder, PendingError
from cloud_lb.testing.fakegce import FakeGCE
from providers.gcp.provider import GCPProvider
from tests.providers.gcp.conftest import ProviderFactory, ref, spec, until_done

LB_COLLECTIONS = (
    "addresses",
    "forwardingRules",
    "regionBackendServices",
    "regionHealthChecks",
    "firewalls",
    "instanceGroups",
)


def _left(fake: FakeGCE) -> dict[str, int]:
    return {c: n for c in LB_COLLECTIONS if (n := len(fake.resources(c)))}


def test_delete_goes_in_dependency_order_and_leaves_nothing(
    fake: FakeGCE, provider: GCPProvider, nodes: list[Backend]
) -> None:
    lb_ref = ref()
    provider.ensure(spec(lb_ref, nodes, ports=(("TCP", 80, 30080), ("UDP", 53, 30053))))
    fake.reset_calls()
    provider.delete(lb_ref)
    deletes = [c.verb.split(".")[0] for c in fake.calls if c.verb.endswith(".delete")]
    assert deletes == [
        "forwardingRules",
        "forwardingRules",
        "regionBackendServices",
        "regionHealthChecks",
        "firewalls",
        "firewalls",
        "addresses",
        "instanceGroups",
        "instanceGroups",
        "instanceGroups",
    ]
    assert _left(fake) == {}
    assert provider.get(lb_ref) is None and provider.list_owned() == []


def test_in_use_errors_while_the_cloud_catches_up_requeue_and_converge(
    fake: FakeGCE, provider: GCPProvider, nodes: list[Backend]
) -> None:
    lb_ref = ref()
    provider.ensure(spec(lb_ref, nodes))
    fake.faults.error(
        "regionBackendServices.delete", status=400, reason="resourceInUseByAnotherResource", times=2
    )
    for _ in range(2):
        with pytest.raises(PendingError, match="resourceInUseByAnotherResource"):
            provider.delete(lb_ref)
    assert fake.resources("forwardingRules") == []  # what could go went
    provider.delete(lb_ref)
    assert _left(fake) == {}


def test_a_slow_rule_deletion_blocks_the_backend_service_until_it_is_done(
    fake: FakeGCE, make_provider: ProviderFactory, nodes: list[Backend]
) -> None:
    """The real in-use path: the rule's deletion is still running, so the backend service
    is still referenced; each call requeues until the cloud has caught up."""
    provider = make_provider(operationDeadlineSeconds=0.3)
    lb_ref = ref()
    until_done(lambda: provider.ensure(spec(lb_ref, nodes)))
    fake.operations.hold()
    with pytest.raises(PendingError, match="still"):
        provider.delete(lb_ref)
    with pytest.raises(PendingError, match="resourceNotReady"):
        provider.delete(lb_ref)
    fake.operations.release()
    until_done(lambda: provider.delete(lb_ref))
    assert _left(fake) == {}


def test_shared_instance_groups_stay_while_another_service_uses_them(
    fake: FakeGCE, provider: GCPProvider, nodes: list[Backend]
) -> None:
    first, second = ref("first"), ref("second")
    provider.ensure(spec(first, nodes))
    provider.ensure(spec(second, nodes))
    provider.delete(first)
    assert len(fake.resources("instanceGroups")) == 3
    assert provider.plan(spec(second, nodes)) == []
    provider.delete(second)
    assert _left(fake) == {}


def test_deleting_what_was_never_created_reads_only(
    fake: FakeGCE, provider: GCPProvider, recorder: CallRecorder
) -> None:
    provider.delete(ref())
    assert recorder.mutations() == 0
    assert fake.count(mutating=True) == 0
