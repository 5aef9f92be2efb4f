"""`cloud-lb run` as a child process, the way a pod runs it: its own interpreter, a
config file, a kubeconfig, metrics on 127.0.0.1:0 (the chosen port is read from the
"metrics listening on ..." line on stdout), JSON logs to a file kept for failure
messages. Signals are real (SIGTERM, SIGKILL)."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from tests.observability.scraping import Scrape, http_get, scrape

URL_LINE = re.compile(r"metrics listening on (http://\S+)")


def wait_until(predicate: Callable[[], Any], timeout: float, interval: float = 0.05,
               message: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {message}")
        time.sleep(interval)


def write_config(path: Path, *, state_dir: Path, address_pool: str,
                 lease: tuple[str, str, str] = ("3s", "2s", "0.5s"),
                 extra: dict[str, Any] | None = None) -> Path:
    """A `local` provider config with leader election on and test-short timings."""
    duration, renew, retry = lease
    config: dict[str, Any] = {
        "clusterName": "test",
        "provider": "local",
        "local": {"stateDir": str(state_dir), "addressPool": address_pool,
                  "healthCheck": {"intervalSeconds": 0.2, "timeoutSeconds": 0.2,
                                  "healthyThreshold": 1, "unhealthyThreshold": 1}},
        "controller": {"workers": 2, "nodeSyncDebounce": "0.1s"},
        "rateLimit": {"backoffBase": "0.2s", "backoffMax": "2s"},
        "logging": {"level": "INFO", "format": "json"},
        "leaderElection": {"enabled": True, "leaseName": "cloud-lb",
                           "leaseNamespace": "kube-system", "leaseDuration": duration,
                           "renewDeadline": renew, "retryPeriod": retry},
        **(extra or {}),
    }
    path.write_text(yaml.safe_dump(config))
    return path


class RunProcess:
    def __init__(self, *, config: Path, kubeconfig: str, log_path: Path,
                 args: tuple[str, ...] = ()) -> None:
        self.log_path = log_path
        self._log = log_path.open("w")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "cloud_lb.cli", "run", "--config", str(config),
             "--kubeconfig", kubeconfig, "--metrics-address", "127.0.0.1:0", *args],
            stdout=subprocess.PIPE, stderr=self._log, text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"})
        self.identity = f"{socket.gethostname()}_{self.proc.pid}"
        self._url: str | None = None
        self._url_seen = threading.Event()
        self._reader = threading.Thread(target=self._read_stdout, daemon=True,
                                        name=f"stdout-{self.proc.pid}")
        self._reader.start()

    def _read_stdout(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            match = URL_LINE.search(line)
            if match and self._url is None:
                self._url = match.group(1)
                self._url_seen.set()
        self._url_seen.set()  # exited: unblock waiters

    @property
    def url(self) -> str:
        if not self._url_seen.wait(30) or self._url is None:
            raise AssertionError(f"no metrics URL from pid {self.proc.pid}:\n{self.logs()}")
        return self._url

    def get(self, path: str) -> tuple[int, str]:
        status, _, body = http_get(self.url + path)
        return status, body

    def metrics(self) -> Scrape:
        return scrape(self.url)

    def ready(self) -> bool:
        return self.get("/readyz")[0] == 200

    @property
    def alive(self) -> bool:
        return self.proc.poll() is None

    def kill(self) -> None:
        """SIGKILL: no cleanup at all, as a crashed node or an OOM kill."""
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def terminate(self, timeout: float = 30.0) -> int:
        """SIGTERM, as the kubelet sends; the exit code."""
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout)

    def close(self) -> None:
        if self.alive:
            self.proc.kill()
        self.proc.wait(10)
        self._reader.join(5)
        if self.proc.stdout is not None:
            self.proc.stdout.close()
        self._log.close()

    def logs(self, tail: int | None = 6000) -> str:
        """The process's log (stderr), its last `tail` characters by default."""
        if not self._log.closed:
            self._log.flush()
        text = self.log_path.read_text(errors="replace")
        return text[-tail:] if tail else text
