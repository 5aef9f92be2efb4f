"""Octavia's asynchronous provisioning and the cloud's errors, as the controller sees
them: pending is a requeue (PendingError), never an error; ERROR is recovered; quota and
validation errors carry the cloud's message and are not retried; 5xx and throttling are
retried."""

from __future__ import annotations

import dataclasses

import pytest

from cloud_lb.provider import CloudError, InvalidSpecError, PendingError
from cloud_lb.testing.fakeopenstack import FakeOpenStack, Fault
from providers.openstack import annotations as a
from tests.providers.openstack.conftest import backends


def test_a_pending_load_balancer_is_requeued_not_failed(fake: FakeOpenStack, make_provider,
                                                        spec_for) -> None:
    """Creation returns while Octavia builds: PendingError with a retry delay; once the
    clock passes the build time the next ensure finishes without a second create."""
    provider = make_provider(inline_wait_seconds=0.0, pending_retry_seconds=7.0)
    fake.set_provisioning_delay(60)
    spec = spec_for()
    with pytest.raises(PendingError) as caught:
        provider.ensure(spec)
    assert caught.value.retry_after == 7.0
    with pytest.raises(PendingError):
        provider.ensure(spec)  # still building: no error, no duplicate
    assert len(fake.resources("loadbalancers")) == 1
    fake.advance(61)
    status = provider.ensure(spec)
    assert status.ingress and len(fake.resources("loadbalancers")) == 1
    assert fake.calls.count(method="POST", route="/v2/lbaas/loadbalancers") == 1


def test_writes_while_pending_are_requeued(fake: FakeOpenStack, make_provider,
                                           spec_for) -> None:
    """A second write hits Octavia's 409 'immutable' (the load balancer is updating):
    the provider hands back PendingError, and converges on a later call."""
    provider = make_provider(inline_wait_seconds=0.0)
    spec = spec_for()
    provider.ensure(spec)
    fake.set_provisioning_delay(30)
    changed = dataclasses.replace(spec, backends=backends(5))
    with pytest.raises(PendingError):
        provider.update_backends(changed)  # first pool written, then pending
    with pytest.raises(PendingError):
        provider.update_backends(changed)
    assert fake.calls.count(method="PUT", route="/v2/lbaas/pools/{pool_id}/members") == 1
    fake.set_provisioning_delay(0)
    fake.advance(31)
    provider.update_backends(changed)
    assert len({m["address"] for m in fake.resources("members")}) == 5
    assert provider.plan(changed) == []


def test_immutable_409_from_octavia_is_a_pending_error(fake: FakeOpenStack, make_provider,
                                                       spec_for) -> None:
    provider = make_provider(inline_wait_seconds=0.0)
    spec = spec_for()
    provider.ensure(spec)
    # someone else's write makes the load balancer PENDING_UPDATE between our read and write
    fake.inject(Fault(status=409, service="load-balancer", method="PUT",
                      message="Load Balancer x is immutable and cannot be updated."))
    with pytest.raises(PendingError):
        provider.update_backends(dataclasses.replace(spec, backends=backends(4)))


def test_an_error_load_balancer_is_recreated_with_the_same_address(fake: FakeOpenStack,
                                                                   provider, spec_for) -> None:
    spec = spec_for()
    first = provider.ensure(spec)
    [lb] = fake.resources("loadbalancers")
    fake.force_status(lb["id"], "ERROR")
    with pytest.raises(PendingError):
        provider.ensure(spec)  # deleted (cascade), to be recreated
    second = provider.ensure(spec)
    [new] = fake.resources("loadbalancers")
    assert new["id"] != lb["id"] and new["provisioning_status"] == "ACTIVE"
    assert second.ingress == first.ingress  # our floating IP was kept and reused
    assert len(fake.resources("floatingips")) == 1


def test_a_failed_build_is_recovered(fake: FakeOpenStack, provider, spec_for) -> None:
    fake.fail_next_provisioning()
    spec = spec_for()
    with pytest.raises(PendingError):
        provider.ensure(spec)
    status = provider.ensure(spec)
    assert status.ingress
    assert [lb["provisioning_status"] for lb in fake.resources("loadbalancers")] == ["ACTIVE"]


