"""What both reconcilers (Service, Ingress) keep and do alike: a record per managed
object; converging a translated spec with the cheapest cloud operation (nothing,
`update_backends`, or `ensure` and a status write); and the two ways a load balancer
goes away — the object is being cleaned up (delete, clear status, release the
finalizer) or it vanished without our finalizer. The subclasses translate their
objects and say how they are written (which patch, which finalizer, which status shape).
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from collections.abc import Callable
from typing import Any, Generic, TypeVar

from cloud_lb.controller.outcomes import (
    Outcome,
    Result,
    SyncRecord,
    delete_ours,
    failed,
    invalid,
)
from cloud_lb.kube import writers
from cloud_lb.kube.client import KubeAPI
from cloud_lb.kube.errors import APIError, APINotFoundError
from cloud_lb.kube.events import EventRecorder
from cloud_lb.model import LBRef, LoadBalancerSpec, LoadBalancerStatus
from cloud_lb.provider import LoadBalancerProvider

log = logging.getLogger(__name__)

Obj = dict[str, Any]
R = TypeVar("R", bound=SyncRecord)


def backends_only_changed(old: LoadBalancerSpec, new: LoadBalancerSpec) -> bool:
    return old != new and dataclasses.replace(old, backends=new.backends) == new


class RecordKeeper(Generic[R]):
    api: KubeAPI
    provider: LoadBalancerProvider
    events: EventRecorder
    record_type: type[R]
    invalid_reason: str
    log_key: str  # the key=value name of the object in log lines ("service", "ingress")
    # whether the very first ensure in this process announces itself with an event
    # (Services do not: a restart would repeat it for every Service)
    announce_first_ensure: bool = False
    # writes `status` (default: the Service status subresource)
    patch_status: Callable[..., Obj] | None = None

    def _wanted_status(self, status: LoadBalancerStatus) -> dict[str, Any]:
        """`status.loadBalancer` as this kind of object carries it."""
        return status.to_kube()

    def __init__(self) -> None:
        self._records: dict[str, R] = {}
        self._lock = threading.Lock()

    def managed_keys(self) -> list[str]:
        with self._lock:
            return list(self._records)

    def record(self, key: str) -> R | None:
        with self._lock:
            return self._records.get(key)

    def _record_for(self, key: str, ref: LBRef) -> R:
        """The key's record; a new one when new or re-created with another uid."""
        with self._lock:
            record = self._records.get(key)
            if record is None or record.ref != ref:
                record = self._records[key] = self.record_type(ref=ref)
            return record

    # -- converging -------------------------------------------------------------------------
    def _converge(self, record: R, obj: Obj, spec: LoadBalancerSpec, *,
                  check_drift: bool) -> Outcome:
        """Nothing when the spec equals the last one applied (and status agrees),
        `update_backends` when only the nodes changed, `ensure` otherwise or when a
        resync asks for a drift check."""
        previous = record.spec
        if not check_drift and previous is not None and record.last_error is None:
            if previous == spec and self._status_matches(obj, record.status):
                return Outcome(Result.SKIPPED)
            if backends_only_changed(previous, spec):
                return self._update_backends(record, obj, spec)
        return self._ensure(record, obj, spec, first=previous is None)

    def _status_matches(self, obj: Obj, status: LoadBalancerStatus | None) -> bool:
        return status is not None and (
            writers.load_balancer_status(obj) == self._wanted_status(status))

    def _update_backends(self, record: R, obj: Obj, spec: LoadBalancerSpec) -> Outcome:
        try:
            self.provider.update_backends(spec)
        except Exception as exc:  # noqa: BLE001 - classified in one place
            return self._failed(record, obj, exc, "updating backends")
        record.spec, record.last_sync = spec, time.time()
        log.info("backends updated %s=%s backends=%d", self.log_key, record.ref.key,
                 len(spec.backends))
        return Outcome(Result.SYNCED)

    def _ensure(self, record: R, obj: Obj, spec: LoadBalancerSpec, *, first: bool) -> Outcome:
        changed = not first and record.spec != spec
        hosts_only = changed and record.spec is not None and backends_only_changed(record.spec, spec)
        if changed or record.last_error is not None or (first and self.announce_first_ensure):
            self.events.normal(obj, "EnsuringLoadBalancer", "Ensuring load balancer")
        try:
            status = self.provider.ensure(spec)
        except Exception as exc:  # noqa: BLE001 - classified in one place
            return self._failed(record, obj, exc, "ensuring load balancer")
        wanted = self._wanted_status(status)
        status_changed = writers.load_balancer_status(obj) != wanted
        if status_changed:
            try:
                writers.patch_load_balancer_status(self.api, obj, wanted, patch=self.patch_status)
            except APIError as exc:
                # the load balancer is fine; the status write is retried on its own
                record.spec, record.status = spec, status
                return Outcome(Result.ERROR, message=f"status update failed: {exc}")
        recovered = record.last_error is not None
        record.spec, record.status = spec, status
        record.last_sync, record.last_error = time.time(), None
        if changed:
            self.events.normal(obj, "UpdatedLoadBalancer",
                               "Updated load balancer with new hosts" if hosts_only
                               else "Updated load balancer")
        if status_changed or changed or recovered:
            self.events.normal(obj, "EnsuredLoadBalancer", "Ensured load balancer")
        log.info("load balancer ensured %s=%s id=%s address=%s listeners=%d", self.log_key,
                 record.ref.key, status.provider_id,
                 ",".join(p.ip or p.hostname or "" for p in status.ingress), len(spec.listeners))
        return Outcome(Result.SYNCED)

    # -- outcomes -----------------------------------------------------------------------------
    def _invalid(self, record: SyncRecord, obj: Obj, message: str) -> Outcome:
        return invalid(self.events, obj, record, message, reason=self.invalid_reason)

    def _failed(self, record: SyncRecord, obj: Obj, exc: Exception, doing: str) -> Outcome:
        return failed(self.events, obj, record, exc, doing, invalid_reason=self.invalid_reason)

    # -- going away ---------------------------------------------------------------------------
    def _release(self, key: str, obj: Obj, ref: LBRef, *, finalizer: str,
                 patch_object: Callable[..., Obj] | None = None,
                 retype: Callable[[Obj], Obj] = lambda o: o) -> Outcome:
        """Delete the load balancer, clear the object's status, remove our finalizer."""
        self.events.normal(obj, "DeletingLoadBalancer", "Deleting load balancer")
        try:
            delete_ours(self.provider, ref, events=self.events, obj=obj)
        except Exception as exc:  # noqa: BLE001 - classified in one place
            record = self.record(key) or self.record_type(ref=ref)
            return self._failed(record, obj, exc, "deleting load balancer")
        try:
            if writers.load_balancer_status(obj):
                obj = retype(writers.patch_load_balancer_status(self.api, obj, {},
                                                                patch=self.patch_status))
            writers.remove_finalizer(self.api, obj, finalizer, patch=patch_object)
        except APINotFoundError:
            pass
        except APIError as exc:
            return Outcome(Result.ERROR, retry_after=0.5, message=str(exc))
        with self._lock:
            self._records.pop(key, None)
        self.events.normal(obj, "DeletedLoadBalancer", "Deleted load balancer")
        log.info("load balancer deleted object=%s", ref)
        return Outcome(Result.DELETED)

    def _forget_deleted(self, key: str) -> Outcome:
        """The object vanished without our finalizer holding it (e.g. removed by hand)."""
        with self._lock:
            record = self._records.pop(key, None)
        if record is None:
            return Outcome(Result.SKIPPED)
        try:
            delete_ours(self.provider, record.ref)
        except Exception as exc:  # noqa: BLE001
            with self._lock:
                self._records.setdefault(key, record)
            return Outcome(Result.ERROR, message=f"deleting load balancer: {exc}")
        log.info("load balancer deleted object=%s (object already gone)", record.ref)
        return Outcome(Result.DELETED)
