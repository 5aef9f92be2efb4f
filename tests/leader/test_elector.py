"""LeaderElector against the fake API server: candidates in this process, each with
its own client, timings shortened (leases of seconds)."""

from __future__ import annotations

import time

import pytest
from kubernetes import client as k8s

from cloud_lb.kube.leader import LeaderElector
from cloud_lb.testing.fakekube import FakeKubeServer
from tests.leader.conftest import LEASE_NAME, LEASE_NS, Candidates, client_via, lease_holder
from tests.leader.partition import Partition
from tests.leader.runner import wait_until


def leaders(*cands: object) -> list[str]:
    return [c.identity for c in cands if c.elector.is_leader]  # type: ignore[attr-defined]


def test_of_two_candidates_exactly_one_leads_and_holds_the_lease(
        kube: FakeKubeServer, candidates: Candidates) -> None:
    a = candidates.start(kube.api_client(), "a", lease=2.5, renew=2, retry=0.1)
    b = candidates.start(kube.api_client(), "b", lease=2.5, renew=2, retry=0.1)
    wait_until(lambda: leaders(a, b), 10, message="a leader")
    # across many renewals (and past one lease duration) leadership never doubles or moves
    deadline = time.monotonic() + 3
    seen = set()
    while time.monotonic() < deadline:
        current = leaders(a, b)
        assert len(current) == 1, f"leaders at once: {current}"
        seen.add(current[0])
        time.sleep(0.05)
    assert len(seen) == 1
    assert lease_holder(kube.api_client()) == seen.pop()
    lease = k8s.CoordinationV1Api(kube.api_client()).read_namespaced_lease(LEASE_NAME, LEASE_NS)
    assert lease.spec.lease_duration_seconds == 3  # whole seconds on the wire, rounded up
    assert lease.spec.lease_transitions == 0  # acquired once, by creating it


def test_a_released_lease_is_taken_at_once_not_at_expiry(
        kube: FakeKubeServer, candidates: Candidates) -> None:
    # a 30 s lease: the standby taking over in well under that proves it did not wait
    a = candidates.start(kube.api_client(), "a", lease=30, renew=20, retry=0.2)
    wait_until(lambda: a.elector.is_leader, 10, message="a to lead")
    b = candidates.start(kube.api_client(), "b", lease=30, renew=20, retry=0.2)
    wait_until(lambda: b.elector.observed_holder == "a", 10, message="b to see a lead")
    a.crash()  # stop leading (workers stopped), then hand over
    assert a.stopped, "a's on_stopped_leading ran"
    assert a.elector.release() is True
    wait_until(lambda: b.elector.is_leader, 10, message="b to take over after the release")
    assert lease_holder(kube.api_client()) == "b"
    lease = k8s.CoordinationV1Api(kube.api_client()).read_namespaced_lease(LEASE_NAME, LEASE_NS)
    assert lease.spec.lease_transitions == 1
    assert a.elector.release() is False  # no longer ours: left alone


def test_a_crashed_leaders_lease_is_taken_only_once_it_expires(
        kube: FakeKubeServer, candidates: Candidates) -> None:
    a = candidates.start(kube.api_client(), "a", lease=2, renew=1.5, retry=0.1)
    wait_until(lambda: a.elector.is_leader, 10, message="a to lead")
    b = candidates.start(kube.api_client(), "b", lease=2, renew=1.5, retry=0.1)
    wait_until(lambda: b.elector.observed_holder == "a", 10, message="b to see a lead")
    a.crash()  # no release: the record just stops changing
    coordination = k8s.CoordinationV1Api(kube.api_client())
    last = coordination.read_namespaced_lease(LEASE_NAME, LEASE_NS).spec
    assert last.holder_identity == "a"
    wait_until(lambda: b.started, 10, message="b to take over after expiry")
    # a stamps renewTime before writing it, b starts counting when it reads it: b
    # cannot take the lease sooner than 2 s after a's last renewTime (same machine,
    # same wall clock; renewTime has microseconds)
    assert b.started_wall[0] - last.renew_time.timestamp() >= 2 - 0.001
    assert lease_holder(kube.api_client()) == "b"


def test_a_leader_cut_off_from_the_api_stops_before_another_starts(
        kube: FakeKubeServer, candidates: Candidates, partition: Partition) -> None:
    a = candidates.start(client_via(kube, partition.url), "a", lease=3, renew=1.5, retry=0.25)
    wait_until(lambda: a.elector.is_leader, 10, message="a to lead")
    b = candidates.start(kube.api_client(), "b", lease=3, renew=1.5, retry=0.25)
    wait_until(lambda: b.elector.observed_holder == "a", 10, message="b to see a lead")
    partition.cut.set()  # a's requests now hang unanswered: only its timeouts save it
    wait_until(lambda: a.stopped, 10, message="a to give up leading")
    assert not a.elector.is_leader
    wait_until(lambda: b.started, 10, message="b to take over")
    assert a.stopped[0] < b.started[0], "the old leader stopped before the new one started"
    assert lease_holder(kube.api_client()) == "b"


def test_a_leader_that_sees_another_holder_stops_at_once(
        kube: FakeKubeServer, candidates: Candidates) -> None:
    a = candidates.start(kube.api_client(), "a", lease=30, renew=20, retry=0.1)
    wait_until(lambda: a.elector.is_leader, 10, message="a to lead")
    coordination = k8s.CoordinationV1Api(kube.api_client())
    lease = coordination.read_namespaced_lease(LEASE_NAME, LEASE_NS)
    lease.spec.holder_identity = "intruder"  # e.g. an operator moving the lease by hand
    coordination.replace_namespaced_lease(LEASE_NAME, LEASE_NS, lease)
    # far sooner than the 20 s renew deadline: it does not argue with the record
    wait_until(lambda: a.stopped, 10, message="a to stop leading")
    assert lease_holder(kube.api_client()) == "intruder"


def test_a_lease_in_a_missing_namespace_is_retried_not_fatal(
        kube: FakeKubeServer, candidates: Candidates) -> None:
    elector = LeaderElector(kube.api_client(), name=LEASE_NAME, namespace="nowhere",
                            identity="a", lease_duration=2, renew_deadline=1, retry_period=0.1)
    from tests.leader.conftest import Candidate
    candidate = Candidate(elector).start()
    candidates.all.append(candidate)
    time.sleep(0.5)
    assert not elector.is_leader and not candidate.started
    assert candidate.thread is not None and candidate.thread.is_alive()


@pytest.mark.parametrize(("lease", "renew", "retry"), [(10, 10, 2), (15, 10, 10), (15, 10, 0)])
def test_timings_must_leave_a_margin(kube: FakeKubeServer, lease: float, renew: float,
                                     retry: float) -> None:
    with pytest.raises(ValueError, match="retry_period < renew_deadline < lease_duration"):
        LeaderElector(kube.api_client(), name="x", namespace="y", identity="z",
                      lease_duration=lease, renew_deadline=renew, retry_period=retry)
