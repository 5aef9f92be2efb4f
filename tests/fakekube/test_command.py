"""`cloud-lb fake-kube` as a subprocess, driven with the official client."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from kubernetes import client as k8s
from kubernetes import config, watch


def _wait_for(path: Path, proc: subprocess.Popen) -> None:
    deadline = time.monotonic() + 30
    while not path.exists():
        assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
        assert time.monotonic() < deadline, "the kubeconfig never appeared"
        time.sleep(0.05)


def test_fake_kube_command_serves_until_sigterm(tmp_path: Path) -> None:
    kubeconfig = tmp_path / "kubeconfig"
    proc = subprocess.Popen(
        [sys.executable, "-m", "cloud_lb.cli", "fake-kube", "--listen", "127.0.0.1:0",
         "--kubeconfig", str(kubeconfig), "--bookmark-interval", "0.5"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        _wait_for(kubeconfig, proc)
        api_client = config.new_client_from_config(config_file=str(kubeconfig))
        core = k8s.CoreV1Api(api_client)
        core.create_node({"metadata": {"name": "node-1"}})
        assert [n.metadata.name for n in core.list_node().items] == ["node-1"]
        services = core.list_service_for_all_namespaces()
        assert [s.metadata.name for s in services.items] == ["kubernetes"]
        events = []
        w = watch.Watch()
        for event in w.stream(core.list_service_for_all_namespaces, timeout_seconds=5,
                              allow_watch_bookmarks=True,
                              resource_version=services.metadata.resource_version):
            events.append(event["type"])
            if event["type"] == "BOOKMARK":
                w.stop()
        assert events == ["BOOKMARK"]
        api_client.close()
    finally:
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert "fake Kubernetes API server is up" in out
    assert f"kubeconfig: {kubeconfig}" in out
    assert "stopping the fake API server" in out


def test_bad_listen_address_is_a_usage_error(capsys) -> None:  # noqa: ANN001
    from cloud_lb.cli import main

    assert main(["fake-kube", "--listen", "nowhere"]) == 2
    assert "--listen 'nowhere': expected HOST:PORT" in capsys.readouterr().err
