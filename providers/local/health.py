"""Health checks of the backends of one local load balancer (runs on the event loop).

One probe task per distinct (backend address, HealthCheck): listeners that share a
health check (the usual case: kube-proxy's 10256 or the Service's healthCheckNodePort)
share its probes. HTTP: `GET <path>` on the health-check port, healthy on status 200
only (what kube-proxy's /healthz answers, and Octavia's default expected code). TCP:
the connect succeeds.

State per check: unknown until the first probe, which decides at once (a new backend
should not wait `healthy_threshold` intervals); afterwards `healthy_threshold`
consecutive successes bring a backend up and `unhealthy_threshold` consecutive
failures take it down, like Octavia's rise/fall. The selection of backends (and the
fail-open rule when none is healthy) lives with the listeners.

The HTTP probe is a few lines over asyncio streams: the standard library's clients
block, and an asyncio HTTP client package is not a dependency of cloud-lb.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterable
from dataclasses import dataclass

from cloud_lb.model import HealthCheck, HealthCheckProtocol
from providers.local.config import HealthCheckOverrides

log = logging.getLogger(__name__)

CheckKey = tuple[str, HealthCheck]  # (backend address, health check)


@dataclass(frozen=True)
class Timing:
    interval: float
    timeout: float
    rise: int
    fall: int

    @classmethod
    def of(cls, hc: HealthCheck, overrides: HealthCheckOverrides) -> Timing:
        return cls(
            interval=overrides.interval_seconds or float(hc.interval_seconds),
            timeout=overrides.timeout_seconds or float(hc.timeout_seconds),
            rise=overrides.healthy_threshold or hc.healthy_threshold,
            fall=overrides.unhealthy_threshold or hc.unhealthy_threshold,
        )


class CheckState:
    """Rise/fall bookkeeping of one check. Pure: fed with probe results."""

    def __init__(self, timing: Timing) -> None:
        self.timing = timing
        self.healthy: bool | None = None
        self._successes = 0
        self._failures = 0

    def observe(self, ok: bool) -> bool:
        """Account one probe; True when the state changed."""
        if ok:
            self._successes, self._failures = self._successes + 1, 0
        else:
            self._failures, self._successes = self._failures + 1, 0
        before = self.healthy
        if before is None:
            self.healthy = ok
        elif not before and self._successes >= self.timing.rise:
            self.healthy = True
        elif before and self._failures >= self.timing.fall:
            self.healthy = False
        return self.healthy != before


async def probe(address: str, hc: HealthCheck, timeout: float) -> bool:
    """One check of `address` per `hc`: True when healthy."""
    writer = None
    try:
        async with asyncio.timeout(timeout):
            reader, writer = await asyncio.open_connection(address, hc.port)
            if hc.protocol is HealthCheckProtocol.TCP:
                return True
            host = f"[{address}]" if ":" in address else address
            writer.write(
                f"GET {hc.path} HTTP/1.0\r\nHost: {host}:{hc.port}\r\n"
                "User-Agent: cloud-lb-local-health\r\nConnection: close\r\n\r\n".encode()
            )
            status_line = await reader.readline()
    except (OSError, TimeoutError, asyncio.IncompleteReadError):
        return False
    finally:
        if writer is not None:
            writer.transport.abort()  # no lingering FIN handshakes, nothing to flush
    parts = status_line.split()
    return len(parts) >= 2 and parts[0].startswith(b"HTTP/") and parts[1] == b"200"


class HealthMonitor:
    """All checks of one load balancer. Use from the event loop only."""

    def __init__(self, *, lb: str, overrides: HealthCheckOverrides) -> None:
        self._lb = lb
        self._overrides = overrides
        self._states: dict[CheckKey, CheckState] = {}
        self._tasks: dict[CheckKey, asyncio.Task[None]] = {}

    def healthy(self, address: str, hc: HealthCheck) -> bool | None:
        state = self._states.get((address, hc))
        return None if state is None else state.healthy

    def set_targets(self, keys: Iterable[CheckKey]) -> None:
        """Check exactly `keys`: start new checks, stop those no longer wanted, keep the
        state of the rest."""
        wanted = set(keys)
        for key in list(self._tasks):
            if key not in wanted:
                self._tasks.pop(key).cancel()
                self._states.pop(key, None)
        for key in wanted:
            if key not in self._tasks:
                self._states[key] = CheckState(Timing.of(key[1], self._overrides))
                self._tasks[key] = asyncio.get_running_loop().create_task(
                    self._run(key), name=f"health {self._lb} {key[0]}:{key[1].port}"
                )

    async def close(self) -> None:
        tasks = list(self._tasks.values())
        self._tasks.clear()
        self._states.clear()
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _run(self, key: CheckKey) -> None:
        address, hc = key
        state = self._states[key]
        while True:
            ok = await probe(address, hc, state.timing.timeout)
            if state.observe(ok):
                log.info(
                    "event=backend_health_changed lb=%s backend=%s check=%s:%d%s healthy=%s",
                    self._lb, address, hc.protocol.value, hc.port,
                    hc.path if hc.protocol is HealthCheckProtocol.HTTP else "",
                    str(state.healthy).lower(),
                )
            await asyncio.sleep(state.timing.interval)
