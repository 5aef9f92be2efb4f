"""Fault injection and the call log of the fake OpenStack.

A `Fault` matches requests by service, method and a path regex and either delays them
(`latency`), answers them with an error status in that service's own error format
(5xx, 429/413 throttling with `Retry-After`, 409 ...), or both; `times` bounds how many
requests it hits (None = until cleared). The `CallLog` keeps one entry per request that
reached a route, with the route template (`/v2/lbaas/pools/{pool_id}/members`) so tests
and benchmarks count calls by operation.
"""

from __future__ import annotations

import re
import threading
from collections import Counter
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Fault:
    status: int | None = None  # None: latency only
    latency: float = 0.0
    service: str | None = None  # "load-balancer", "network", "compute", "identity", ...
    method: str | None = None
    path: str | None = None  # regex searched in the path below the service prefix
    times: int | None = 1
    retry_after: float | None = None
    message: str | None = None
    hits: int = field(default=0, init=False)

    def matches(self, service: str, method: str, path: str) -> bool:
        return ((self.service is None or self.service == service)
                and (self.method is None or self.method == method)
                and (self.path is None or re.search(self.path, path) is not None))


def error_body(service: str, status: int, message: str) -> dict[str, Any]:
    """An error body as that service's stack would produce it."""
    if service == "load-balancer":
        return {"faultcode": "Client" if status < 500 else "Server", "faultstring": message,
                "debuginfo": None}
    if service == "network":
        kind = {429: "OverLimit", 413: "OverLimit", 503: "ServiceUnavailable"}.get(
            status, "HTTPInternalServerError" if status >= 500 else "HTTPConflict")
        return {"NeutronError": {"type": kind, "message": message, "detail": ""}}
    if service == "compute":
        kind = "overLimit" if status in (413, 429) else (
            "computeFault" if status >= 500 else "conflictingRequest")
        return {kind: {"code": status, "message": message}}
    return {"error": {"code": status, "title": "Error", "message": message}}


DEFAULT_MESSAGES = {
    429: "Too Many Requests", 413: "Over limit", 500: "Internal Server Error",
    502: "Bad Gateway", 503: "Service Unavailable", 504: "Gateway Timeout",
    409: "Conflict",
}


class Faults:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []

    def inject(self, fault: Fault) -> Fault:
        with self._lock:
            self._faults.append(fault)
        return fault

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()

    def take(self, service: str, method: str, path: str) -> list[Fault]:
        """The faults that hit this request (their counters consumed)."""
        hit = []
        with self._lock:
            for fault in list(self._faults):
                if not fault.matches(service, method, path):
                    continue
                fault.hits += 1
                if fault.times is not None and fault.hits >= fault.times:
                    self._faults.remove(fault)
                hit.append(fault)
        return hit


@dataclass(frozen=True)
class Call:
    service: str
    method: str
    route: str  # the route template, or the raw path when no route matched
    path: str
    status: int

    @property
    def mutating(self) -> bool:
        return self.method not in ("GET", "HEAD")


class CallLog:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._calls: list[Call] = []

    def add(self, call: Call) -> None:
        with self._lock:
            self._calls.append(call)

    def entries(self) -> list[Call]:
        with self._lock:
            return list(self._calls)

    def reset(self) -> None:
        with self._lock:
            self._calls.clear()

    def count(self, *, service: str | None = None, method: str | None = None,
              route: str | None = None, mutating: bool | None = None,
              exclude_identity: bool = True) -> int:
        return sum(
            1 for c in self.entries()
            if (service is None or c.service == service)
            and (method is None or c.method == method)
            and (route is None or c.route == route)
            and (mutating is None or c.mutating == mutating)
            and not (exclude_identity and service is None and c.service == "identity")
        )

    def summary(self) -> Counter[str]:
        """'METHOD service route' -> count, identity excluded."""
        return Counter(f"{c.method} {c.service} {c.route}" for c in self.entries()
                       if c.service != "identity")