def test_an_error_load_balancer_is_left_alone_when_configured(fake: FakeOpenStack,
                                                              make_provider, spec_for) -> None:
    provider = make_provider(on_error="leave")
    spec = spec_for()
    provider.ensure(spec)
    [lb] = fake.resources("loadbalancers")
    fake.force_status(lb["id"], "ERROR")
    before = fake.snapshot()
    with pytest.raises(CloudError) as caught:
        provider.ensure(spec)
    assert not caught.value.retryable and "ERROR" in str(caught.value)
    assert fake.snapshot() == before


def test_octavia_quota_is_a_clear_non_retryable_error(fake: FakeOpenStack, provider,
                                                      spec_for) -> None:
    fake.set_quota(load_balancer=1)
    provider.ensure(spec_for("first"))
    with pytest.raises(CloudError) as caught:
        provider.ensure(spec_for("second"))
    assert not caught.value.retryable
    assert "quota" in str(caught.value).lower()
    assert "Quota has been met for resources: Load Balancer" in str(caught.value)


def test_neutron_floating_ip_quota_is_a_clear_non_retryable_error(fake: FakeOpenStack,
                                                                  provider, spec_for) -> None:
    fake.set_quota(floatingip=0)
    with pytest.raises(CloudError) as caught:
        provider.ensure(spec_for())
    assert not caught.value.retryable
    assert "Quota exceeded for resources: ['floatingip']" in str(caught.value)


def test_server_errors_and_throttling_are_retried(fake: FakeOpenStack, provider, spec_for,
                                                  recorder) -> None:
    fake.inject(Fault(status=503, service="load-balancer", method="POST", times=2))
    fake.inject(Fault(status=429, service="network", method="POST", retry_after=0.01))
    fake.inject(Fault(status=413, service="network", method="GET", times=1))
    status = provider.ensure(spec_for())
    assert status.ingress
    assert recorder.count(operation="octavia.create_load_balancer") == 3
    assert recorder.calls[("octavia.create_load_balancer", True, "503")] == 2
    assert recorder.calls[("neutron.create_floating_ip", True, "429")] == 1
    assert len(fake.resources("loadbalancers")) == 1


def test_persistent_server_errors_end_in_a_retryable_cloud_error(fake: FakeOpenStack,
                                                                 make_provider,
                                                                 spec_for) -> None:
    provider = make_provider(retry_attempts=3)
    fake.inject(Fault(status=500, service="load-balancer", method="POST", times=None))
    with pytest.raises(CloudError) as caught:
        provider.ensure(spec_for())
    assert caught.value.retryable and "3 attempts" in str(caught.value)
    assert fake.calls.count(method="POST", route="/v2/lbaas/loadbalancers") == 3


def test_validation_errors_carry_octavias_message_and_are_not_retried(fake: FakeOpenStack,
                                                                      provider,
                                                                      spec_for) -> None:
    spec = spec_for(options={a.SUBNET_ID: "no-such-subnet"})
    with pytest.raises(CloudError) as caught:
        provider.ensure(spec)
    assert not caught.value.retryable
    assert "Subnet no-such-subnet not found." in str(caught.value)
    assert fake.calls.count(method="POST", route="/v2/lbaas/loadbalancers") == 1


def test_invalid_annotations_fail_before_any_cloud_call(fake: FakeOpenStack, provider,
                                                        spec_for, recorder) -> None:
    with pytest.raises(InvalidSpecError) as caught:
        provider.ensure(spec_for(options={a.CONNECTION_LIMIT: "lots"}))
    assert caught.value.field == a.CONNECTION_LIMIT
    assert recorder.count() == 0 and fake.calls.count() == 0


def test_latency_does_not_break_convergence(fake: FakeOpenStack, provider, spec_for) -> None:
    fake.inject(Fault(latency=0.05, service="load-balancer", times=5))
    assert provider.ensure(spec_for()).ingress
