"""`cloud-lb run` as a separate process that a test can SIGKILL.

Starting a fresh interpreter costs seconds here (the cloud SDKs are heavy to import),
and the crash suite starts hundreds of controllers. So controllers are forked by the
standard library's multiprocessing *forkserver*: one clean server process (started with
no threads) imports cloud-lb and every provider once, then forks a child per
controller. Each child is a full, separate process running `cloud_lb.cli.main(["run",
...])` exactly as the `cloud-lb` entry point does, with its own environment and its
stdout/stderr in a log file; SIGKILL kills it like any other process. One test
(`test_crash_consistency.py::test_crash_point_in_a_fresh_interpreter`) also runs the
plain `python -m cloud_lb.cli run` to prove nothing depends on the fork.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import sys
import time
from collections.abc import Callable
from multiprocessing.context import BaseContext
from pathlib import Path
from typing import Any

PRELOAD = ["cloud_lb.cli", "cloud_lb.commands.run", "cloud_lb.commands.wiring",
           "cloud_lb.controller.manager", "cloud_lb.testing.crashpoints",
           "providers.local.provider", "providers.openstack.provider",
           "providers.aws.provider", "providers.gcp.provider", "kubernetes.client",
           "tests.reliability.processes", "tests.reliability.warm"]

_context: BaseContext | None = None


def _ctx() -> BaseContext:
    global _context
    if _context is None:
        ctx = multiprocessing.get_context("forkserver")
        ctx.set_forkserver_preload(PRELOAD)
        _context = ctx
    return _context


def _child(argv: list[str], env: dict[str, str], log_path: str) -> None:
    """The controller process: output to `log_path`, then exactly the CLI."""
    fd = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    os.close(fd)
    for key in [k for k in os.environ if k.startswith("CLOUD_LB_TEST_")]:
        del os.environ[key]  # nothing inherited from whoever started the fork server
    os.environ.update(env)
    from cloud_lb.cli import main

    code = main(argv)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


class Controller:
    """One `cloud-lb run` child. `stop()` is SIGTERM (graceful), `kill()` SIGKILL."""

    def __init__(self, argv: list[str], env: dict[str, str], log_path: Path) -> None:
        self.argv = argv
        self.log_path = log_path
        self.process = _ctx().Process(target=_child, args=(argv, env, str(log_path)),
                                      daemon=True)
        self.process.start()

    @property
    def pid(self) -> int:
        assert self.process.pid is not None
        return self.process.pid

    def alive(self) -> bool:
        return self.process.is_alive()

    def wait(self, timeout: float) -> int | None:
        """The exit code (negative: killed by that signal), or None if still running."""
        self.process.join(timeout)
        return self.process.exitcode

    def stop(self, timeout: float = 30.0) -> int | None:
        if self.process.is_alive():
            os.kill(self.pid, signal.SIGTERM)
        code = self.wait(timeout)
        if code is None:
            self.kill()
        return code

    def kill(self) -> int | None:
        if self.process.is_alive():
            self.process.kill()
        return self.wait(10)

    def wait_started(self, timeout: float = 60.0) -> None:
        """Until the controller runs its workers (signal handlers are set by then)."""
        wait_until(lambda: "controller started" in self.log() or not self.alive(), timeout,
                   "the controller to start", on_timeout=self.log)
        assert self.alive(), f"the controller exited: {self.wait(1)}\n{self.log()}"

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""


class Controllers:
    """Starts controllers for one test and makes sure none outlives it."""

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.started: list[Controller] = []

    def start(self, config: str, kubeconfig: str, *, env: dict[str, str] | None = None,
              extra_args: list[str] | None = None, name: str = "run") -> Controller:
        log_path = self.tmp / f"{name}-{len(self.started)}.log"
        argv = ["run", "--config", config, "--kubeconfig", kubeconfig,
                "--metrics-address", "off", *(extra_args or [])]
        controller = Controller(argv, dict(env or {}), log_path)
        self.started.append(controller)
        return controller

    def command(self, argv: list[str], *, env: dict[str, str] | None = None,
                name: str = "cmd", timeout: float = 60.0) -> tuple[int | None, str]:
        """Any `cloud-lb` command in its own process: (exit code, stdout + stderr)."""
        log_path = self.tmp / f"{name}-{len(self.started)}.log"
        proc = Controller(argv, dict(env or {}), log_path)
        self.started.append(proc)
        code = proc.wait(timeout)
        return code, proc.log()

    def close(self) -> None:
        for controller in self.started:
            controller.kill()


def wait_until(predicate: Callable[[], Any], timeout: float, message: str,
               interval: float = 0.05, on_timeout: Callable[[], str] | None = None) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            extra = f"\n{on_timeout()}" if on_timeout else ""
            raise AssertionError(f"timed out after {timeout}s waiting for {message}{extra}")
        time.sleep(interval)
