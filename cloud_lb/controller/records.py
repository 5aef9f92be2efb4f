"""What both reconcilers (Service, Ingress) keep and do alike: a record per managed
object, and the two ways a load balancer goes away — the object is being cleaned up
(delete, clear status, release the finalizer) or it vanished without our finalizer.
The subclasses say only how their objects are written (which patch, which finalizer).
"""

from __future__ import annotations

import logging
import threading
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
from cloud_lb.model import LBRef
from cloud_lb.provider import LoadBalancerProvider

log = logging.getLogger(__name__)

Obj = dict[str, Any]
R = TypeVar("R", bound=SyncRecord)


class RecordKeeper(Generic[R]):
    api: KubeAPI
    provider: LoadBalancerProvider
    events: EventRecorder
    record_type: type[R]
    invalid_reason: str

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

    def _invalid(self, record: SyncRecord, obj: Obj, message: str) -> Outcome:
        return invalid(self.events, obj, record, message, reason=self.invalid_reason)

    def _failed(self, record: SyncRecord, obj: Obj, exc: Exception, doing: str) -> Outcome:
        return failed(self.events, obj, record, exc, doing, invalid_reason=self.invalid_reason)

    def _release(self, key: str, obj: Obj, ref: LBRef, *, finalizer: str,
                 patch_status: Callable[..., Obj] | None = None,
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
                                                                patch=patch_status))
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
