"""Fault injection for tests: latency, failed requests, ended and expired watches.

Rules match a request by `resource` and `verb`, both optional:
- `resource` is a plural ("services") matching the resource and its subresources, or
  "plural/subresource" ("services/status") matching only that subresource;
- `verb` is a Kubernetes verb: get, list, watch, create, update, patch, delete,
  deletecollection.
Discovery and /version requests have no resource and only match rules without one.

Latency rules add up; `fail_next(n)` rules are consumed in the order they were added.
Injected failures are proper `Status` bodies (500 InternalError or 429 TooManyRequests
with `Retry-After: 1`), so clients react as they would to a real apiserver — including
urllib3 under the official client, which by itself retries an idempotent request (GET,
PUT, DELETE) answered 429 with Retry-After, up to 3 times: to make such a request fail
for the caller, fail more than 3 in a row.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass

from cloud_lb.testing.fakekube import errors
from cloud_lb.testing.fakekube.errors import ApiError

log = logging.getLogger(__name__)


@dataclass
class _Rule:
    resource: str | None
    verb: str | None

    def matches(self, resource: str, verb: str) -> bool:
        if self.verb is not None and self.verb != verb:
            return False
        if self.resource is None:
            return True
        if "/" in self.resource:
            return self.resource == resource
        return resource == self.resource or resource.startswith(self.resource + "/")


@dataclass
class _Latency(_Rule):
    seconds: float = 0.0


@dataclass
class _Failure(_Rule):
    remaining: int = 0
    status: int = 500


class Faults:
    """Owned by a `FakeKubeServer`; tests reach it as `kube.faults`."""

    def __init__(self, *, stop_watches: Callable[[], int], compact: Callable[[], None]) -> None:
        self._lock = threading.Lock()
        self._latency: list[_Latency] = []
        self._failures: list[_Failure] = []
        self._expire_next_watch = False
        self._stop_watches = stop_watches
        self._compact = compact

    def add_latency(self, seconds: float, resource: str | None = None,
                    verb: str | None = None) -> None:
        """Delay every matching request by `seconds` (before it is served)."""
        with self._lock:
            self._latency.append(_Latency(resource, verb, seconds))
        log.info("event=fakekube_fault fault=latency seconds=%s resource=%s verb=%s",
                 seconds, resource, verb)

    def fail_next(self, n: int, status: int = 500, resource: str | None = None,
                  verb: str | None = None) -> None:
        """Answer the next `n` matching requests with `status` (500 or 429)."""
        if status not in (500, 429):
            raise ValueError(f"fail_next status must be 500 or 429, not {status}")
        with self._lock:
            self._failures.append(_Failure(resource, verb, n, status))
        log.info("event=fakekube_fault fault=fail_next n=%d status=%d resource=%s verb=%s",
                 n, status, resource, verb)

    def drop_watches(self) -> int:
        """End every open watch now (cleanly, as when the server's watch timeout hits);
        returns how many were ended."""
        count = self._stop_watches()
        log.info("event=fakekube_fault fault=drop_watches ended=%d", count)
        return count

    def expire_next_watch(self) -> None:
        """Make watches see 410 Gone: the very next watch request gets an ERROR 410 event
        whatever its resourceVersion, and the history is compacted, so resuming from any
        resourceVersion handed out so far also gets 410 until the client lists again."""
        with self._lock:
            self._expire_next_watch = True
        self._compact()
        log.info("event=fakekube_fault fault=expire_next_watch")

    def clear(self) -> None:
        with self._lock:
            self._latency.clear()
            self._failures.clear()
            self._expire_next_watch = False

    # --- used by the server ----------------------------------------------------------

    def delay_for(self, resource: str, verb: str) -> float:
        with self._lock:
            return sum(r.seconds for r in self._latency if r.matches(resource, verb))

    def failure_for(self, resource: str, verb: str) -> ApiError | None:
        with self._lock:
            for rule in self._failures:
                if rule.remaining > 0 and rule.matches(resource, verb):
                    rule.remaining -= 1
                    break
            else:
                return None
            self._failures = [r for r in self._failures if r.remaining > 0]
        what = f"{verb} {resource or 'discovery'}"
        if rule.status == 429:
            return errors.too_many_requests(f"fake-kube: injected throttling of {what}; "
                                            f"please try again later")
        return errors.internal(f"fake-kube: injected failure of {what}")

    def take_watch_expiry(self) -> bool:
        with self._lock:
            expired, self._expire_next_watch = self._expire_next_watch, False
            return expired
