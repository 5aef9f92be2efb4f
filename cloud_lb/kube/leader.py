"""Leader election on a coordination.k8s.io/v1 Lease (client-go's leaderelection).

Only the holder of the Lease reconciles. Timings follow the Kubernetes controllers:
lease 15 s, renew deadline 10 s, retry 2 s. Expiry is judged by *our* clock from the
moment we last saw the record change (as client-go does), never by comparing the
holder's timestamps with ours, so clock skew between replicas cannot split the brain.
A leader that cannot renew within the renew deadline stops leading (its callback must
stop the workers) before the lease can expire for anyone else, because
renew deadline < lease duration. `release()` on a clean shutdown empties the holder so
a standby takes over at once.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from kubernetes import client as k8s
from kubernetes.client.exceptions import ApiException

log = logging.getLogger(__name__)


def _now_micro() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class LeaderElector:
    def __init__(self, api_client: k8s.ApiClient, *, name: str, namespace: str, identity: str,
                 lease_duration: float = 15.0, renew_deadline: float = 10.0,
                 retry_period: float = 2.0) -> None:
        if not retry_period < renew_deadline < lease_duration:
            raise ValueError("leader election needs retry_period < renew_deadline < lease_duration")
        self.api = k8s.CoordinationV1Api(api_client)
        self.name, self.namespace, self.identity = name, namespace, identity
        self.lease_duration = lease_duration
        self.renew_deadline = renew_deadline
        self.retry_period = retry_period
        self._observed: tuple[Any, ...] | None = None
        self._observed_at = 0.0
        self._leading = threading.Event()
        self._stop = threading.Event()
        self.transitions = 0

    @property
    def is_leader(self) -> bool:
        return self._leading.is_set()

    def stop(self) -> None:
        self._stop.set()

    def run(self, *, on_started_leading: Callable[[], None],
            on_stopped_leading: Callable[[], None]) -> None:
        """Block: acquire, lead (renewing) until stopped or the lease is lost."""
        while not self._stop.is_set():
            if self._try_acquire_or_renew():
                break
            self._stop.wait(self.retry_period)
        if self._stop.is_set():
            return
        self._leading.set()
        log.info("became leader lease=%s/%s identity=%s", self.namespace, self.name, self.identity)
        on_started_leading()
        last_renew = time.monotonic()
        while not self._stop.wait(self.retry_period):
            if self._try_acquire_or_renew():
                last_renew = time.monotonic()
            elif time.monotonic() - last_renew > self.renew_deadline:
                log.error("lost leadership lease=%s/%s: could not renew within %.0fs",
                          self.namespace, self.name, self.renew_deadline)
                break
        self._leading.clear()
        on_stopped_leading()

    def release(self) -> None:
        """Give the lease up so a standby need not wait for it to expire."""
        try:
            lease = self.api.read_namespaced_lease(self.name, self.namespace)
            if lease.spec.holder_identity != self.identity:
                return
            lease.spec.holder_identity = None
            lease.spec.lease_duration_seconds = 1
            lease.spec.renew_time = _now_micro()
            self.api.replace_namespaced_lease(self.name, self.namespace, lease)
            log.info("released leadership lease=%s/%s", self.namespace, self.name)
        except ApiException as exc:
            log.warning("could not release lease=%s/%s error=%s", self.namespace, self.name,
                        exc.reason)

    def _try_acquire_or_renew(self) -> bool:
        now = time.monotonic()
        stamp = _now_micro()
        try:
            lease = self.api.read_namespaced_lease(self.name, self.namespace)
        except ApiException as exc:
            if exc.status != 404:
                log.warning("lease read failed lease=%s/%s status=%s", self.namespace,
                            self.name, exc.status)
                return False
            body = {"apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
                    "metadata": {"name": self.name, "namespace": self.namespace},
                    "spec": {"holderIdentity": self.identity,
                             "leaseDurationSeconds": int(self.lease_duration),
                             "acquireTime": stamp, "renewTime": stamp, "leaseTransitions": 0}}
            try:
                self.api.create_namespaced_lease(self.namespace, body)
            except ApiException:
                return False
            self._observe(("created", self.identity), now)
            return True
        spec = lease.spec
        record = (spec.holder_identity, spec.renew_time, spec.lease_duration_seconds,
                  spec.lease_transitions)
        if record != self._observed:
            self._observe(record, now)
        holder = spec.holder_identity
        duration = float(spec.lease_duration_seconds or self.lease_duration)
        if holder and holder != self.identity and now < self._observed_at + duration:
            return False  # someone else holds an unexpired lease
        if holder != self.identity:
            spec.acquire_time = stamp
            spec.lease_transitions = (spec.lease_transitions or 0) + 1
            self.transitions += 1
        spec.holder_identity = self.identity
        spec.lease_duration_seconds = int(self.lease_duration)
        spec.renew_time = stamp
        try:
            # replace carries the resourceVersion we read: a racing candidate gets a 409
            self.api.replace_namespaced_lease(self.name, self.namespace, lease)
        except ApiException as exc:
            log.debug("lease update failed lease=%s/%s status=%s", self.namespace, self.name,
                      exc.status)
            return False
        self._observe((self.identity, stamp, int(self.lease_duration), spec.lease_transitions), now)
        return True

    def _observe(self, record: tuple[Any, ...], now: float) -> None:
        self._observed = record
        self._observed_at = now
