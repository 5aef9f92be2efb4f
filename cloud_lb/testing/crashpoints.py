"""Test-only crash points: die by SIGKILL right after the Nth mutating cloud call.

The reliability suite proves crash consistency by killing a real `cloud-lb run` process
after every mutating cloud call of a create, an update and a delete, then restarting it
and checking that nothing leaked. `cloud-lb run` imports this module only when one of
the variables below is set, so production processes never load it:

- `CLOUD_LB_TEST_CRASH_AFTER_MUTATION=N`: after the Nth *successful* mutating call
  (the cloud has done it; a failed call changed nothing), the process sends itself
  SIGKILL: no `finally`, no atexit, no flush, exactly as the OOM killer or a node loss.
- `CLOUD_LB_TEST_MUTATION_LOG=path`: append one line per successful mutating call
  (`<n> <operation>`), so a clean run tells the test how many crash points there are.
  Each line is written with os.write on an O_APPEND fd, so it is in the kernel before
  the next call can kill the process.

The observer runs on the thread that made the call (a worker), inside
`CallRecorder.record`, i.e. after the call returned and before the provider continues.
"""

from __future__ import annotations

import logging
import os
import signal
import threading

from cloud_lb.provider import CallRecorder

CRASH_ENV = "CLOUD_LB_TEST_CRASH_AFTER_MUTATION"
LOG_ENV = "CLOUD_LB_TEST_MUTATION_LOG"

log = logging.getLogger(__name__)


def wanted(environ: dict[str, str] | None = None) -> bool:
    env = os.environ if environ is None else environ
    return bool(env.get(CRASH_ENV) or env.get(LOG_ENV))


def install(recorder: CallRecorder, environ: dict[str, str] | None = None) -> None:
    """Subscribe the crash/log observer to `recorder` as the environment asks."""
    env = os.environ if environ is None else environ
    crash_at = int(env[CRASH_ENV]) if env.get(CRASH_ENV) else None
    if crash_at is not None and crash_at < 1:
        raise ValueError(f"{CRASH_ENV} must be >= 1, got {crash_at}")
    log_fd = (os.open(env[LOG_ENV], os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
              if env.get(LOG_ENV) else None)
    lock = threading.Lock()
    count = 0

    def observe(operation: str, mutating: bool, result: str, seconds: float) -> None:
        nonlocal count
        if not mutating or result != "ok":
            return
        with lock:  # two workers finishing calls at once still get distinct numbers
            count += 1
            n = count
            if log_fd is not None:
                os.write(log_fd, f"{n} {operation}\n".encode())
            if crash_at is not None and n >= crash_at:
                log.warning("crash point reached n=%d operation=%s: SIGKILL", n, operation)
                os.kill(os.getpid(), signal.SIGKILL)

    recorder.subscribe(observe)
    log.warning("test crash points installed crash_after=%s log=%s", crash_at,
                env.get(LOG_ENV) or "-")
