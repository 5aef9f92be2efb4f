"""google.api_core errors -> the provider contract's errors.

404 notFound                         handled by the callers (get: absent, delete: gone)
409 alreadyExists                    PendingError: an insert of ours is still in flight
400 resourceInUseByAnotherResource   PendingError: the cloud is catching up with a
                                     deletion in dependency order
400 resourceNotReady                 PendingError: an operation holds the resource
412 conditionNotMet                  PendingError: stale fingerprint; re-read and retry
403 quotaExceeded, other 4xx         CloudError(retryable=False) with GCE's message
5xx / 429 after retries              CloudError(retryable=True) (raised in clients.py)
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from google.api_core import exceptions as gexc

from cloud_lb.provider import CloudError, PendingError
from providers.gcp.clients import error_reason

PENDING_REASONS = {
    "alreadyExists",
    "resourceInUseByAnotherResource",
    "resourceNotReady",
    "conditionNotMet",
}


def mapped(exc: gexc.GoogleAPICallError, what: str) -> Exception:
    reason = error_reason(exc)
    message = exc.message or str(exc)
    if reason in PENDING_REASONS or isinstance(exc, (gexc.Conflict, gexc.PreconditionFailed)):
        return PendingError(f"{what}: {message} ({reason or exc.code})", retry_after=2.0)
    retryable = exc.code is not None and int(exc.code) >= 500
    return CloudError(
        f"{what}: {message} ({reason or exc.code})", operation=what, retryable=retryable
    )


@contextmanager
def cloud_errors(what: str) -> Iterator[None]:
    try:
        yield
    except gexc.GoogleAPICallError as exc:
        raise mapped(exc, what) from exc
