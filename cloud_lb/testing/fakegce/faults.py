"""Fault injection: latency, 5xx, 429 `rateLimitExceeded`, or any GCE error, on request.

Rules match the call's verb (`forwardingRules.insert`, `instanceGroups.addInstances`,
`regionOperations.wait`, ...) with shell wildcards, and fire a fixed number of times
(or forever), so tests are deterministic: "the next 2 inserts get a 429" is a rule
`rate_limit("*.insert", times=2)`. Faults are checked before the request touches state,
as a real front end throttles or fails before the backend sees the call.
"""

from __future__ import annotations

import fnmatch
import threading
from dataclasses import dataclass

from cloud_lb.testing.fakegce.errors import GCEError, backend_error, rate_limited


@dataclass
class Fault:
    pattern: str
    error: GCEError | None = None
    latency_seconds: float = 0.0
    times: int | None = None  # None: every matching call
    fired: int = 0

    def matches(self, verb: str) -> bool:
        return fnmatch.fnmatchcase(verb, self.pattern) and (
            self.times is None or self.fired < self.times
        )


class Faults:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rules: list[Fault] = []

    def add(self, fault: Fault) -> Fault:
        with self._lock:
            self._rules.append(fault)
        return fault

    def error(
        self, pattern: str, *, status: int, reason: str, message: str = "", times: int | None = 1
    ) -> Fault:
        return self.add(
            Fault(pattern, GCEError(status, reason, message or f"injected {reason}"), times=times)
        )

    def server_error(
        self, pattern: str = "*", *, status: int = 503, times: int | None = 1
    ) -> Fault:
        return self.add(Fault(pattern, backend_error(status), times=times))

    def rate_limit(self, pattern: str = "*", *, times: int | None = 1) -> Fault:
        return self.add(Fault(pattern, rate_limited(pattern), times=times))

    def latency(self, seconds: float, pattern: str = "*", *, times: int | None = None) -> Fault:
        return self.add(Fault(pattern, latency_seconds=seconds, times=times))

    def clear(self) -> None:
        with self._lock:
            self._rules.clear()

    def take(self, verb: str) -> tuple[float, GCEError | None]:
        """Latency to add and the error to return (if any) for this call."""
        delay = 0.0
        with self._lock:
            for rule in self._rules:
                if not rule.matches(verb):
                    continue
                if rule.error is None:
                    rule.fired += 1
                    delay += rule.latency_seconds
                    continue
                rule.fired += 1
                return delay, GCEError(
                    rule.error.status,
                    rule.error.reason,
                    rule.error.message,
                    domain=rule.error.domain,
                )
        return delay, None
