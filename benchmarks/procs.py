"""The parent's handle on a controller process (`child.child_main`).

A spawned process (never forked: the parent runs the fake API server's threads) with a
pipe for commands. Every wait has a timeout; a child that dies is reported with the
tail of its log. `stop()` is graceful and always leaves no process behind (terminate,
then kill, after the grace period).
"""

from __future__ import annotations

import multiprocessing
import time
from pathlib import Path
from typing import Any, Self

from benchmarks.child import ChildSpec, child_main


class ControllerProcessError(RuntimeError):
    pass


class ControllerProcess:
    def __init__(self, spec: ChildSpec) -> None:
        self.spec = spec
        ctx = multiprocessing.get_context("spawn")
        self._conn, child_conn = ctx.Pipe()
        self._process = ctx.Process(target=child_main, args=(child_conn, spec),
                                    name="cloud-lb-controller", daemon=True)
        self._child_conn = child_conn
        self.started_at: float | None = None
        self.ready_info: dict[str, Any] = {}
        self.final: dict[str, Any] | None = None

    @property
    def pid(self) -> int | None:
        return self._process.pid

    def start(self, timeout: float = 600.0) -> Self:
        self.started_at = time.monotonic()
        self._process.start()
        self._child_conn.close()  # the child holds its end; EOF reaches us if it dies
        kind, info = self._receive(timeout, "start")
        if kind != "ready":
            raise ControllerProcessError(f"controller process failed to start: {info}")
        self.ready_info = info
        return self

    def call(self, command: str, *args: Any, timeout: float = 120.0) -> Any:
        try:
            self._conn.send((command, *args))
        except (OSError, EOFError) as exc:
            raise ControllerProcessError(f"controller process gone ({exc}){self._log_tail()}"
                                         ) from exc
        kind, value = self._receive(timeout, command)
        if kind != "ok":
            raise ControllerProcessError(f"controller {command} failed: {value}")
        return value

    def stats(self) -> dict[str, Any]:
        return self.call("stats")

    def mark(self) -> dict[str, Any]:
        return self.call("mark")

    def stop(self, timeout: float = 60.0) -> dict[str, Any] | None:
        """Graceful stop; the final stats (None when the process was already gone)."""
        if self.final is not None or not self._process.is_alive():
            self._reap()
            return self.final
        try:
            self.final = self.call("stop", timeout=timeout)
        except ControllerProcessError:
            self.final = None
        finally:
            self._reap()
        return self.final

    def _reap(self) -> None:
        self._process.join(10)
        if self._process.is_alive():
            self._process.terminate()
            self._process.join(5)
        if self._process.is_alive():
            self._process.kill()
            self._process.join(5)
        self._conn.close()

    def _receive(self, timeout: float, what: str) -> tuple[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._conn.poll(0.2):
                try:
                    return self._conn.recv()
                except EOFError:
                    break
            if not self._process.is_alive():
                break
        alive = self._process.is_alive()
        raise ControllerProcessError(
            f"controller process {'did not answer' if alive else 'died'} during {what} "
            f"(exit code {self._process.exitcode}){self._log_tail()}")

    def _log_tail(self, lines: int = 15) -> str:
        if not self.spec.log_path or not Path(self.spec.log_path).exists():
            return ""
        tail = Path(self.spec.log_path).read_text(errors="replace").splitlines()[-lines:]
        return "\n  log tail:\n    " + "\n    ".join(tail) if tail else ""

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
