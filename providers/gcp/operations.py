"""Awaiting GCE operations with a deadline, through the operations clients' `wait`.

`wait` is GCE's long poll: the server holds the request until the operation is DONE
(or about 2 minutes pass), so one call usually suffices and there is no busy loop. The
HTTP timeout of each `wait` is the time left before the deadline; when the deadline
passes with the operation still PENDING or RUNNING we raise `PendingError` and the key
is requeued: the next reconcile re-reads the cloud and finds the change applied (or
the resource still locked, which GCE reports as `resourceNotReady`, also a
`PendingError`). A DONE operation that carries an error becomes a `CloudError` with
GCE's message, retryable only for 5xx and throttling.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any, TypeVar

import requests
from google.api_core import exceptions as gexc
from google.cloud import compute_v1

from cloud_lb.provider import CloudError, PendingError

log = logging.getLogger(__name__)
T = TypeVar("T")
DONE = compute_v1.Operation.Status.DONE
RETRYABLE_CODES = {
    "RATE_LIMIT_EXCEEDED",
    "INTERNAL_ERROR",
    "SERVICE_UNAVAILABLE",
    "rateLimitExceeded",
    "backendError",
}


class OperationWaiter:
    def __init__(
        self,
        *,
        region: compute_v1.RegionOperationsClient,
        zone: compute_v1.ZoneOperationsClient,
        global_: compute_v1.GlobalOperationsClient,
        project: str,
        call: Callable[..., Any],
    ) -> None:
        self._region = region
        self._zone = zone
        self._global = global_
        self._project = project
        self._call = call
        self.clients = [region, zone, global_]

    def _wait_once(self, op: compute_v1.Operation, timeout: float) -> compute_v1.Operation:
        if op.zone:
            zone = op.zone.rsplit("/", 1)[1]
            return self._call(
                "zoneOperations.wait",
                lambda: self._zone.wait(
                    project=self._project, zone=zone, operation=op.name, retry=None, timeout=timeout
                ),
                mutating=False,
            )
        if op.region:
            region = op.region.rsplit("/", 1)[1]
            return self._call(
                "regionOperations.wait",
                lambda: self._region.wait(
                    project=self._project,
                    region=region,
                    operation=op.name,
                    retry=None,
                    timeout=timeout,
                ),
                mutating=False,
            )
        return self._call(
            "globalOperations.wait",
            lambda: self._global.wait(
                project=self._project, operation=op.name, retry=None, timeout=timeout
            ),
            mutating=False,
        )

    def wait(self, op: compute_v1.Operation, *, what: str, deadline: float) -> None:
        """Return when `op` is DONE without error; raise PendingError at the deadline."""
        started = time.monotonic()
        while op.status != DONE:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise self._slow(op, what, started)
            try:
                op = self._wait_once(op, timeout=remaining)
            except (requests.Timeout, gexc.DeadlineExceeded):
                raise self._slow(op, what, started) from None
        self._check(op, what)
        log.debug(
            "gcp_operation_done what=%s operation=%s seconds=%.3f",
            what,
            op.name,
            time.monotonic() - started,
        )

    @staticmethod
    def _slow(op: compute_v1.Operation, what: str, started: float) -> PendingError:
        status = compute_v1.Operation.Status(op.status).name if op.status else "PENDING"
        log.info(
            "gcp_operation_slow what=%s operation=%s status=%s waited=%.1fs",
            what,
            op.name,
            status,
            time.monotonic() - started,
        )
        return PendingError(
            f"{what}: operation {op.name} still {status}; will check again", retry_after=5.0
        )

    @staticmethod
    def _check(op: compute_v1.Operation, what: str) -> None:
        errors = list(op.error.errors) if op.error else []
        if not errors:
            return
        codes = [e.code for e in errors]
        message = "; ".join(e.message for e in errors)
        status = op.http_error_status_code or 0
        retryable = status >= 500 or status == 429 or any(c in RETRYABLE_CODES for c in codes)
        raise CloudError(
            f"{what} failed: {message} ({', '.join(codes)})", operation=what, retryable=retryable
        )
