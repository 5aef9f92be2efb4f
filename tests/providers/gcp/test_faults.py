"""A flaky, throttled or slow cloud: retries, requeues, and convergence afterwards."""

from __future__ import annotations

import pytest

from cloud_lb.model import Backend
from cloud_lb.provider import CallRecorder, CloudError, PendingError
from cloud_lb.testing.fakegce import FakeGCE
from providers.gcp import naming
from providers.gcp.provider import GCPProvider
from tests.providers.gcp.conftest import ProviderFactory, by_name, ref, spec, until_done


def _resource_names(fake: FakeGCE) -> list[str]:
    return sorted(
        f"{r['kind']}/{r['name']}"
        for r in fake.resources()
        if r["kind"] not in ("compute#instance", "compute#network", "compute#subnetwork")
    )


def test_rate_limited_calls_are_retried_and_the_load_balancer_converges(
    fake: FakeGCE, provider: GCPProvider, nodes: list[Backend], recorder: CallRecorder
) -> None:
    fake.faults.rate_limit("*.insert", times=3)
    fake.faults.rate_limit("*.get", times=2)
    lb_ref = ref()
    provider.ensure(spec(lb_ref, nodes))
    assert fake.count(status=429) == 5
    assert sum(n for (_, _, result), n in recorder.calls.items() if result == "error:429") == 5
    assert provider.plan(spec(lb_ref, nodes)) == []
    assert naming.lb_name(lb_ref) in by_name(fake, "regionBackendServices")


def test_server_errors_that_outlast_the_retries_are_a_retryable_cloud_error(
    fake: FakeGCE, provider: GCPProvider, nodes: list[Backend]
) -> None:
    fault = fake.faults.server_error("forwardingRules.insert", status=503, times=None)
    lb_ref = ref()
    with pytest.raises(CloudError) as caught:
        provider.ensure(spec(lb_ref, nodes))
    assert caught.value.retryable
    assert fault.fired == 5  # the configured attempts, then give up
    fake.faults.clear()
    provider.ensure(spec(lb_ref, nodes))
    assert provider.plan(spec(lb_ref, nodes)) == []


def test_a_slow_operation_requeues_instead_of_blocking_and_the_next_call_finishes(
    fake: FakeGCE, make_provider: ProviderFactory, nodes: list[Backend]
) -> None:
    provider = make_provider(operationDeadlineSeconds=0.3)
    lb_ref = ref()
    fake.operations.hold()
    with pytest.raises(PendingError):
        provider.ensure(spec(lb_ref, nodes))
    with pytest.raises(PendingError):  # still running: the name is taken, nothing duplicated
        provider.ensure(spec(lb_ref, nodes))
    fake.operations.release()
    status = until_done(lambda: provider.ensure(spec(lb_ref, nodes)))
    assert status.ingress
    assert provider.plan(spec(lb_ref, nodes)) == []
    assert len(fake.resources("instanceGroups")) == 3


def test_quota_exceeded_is_a_user_error_with_gces_message(
    fake: FakeGCE, provider: GCPProvider, nodes: list[Backend]
) -> None:
    fake.quotas["forwardingRules"] = 0
    with pytest.raises(CloudError, match="Quota 'FORWARDING_RULES' exceeded") as caught:
        provider.ensure(spec(ref(), nodes))
    assert not caught.value.retryable


def test_a_stale_fingerprint_requeues_and_the_retry_converges(
    fake: FakeGCE, provider: GCPProvider, nodes: list[Backend]
) -> None:
    lb_ref = ref()
    provider.ensure(spec(lb_ref, nodes[:1]))
    fake.faults.error("regionBackendServices.update", status=412, reason="conditionNotMet")
    changed = spec(lb_ref, nodes[:3])
    with pytest.raises(PendingError):
        provider.ensure(changed)
    provider.ensure(changed)
    assert provider.plan(changed) == []


def test_an_interrupted_create_is_adopted_not_duplicated(
    fake: FakeGCE, provider: GCPProvider, nodes: list[Backend]
) -> None:
    """A create that failed half-way (here: the backend service) leaves the address and
    health check; the next ensure reuses them."""
    fake.faults.error("regionBackendServices.insert", status=400, reason="invalid")
    lb_ref = ref()
    with pytest.raises(CloudError):
        provider.ensure(spec(lb_ref, nodes))
    address = by_name(fake, "addresses")[naming.lb_name(lb_ref)]
    assert lb_ref in provider.list_owned()
    provider.ensure(spec(lb_ref, nodes))
    assert by_name(fake, "addresses")[naming.lb_name(lb_ref)]["id"] == address["id"]
    assert _resource_names(fake).count(f"compute#address/{naming.lb_name(lb_ref)}") == 1


def test_a_slow_api_front_end_requeues_and_the_next_call_converges(
    fake: FakeGCE, make_provider: ProviderFactory, nodes: list[Backend]
) -> None:
    """Latency on operation waits beyond the reconcile's deadline: PendingError, not a
    worker stuck; once the cloud is fast again the load balancer converges."""
    provider = make_provider(operationDeadlineSeconds=0.3)
    slow = fake.faults.latency(2.0, "*Operations.wait", times=1)
    lb_ref = ref()
    with pytest.raises(PendingError):
        provider.ensure(spec(lb_ref, nodes))
    assert slow.fired == 1
    until_done(lambda: provider.ensure(spec(lb_ref, nodes)))
    assert provider.plan(spec(lb_ref, nodes)) == []
