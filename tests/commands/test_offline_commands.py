"""plan, status and gc against a running controller's cluster, through the CLI."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from cloud_lb.cli import main
from tests.controller.conftest import Harness, wait_until


@pytest.fixture
def config_file(harness: Harness, tmp_path: Path) -> str:
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(harness.raw_config))
    return str(path)


def _cli(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    assert main(list(args)) == 0
    return capsys.readouterr().out


def test_status_lists_each_load_balancer_with_address_and_backends(
        harness: Harness, config_file: str, capsys: Any) -> None:
    harness.create_service("web")
    address = harness.address("web")
    harness.settle()
    out = _cli(capsys, "status", "--config", config_file, "--kubeconfig", harness.cluster.kubeconfig)
    header, row = out.splitlines()[:2]
    assert header.split()[:3] == ["NAMESPACE/NAME", "CLASS", "LB"]
    assert row.startswith("default/web") and address in row and "/3" in row


def test_plan_shows_a_pending_change_and_makes_none(harness: Harness, config_file: str,
                                                    capsys: Any) -> None:
    harness.create_service("web")
    harness.address("web")
    harness.settle()
    out = _cli(capsys, "plan", "--config", config_file, "--kubeconfig", harness.cluster.kubeconfig)
    assert "default/web: no changes" in out
    harness.stop()  # no controller: the change stays pending
    harness.patch("web", {"spec": {"loadBalancerSourceRanges": ["10.0.0.0/8"]}})
    out = _cli(capsys, "plan", "--config", config_file, "--kubeconfig", harness.cluster.kubeconfig)
    assert "default/web: 1 change(s)" in out or "change(s)" in out.splitlines()[0]
    assert "no changes" not in out.splitlines()[0]
    # plan changed nothing: the next plan shows the same
    assert _cli(capsys, "plan", "--config", config_file,
                "--kubeconfig", harness.cluster.kubeconfig) == out


def test_gc_reports_orphans_and_deletes_them_only_with_apply(harness: Harness, config_file: str,
                                                              capsys: Any) -> None:
    harness.create_service("lost")
    harness.address("lost")
    harness.settle()
    harness.stop()
    harness.core.patch_namespaced_service("lost", "default", {"metadata": {"finalizers": None}},
                                          _content_type="application/merge-patch+json")
    harness.core.delete_namespaced_service("lost", "default")
    wait_until(lambda: harness.service("lost") is None, message="the Service gone")
    kc = harness.cluster.kubeconfig
    out = _cli(capsys, "gc", "--config", config_file, "--kubeconfig", kc)
    assert "orphan: Service/default/lost" in out and "--apply" in out
    out = _cli(capsys, "gc", "--config", config_file, "--kubeconfig", kc, "--apply")
    assert "deleted: Service/default/lost" in out
    assert "no orphaned load balancers" in _cli(capsys, "gc", "--config", config_file,
                                                 "--kubeconfig", kc)
