"""Leader election on a coordination.k8s.io/v1 Lease (client-go's leaderelection).

Only the holder of the Lease reconciles. Timings follow the Kubernetes controllers:
lease 15 s, renew deadline 10 s, retry 2 s.

Safety rests on three rules, as in client-go:

- Expiry is judged by *our* monotonic clock from the moment we last saw the record
  change, never by comparing the holder's timestamps with ours, so clock skew between
  replicas cannot split the brain.
- A leader that has not renewed within `renew_deadline` (measured from the *start* of
  its last successful attempt, which the server saw no earlier) stops leading. Every
  request carries a timeout bounded by the time left, so a hung API server cannot hold
  the leader past the deadline. Because renew deadline < lease duration, the old
  leader's `on_stopped_leading` runs at least `lease_duration - renew_deadline` before
  anyone else may take the lease: that margin is the time its workers have to stop.
- A leader that sees another holder in the record stops at once (someone decided the
  lease was free; arguing would only prolong the overlap).

`release()` on a clean shutdown empties the holder (and sets a 1 s duration, as
client-go's ReleaseOnCancel) so a standby takes over at once. Attempts and the release
are serialised by a lock, so a renew in flight cannot re-take a lease just released.
"""

from __future__ import annotations

import copy
import enum
import logging
import math
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import urllib3
from kubernetes import client as k8s
from kubernetes.client.exceptions import ApiException

log = logging.getLogger(__name__)

MIN_REQUEST_TIMEOUT = 0.2  # seconds; below this a request cannot even connect


def _now_micro() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class Attempt(enum.Enum):
    """What one acquire-or-renew round found."""

    HELD = "held"  # we hold the lease (acquired or renewed)
    TAKEN = "taken"  # someone else holds an unexpired lease
    FAILED = "failed"  # the API said no or did not answer (conflict, 5xx, timeout)


