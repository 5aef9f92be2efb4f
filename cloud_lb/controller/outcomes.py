"""What a reconcile ends in, and the decisions both reconcilers (Service, Ingress) make
the same way: how a provider error becomes an outcome and an event, and how a delete
treats a resource that carries our name but is not ours.
"""

from __future__ import annotations

import enum
import logging
from dataclasses import dataclass
from typing import Any

from cloud_lb.kube.events import EventRecorder
from cloud_lb.model import LBRef, LoadBalancerSpec, LoadBalancerStatus
from cloud_lb.provider import (
    CloudError,
    InvalidSpecError,
    LoadBalancerProvider,
    OwnershipError,
    PendingError,
)

log = logging.getLogger(__name__)

Obj = dict[str, Any]


class Result(enum.Enum):
    SKIPPED = "skipped"  # not ours, or nothing to do
    SYNCED = "synced"
    DELETED = "deleted"
    INVALID = "invalid"  # user error: no retry until the object changes
    PENDING = "pending"  # the cloud is busy: retry after `retry_after`
    ERROR = "error"  # retry with backoff


@dataclass(frozen=True)
class Outcome:
    result: Result
    retry_after: float | None = None
    message: str = ""


@dataclass
class SyncRecord:
    """What this process last applied for one object."""

    ref: LBRef
    spec: LoadBalancerSpec | None = None
    status: LoadBalancerStatus | None = None
    last_sync: float | None = None
    last_error: str | None = None
    invalid_message: str | None = None


def invalid(events: EventRecorder, obj: Obj, record: SyncRecord, message: str, *,
            reason: str) -> Outcome:
    """A user error: one Warning event per distinct message, no retry."""
    if record.invalid_message != message:
        events.warning(obj, reason, message)
    record.invalid_message = message
    record.last_error = message
    return Outcome(Result.INVALID, message=message)


def failed(events: EventRecorder, obj: Obj, record: SyncRecord, exc: Exception, doing: str, *,
           invalid_reason: str) -> Outcome:
    """A provider call failed: pending (requeue, no event), the user's error (event, no
    retry) or a cloud/ownership error (event with the cloud's message, retry)."""
    what = f"{record.ref.kind}/{record.ref.key}"
    if isinstance(exc, PendingError):
        log.info("load balancer pending object=%s retry_after=%.1fs reason=%s", what,
                 exc.retry_after, exc)
        return Outcome(Result.PENDING, retry_after=exc.retry_after, message=str(exc))
    if isinstance(exc, InvalidSpecError):
        return invalid(events, obj, record, str(exc), reason=invalid_reason)
    record.last_error = str(exc) or type(exc).__name__
    if isinstance(exc, OwnershipError | CloudError):
        message = f"Error {doing}: {exc}"
    else:
        log.exception("unexpected error object=%s while=%s", what, doing)
        message = f"Error {doing}: {type(exc).__name__}: {exc}"
    events.warning(obj, "SyncLoadBalancerFailed", message)
    return Outcome(Result.ERROR, message=message)


def delete_ours(provider: LoadBalancerProvider, ref: LBRef, *, events: EventRecorder | None = None,
                obj: Obj | None = None) -> None:
    """Delete what we built for `ref`. What carries our name but is someone else's is
    left in place (a warning event when `obj` is given): nothing of ours is there, and
    holding the finalizer would block the object's deletion forever. Anything tagged as
    ours that a crash left behind is the orphan collector's job. Other errors raise."""
    try:
        provider.delete(ref)
    except OwnershipError as exc:
        log.warning("delete found a resource that is not ours object=%s error=%s", ref, exc)
        if events is not None and obj is not None:
            events.warning(obj, "DeletingLoadBalancer", f"Left in place, not ours: {exc}")
