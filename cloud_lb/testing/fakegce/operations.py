"""Long-running operations: PENDING -> RUNNING -> DONE, and the change they carry.

Every mutating call returns an Operation at once; the change itself is applied when the
operation reaches DONE, as in GCE, where a resource being inserted is not yet readable
and one being changed is locked (`resourceNotReady`). The state of an operation is a
function of time (`pending_seconds`, `running_seconds`), so nothing runs in the
background: every request first `settle()`s the operations whose time has come, in
creation order. Tests can `hold()` new operations (they stay RUNNING) and `release()`
them, to observe a slow cloud deterministically.

`wait()` is GCE's `operations.wait`: it blocks until the operation is DONE, or until
the server-side wait limit (2 minutes in GCE) or the server's shutdown, and returns the
operation in whatever state it is then.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from cloud_lb.testing.fakegce.errors import GCEError
from cloud_lb.testing.fakegce.links import LINK_BASE, Scope

_ids = itertools.count(7_000_000_000_000_000_001)

HTTP_STATUS_TEXT = {
    400: "BAD REQUEST",
    403: "FORBIDDEN",
    404: "NOT FOUND",
    409: "CONFLICT",
    412: "PRECONDITION FAILED",
    500: "INTERNAL SERVER ERROR",
}


def rfc3339(ts: float | None = None) -> str:
    moment = datetime.fromtimestamp(time.time() if ts is None else ts, tz=UTC)
    return moment.isoformat(timespec="milliseconds")


@dataclass
class Operation:
    name: str
    id: str
    scope: Scope
    operation_type: str
    target_link: str
    target_id: str
    created: float
    insert_time: str
    run_at: float
    done_at: float | None  # None while held
    apply: Callable[[], None] | None
    error: GCEError | None = None
    error_code: str = ""
    settled: bool = False
    end_time: str = ""
    on_settled: list[Callable[[], None]] = field(default_factory=list)

    def status(self, now: float) -> str:
        if self.settled:
            return "DONE"
        if now < self.run_at:
            return "PENDING"
        if self.done_at is None or now < self.done_at:
            return "RUNNING"
        return "DONE"

    def to_json(self, now: float, *, initial: bool = False) -> dict[str, Any]:
        # the response to the mutating call itself always shows the operation as just
        # queued, as GCE's does; its progress is seen through operations.get / wait
        status = "PENDING" if initial else self.status(now)
        out: dict[str, Any] = {
            "kind": "compute#operation",
            "id": self.id,
            "name": self.name,
            "operationType": self.operation_type,
            "targetLink": self.target_link,
            "status": status,
            "user": "fake-gce@example.invalid",
            "progress": 100 if status == "DONE" else 0,
            "insertTime": self.insert_time,
            "selfLink": f"{LINK_BASE}{self.scope.path}/operations/{self.name}",
        }
        if self.target_id:
            out["targetId"] = self.target_id
        if status != "PENDING":
            out["startTime"] = self.insert_time
        if self.scope.kind == "regions":
            out["region"] = self.scope.location_link
        elif self.scope.kind == "zones":
            out["zone"] = self.scope.location_link
        if status == "DONE":
            out["endTime"] = self.end_time or rfc3339()
            if self.error is not None:
                out["error"] = {
                    "errors": [
                        {
                            "code": self.error_code or self.error.reason,
                            "message": self.error.message,
                        }
                    ]
                }
                out["httpErrorStatusCode"] = self.error.status
                out["httpErrorMessage"] = HTTP_STATUS_TEXT.get(self.error.status, "ERROR")
        return out


class OperationBook:
    """All operations of the fake, keyed by scope path and name.

    Shares the state lock of the fake (`cond` is a Condition over it): settling applies
    changes to the store, which must not interleave with a request's reads and writes.
    """

    def __init__(
        self,
        cond: threading.Condition,
        *,
        clock: Callable[[], float] = time.monotonic,
        wait_limit_seconds: float = 120.0,
    ) -> None:
        self._cond = cond
        self._clock = clock
        self._ops: dict[tuple[str, str], Operation] = {}
        self._order: list[Operation] = []
        self.pending_seconds = 0.0
        self.running_seconds = 0.0
        self.wait_limit_seconds = wait_limit_seconds
        self._held = False
        self._stopped = False

    # -- creation and lifecycle (callers hold the lock) -----------------------------------

    def create(
        self,
        scope: Scope,
        operation_type: str,
        target_link: str,
        *,
        target_id: str = "",
        apply: Callable[[], None] | None,
        error: GCEError | None = None,
        error_code: str = "",
    ) -> Operation:
        now = self._clock()
        run_at = now + self.pending_seconds
        op_id = str(next(_ids))
        op = Operation(
            name=f"operation-{int(time.time() * 1000)}-{op_id[-12:]}",
            id=op_id,
            scope=scope,
            operation_type=operation_type,
            target_link=target_link,
            target_id=target_id,
            created=now,
            insert_time=rfc3339(),
            run_at=run_at,
            done_at=None if self._held else run_at + self.running_seconds,
            apply=apply,
            error=error,
            error_code=error_code,
        )
        self._ops[(scope.path, op.name)] = op
        self._order.append(op)
        return op

    def settle(self) -> None:
        """Apply, in creation order, every operation whose DONE time has come."""
        now = self._clock()
        remaining: list[Operation] = []
        for op in self._order:
            if op.settled:
                continue
            if op.done_at is not None and op.done_at <= now:
                self._finish(op)
            else:
                remaining.append(op)
        self._order = remaining

    def _finish(self, op: Operation) -> None:
        if op.error is None and op.apply is not None:
            try:
                op.apply()
            except GCEError as exc:
                op.error = exc
        op.settled = True
        op.end_time = rfc3339()
        for callback in op.on_settled:
            callback()
        self._cond.notify_all()

    def get(self, scope: Scope, name: str) -> Operation | None:
        self.settle()
        return self._ops.get((scope.path, name))

    def list(self, scope: Scope) -> list[Operation]:
        self.settle()
        return [op for (path, _), op in self._ops.items() if path == scope.path]

    def snapshot_json(self, op: Operation) -> dict[str, Any]:
        return op.to_json(self._clock())

    # -- waiting ------------------------------------------------------------------------

    def wait(self, scope: Scope, name: str) -> Operation | None:
        """Block (releasing the lock) until DONE, the wait limit, or shutdown."""
        limit = self._clock() + self.wait_limit_seconds
        while True:
            op = self.get(scope, name)
            if op is None or op.settled or self._stopped:
                return op
            now = self._clock()
            if now >= limit:
                return op
            wake = limit if op.done_at is None else min(limit, op.done_at)
            self._cond.wait(timeout=max(wake - now, 0.001))

    # -- test controls (take the lock themselves) ----------------------------------------

    def set_timing(self, *, pending_seconds: float = 0.0, running_seconds: float = 0.0) -> None:
        with self._cond:
            self.pending_seconds = pending_seconds
            self.running_seconds = running_seconds

    def hold(self) -> None:
        """Operations created from now on stay RUNNING until `release()`."""
        with self._cond:
            self._held = True

    def release(self) -> None:
        """Let every held operation finish now, and stop holding new ones."""
        with self._cond:
            self._held = False
            now = self._clock()
            for op in self._order:
                if op.done_at is None:
                    op.done_at = max(now, op.run_at)
            self.settle()
            self._cond.notify_all()

    def finish_now(self, scope: Scope, name: str) -> None:
        """Complete one operation immediately (the fake's own seeding helpers)."""
        with self._cond:
            op = self._ops.get((scope.path, name))
            if op is not None and not op.settled:
                self._order.remove(op)
                self._finish(op)

    def in_flight(self) -> int:
        with self._cond:
            self.settle()
            return sum(1 for op in self._order if not op.settled)

    def stop(self) -> None:
        """Wake every waiter: the server is shutting down."""
        with self._cond:
            self._stopped = True
            self._cond.notify_all()