class LeaderElector:
    def __init__(self, api_client: k8s.ApiClient, *, name: str, namespace: str, identity: str,
                 lease_duration: float = 15.0, renew_deadline: float = 10.0,
                 retry_period: float = 2.0) -> None:
        if not 0 < retry_period < renew_deadline < lease_duration:
            raise ValueError("leader election needs 0 < retry_period < renew_deadline "
                             f"< lease_duration (got {retry_period}, {renew_deadline}, "
                             f"{lease_duration})")
        self.api = k8s.CoordinationV1Api(_own_client(api_client))
        self.name, self.namespace, self.identity = name, namespace, identity
        self.lease_duration = lease_duration
        self.renew_deadline = renew_deadline
        self.retry_period = retry_period
        self._observed: tuple[Any, ...] | None = None
        self._observed_at = 0.0
        self._observed_holder: str | None = None
        self._leading = threading.Event()
        self._stop = threading.Event()
        self._lock = threading.Lock()  # one attempt (or the release) at a time
        self._last_error: str | None = None
        self.transitions = 0  # times this replica acquired the lease

    @property
    def is_leader(self) -> bool:
        return self._leading.is_set()

    @property
    def observed_holder(self) -> str | None:
        """The holder in the last record we read ('' or None: nobody)."""
        return self._observed_holder

    def stop(self) -> None:
        """Make `run` return (calling `on_stopped_leading` if it leads). Does not release."""
        self._stop.set()

    # -- the loop ----------------------------------------------------------------------
    def run(self, *, on_started_leading: Callable[[], None],
            on_stopped_leading: Callable[[], None]) -> None:
        """Block: acquire, then lead (renewing) until stopped or the lease is lost."""
        if not self._acquire():
            return
        self._leading.set()
        log.info("became leader lease=%s/%s identity=%s", self.namespace, self.name,
                 self.identity)
        try:
            on_started_leading()
            reason = self._renew_until_lost()
        finally:
            self._leading.clear()
        if reason:
            log.error("lost leadership lease=%s/%s identity=%s reason=%r", self.namespace,
                      self.name, self.identity, reason)
        on_stopped_leading()

    def _acquire(self) -> bool:
        while not self._stop.is_set():
            if self._attempt(deadline=time.monotonic() + self.renew_deadline) is Attempt.HELD:
                return True
            self._stop.wait(self.retry_period)
        return False

    def _renew_until_lost(self) -> str | None:
        """Renew every retry period; the reason leadership ended, None when stopped."""
        last_renew = time.monotonic()  # the start of the attempt that last succeeded
        while True:
            deadline = last_renew + self.renew_deadline
            self._stop.wait(max(0.0, min(self.retry_period, deadline - time.monotonic())))
            if self._stop.is_set():
                return None
            started = time.monotonic()
            if started >= deadline:
                return f"could not renew within {self.renew_deadline:g}s"
            outcome = self._attempt(deadline=deadline)
            if outcome is Attempt.HELD:
                last_renew = started
            elif outcome is Attempt.TAKEN:
                return f"the lease is held by {self._observed_holder}"
            elif self._stop.is_set():
                return None

    # -- one round ---------------------------------------------------------------------
    def _attempt(self, *, deadline: float) -> Attempt:
        with self._lock:
            if self._stop.is_set():
                return Attempt.FAILED  # a release may have happened: never re-take
            try:
                outcome = self._try_acquire_or_renew(deadline)
            except ApiException as exc:
                self._failed(f"status={exc.status} reason={exc.reason}")
                return Attempt.FAILED
            except (urllib3.exceptions.HTTPError, OSError) as exc:
                self._failed(f"error={type(exc).__name__}")
                return Attempt.FAILED
            self._last_error = None
            return outcome

    def _try_acquire_or_renew(self, deadline: float) -> Attempt:
        now = time.monotonic()
        stamp = _now_micro()

        def timeout() -> float:  # each request gets what is left of the deadline
            return max(MIN_REQUEST_TIMEOUT, deadline - time.monotonic())

        try:
            lease = self.api.read_namespaced_lease(self.name, self.namespace,
                                                   _request_timeout=timeout())
        except ApiException as exc:
            if exc.status != 404:
                raise
            body = {"apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
                    "metadata": {"name": self.name, "namespace": self.namespace},
                    "spec": {"holderIdentity": self.identity,
                             "leaseDurationSeconds": self._duration_seconds(),
                             "acquireTime": stamp, "renewTime": stamp, "leaseTransitions": 0}}
            # a racing candidate's create fails with 409 AlreadyExists
            self.api.create_namespaced_lease(self.namespace, body, _request_timeout=timeout())
            self.transitions += 1
            self._observe((self.identity, stamp, self._duration_seconds(), 0), now)
            return Attempt.HELD
        spec = lease.spec
        record = (spec.holder_identity, spec.renew_time, spec.lease_duration_seconds,
                  spec.lease_transitions)
        if record != self._observed:
            self._observe(record, now)
        holder = spec.holder_identity
        duration = float(spec.lease_duration_seconds or self.lease_duration)
        if holder and holder != self.identity and now < self._observed_at + duration:
            return Attempt.TAKEN
        if holder != self.identity:
            log.info("taking over lease=%s/%s previous_holder=%s", self.namespace, self.name,
                     holder or "none")
            spec.acquire_time = stamp
            spec.lease_transitions = (spec.lease_transitions or 0) + 1
        spec.holder_identity = self.identity
        spec.lease_duration_seconds = self._duration_seconds()
        spec.renew_time = stamp
        # replace carries the resourceVersion we read: a racing candidate gets a 409
        self.api.replace_namespaced_lease(self.name, self.namespace, lease,
                                          _request_timeout=timeout())
        if holder != self.identity:
            self.transitions += 1
        self._observe((self.identity, stamp, spec.lease_duration_seconds,
                       spec.lease_transitions), now)
        return Attempt.HELD

    def _observe(self, record: tuple[Any, ...], now: float) -> None:
        holder = record[0]
        if holder != self._observed_holder:
            if holder and holder != self.identity:
                log.info("observed leader lease=%s/%s holder=%s", self.namespace, self.name,
                         holder)
            self._observed_holder = holder
        self._observed = record
        self._observed_at = now

    def _duration_seconds(self) -> int:
        return max(1, math.ceil(self.lease_duration))

    def _failed(self, error: str) -> None:
        # once per distinct error: a missing RBAC grant would otherwise log every retry
        if error != self._last_error:
            log.warning("lease update failed lease=%s/%s identity=%s %s", self.namespace,
                        self.name, self.identity, error)
        self._last_error = error

    # -- shutdown ----------------------------------------------------------------------
    def release(self) -> bool:
        """Stop, and give the lease up (if ours) so a standby need not wait for it to
        expire. Call it only once this replica's workers are stopped. True if released."""
        self._stop.set()
        with self._lock:  # waits for an attempt in flight; none starts after
            try:
                lease = self.api.read_namespaced_lease(self.name, self.namespace,
                                                       _request_timeout=self.renew_deadline)
                if lease.spec.holder_identity != self.identity:
                    return False
                lease.spec.holder_identity = None
                lease.spec.lease_duration_seconds = 1
                lease.spec.renew_time = _now_micro()
                self.api.replace_namespaced_lease(self.name, self.namespace, lease,
                                                  _request_timeout=self.renew_deadline)
            except (ApiException, urllib3.exceptions.HTTPError, OSError) as exc:
                log.warning("could not release lease=%s/%s error=%s", self.namespace,
                            self.name, getattr(exc, "reason", None) or type(exc).__name__)
                return False
        log.info("released leadership lease=%s/%s identity=%s", self.namespace, self.name,
                 self.identity)
        return True


def _own_client(api_client: k8s.ApiClient) -> k8s.ApiClient:
    """A client of our own for the lease: a separate connection pool (busy workers
    cannot starve the renewals) and no urllib3 retries, which would repeat a timed-out
    request and stretch one attempt past the renew deadline."""
    configuration = copy.deepcopy(api_client.configuration)
    configuration.retries = False
    return k8s.ApiClient(configuration)
