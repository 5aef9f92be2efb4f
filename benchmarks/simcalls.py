"""The client side of the simulated cloud, shared by both provider models: one method
call per cloud API call, each recorded in the `CallRecorder` (operation, mutating,
result, seconds), cloud errors mapped onto the provider contract's errors.

Client-side pacing: a reservation token bucket (`Pacer`) that the cloud-lb model puts in
front of every mutating call, set to the cloud's published limit, so that concurrent
workers spend their waiting here instead of collecting throttling errors (what the AWS
SDK's adaptive retry mode and client-go's rate limiter do). It is a dozen lines, kept
here rather than adding a dependency for it. Throttling that still happens is retried
with tenacity (exponential backoff with jitter), and each throttled attempt is counted.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from tenacity import (
    RetryError,
    Retrying,
    retry_if_exception_type,
    stop_after_attempt,
    wait_exponential_jitter,
)

from benchmarks.simcloud import ConflictError, NotFoundError, SimCloudError, ThrottledError
from benchmarks.simconfig import SimProviderConfig
from benchmarks.simserver import connect_cloud
from cloud_lb.provider import CallRecorder, CloudError, PendingError


class Pacer:
    """`qps` calls per second, `burst` at once; `wait()` blocks for the caller's turn.
    Reservations are taken in arrival order, so waiting threads are served fairly."""

    def __init__(self, qps: float, burst: int) -> None:
        self.qps, self.burst = qps, float(burst)
        self._tokens, self._last = float(burst), time.monotonic()
        self._lock = threading.Lock()

    def wait(self) -> float:
        with self._lock:
            now = time.monotonic()
            self._tokens = min(self.burst, self._tokens + (now - self._last) * self.qps)
            self._last = now
            self._tokens -= 1.0
            delay = 0.0 if self._tokens >= 0 else -self._tokens / self.qps
        if delay:
            time.sleep(delay)
        return delay


class CloudClient:
    """Calls on the shared `SimCloud`, recorded and mapped to contract errors."""

    def __init__(self, config: SimProviderConfig, recorder: CallRecorder, *,
                 pace: bool) -> None:
        self.config = config
        self.recorder = recorder
        self.cloud = connect_cloud((config.host, config.port),
                                   bytes.fromhex(config.authkey.get_secret_value()))
        self.pacer = Pacer(config.client_qps, config.client_burst) \
            if pace and config.client_qps > 0 else None

    def read(self, op: str, *args: Any, **kwargs: Any) -> Any:
        return self._once(op, False, getattr(self.cloud, op), args, kwargs)

    def write(self, op: str, *args: Any, **kwargs: Any) -> Any:
        """A mutating call: paced, throttling retried; a 409 (load balancer busy) or 404
        (gone under us) becomes a `PendingError` so the controller requeues the key."""
        fn = getattr(self.cloud, op)
        retrying = Retrying(
            retry=retry_if_exception_type(ThrottledError),
            wait=wait_exponential_jitter(multiplier=self.config.retry_initial_seconds,
                                         max=self.config.retry_max_seconds,
                                         jitter=self.config.retry_initial_seconds),
            stop=stop_after_attempt(self.config.retry_attempts))
        try:
            for attempt in retrying:
                with attempt:
                    if self.pacer is not None:
                        self.pacer.wait()
                    return self._once(op, True, fn, args, kwargs)
        except RetryError as exc:
            raise CloudError(f"{op}: still throttled after {self.config.retry_attempts} "
                             f"attempts", operation=op, retryable=True) from exc
        except (ConflictError, NotFoundError) as exc:
            raise PendingError(str(exc), retry_after=self.config.pending_retry_seconds) from exc
        raise AssertionError("unreachable: tenacity returns or raises")

    def _once(self, op: str, mutating: bool, fn: Callable[..., Any], args: tuple[Any, ...],
              kwargs: dict[str, Any]) -> Any:
        started = time.monotonic()
        result = "ok"
        try:
            return fn(*args, **kwargs)
        except ThrottledError:
            result = "throttled"
            raise
        except ConflictError:
            result = "conflict"
            raise
        except NotFoundError:
            result = "not_found"
            raise
        except SimCloudError as exc:
            result = "error"
            raise CloudError(f"{op}: {exc}", operation=op) from exc
        except (OSError, EOFError) as exc:
            result = "unreachable"
            raise CloudError(f"{op}: cloud unreachable: {exc}", operation=op) from exc
        finally:
            self.recorder.record(op, mutating=mutating, result=result,
                                 seconds=time.monotonic() - started)
