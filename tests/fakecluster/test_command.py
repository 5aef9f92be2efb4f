"""`cloud-lb fake-cluster` as a user runs it: a subprocess, a kubeconfig, SIGTERM."""

from __future__ import annotations

import queue
import re
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from kubernetes import client as k8s
from kubernetes import config as k8s_config

from cloud_lb.commands.fake_cluster import parse_listen

from .conftest import health, refused

STARTUP_TIMEOUT = 60


def read_until(proc: subprocess.Popen[str], marker: str) -> list[str]:
    """Lines of stdout up to the one containing `marker`, read on a helper thread so that
    a hung child fails the test instead of hanging it."""
    lines: queue.Queue[str | None] = queue.Queue()

    def pump() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.put(line)
        lines.put(None)

    threading.Thread(target=pump, daemon=True).start()
    seen: list[str] = []
    while True:
        try:
            line = lines.get(timeout=STARTUP_TIMEOUT)
        except queue.Empty:
            raise AssertionError(f"no {marker!r} in output: {seen}") from None
        if line is None:
            raise AssertionError(f"exited before {marker!r}: {seen}")
        seen.append(line)
        if marker in line:
            return seen


def test_fake_cluster_command_serves_nodes_until_sigterm(tmp_path: Path) -> None:
    kubeconfig = tmp_path / "kubeconfig"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "cloud_lb.cli",
            "fake-cluster",
            "--nodes",
            "2",
            "--kubeconfig",
            str(kubeconfig),
            "--node-subnet",
            "auto",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        output = read_until(proc, "Ctrl-C")
        nodes = dict(re.findall(r"^\s+(node-\d+)\s+(\S+)\s*$", "".join(output), re.MULTILINE))
        assert list(nodes) == ["node-1", "node-2"]
        assert f"kubeconfig:  {kubeconfig}" in "".join(output)

        api_client = k8s_config.new_client_from_config(config_file=str(kubeconfig))
        listed = k8s.CoreV1Api(api_client).list_node()
        api_client.close()
        assert sorted(n.metadata.name for n in listed.items) == ["node-1", "node-2"]
        for ip in nodes.values():
            assert health(ip, 10256)[0] == 200
    finally:
        proc.send_signal(signal.SIGTERM)
        _, stderr = proc.communicate(timeout=30)
    assert proc.returncode == 0, stderr
    assert all(refused(ip, 10256) for ip in nodes.values())


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("127.0.0.1:0", ("127.0.0.1", 0)),
        ("[::1]:6443", ("::1", 6443)),
        ("localhost:8080", ("localhost", 8080)),
    ],
)
def test_listen_address_parses(value: str, expected: tuple[str, int]) -> None:
    assert parse_listen(value) == expected


@pytest.mark.parametrize("value", ["127.0.0.1", ":80", "host:http", "h:70000"])
def test_bad_listen_address_is_refused_with_the_expected_form(value: str) -> None:
    with pytest.raises(ValueError, match="HOST:PORT"):
        parse_listen(value)
