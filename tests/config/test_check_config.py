"""`cloud-lb check-config FILE`: a summary with secrets masked (exit 0), or each problem
naming its field (exit 1). In-process through `cloud_lb.cli.main`, and once as a real
subprocess of the installed entry point."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from cloud_lb.cli import main

from .conftest import SECRET


def write(tmp_path: Path, text: str) -> str:
    path = tmp_path / "cloud-lb.yaml"
    path.write_text(text)
    return str(path)


def test_a_valid_file_prints_a_summary_with_secrets_masked(tmp_path: Path,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, f"""
clusterName: prod-1
provider: vault
vault: {{authUrl: "https://id.example/v3", password: "{SECRET}"}}
controller: {{workers: 8, loadBalancerClass: cloud-lb.io/vault, manageUnclassed: false}}
""")
    assert main(["check-config", path, "--show"]) == 0
    out = capsys.readouterr().out
    assert f"{path}: OK" in out
    for expected in ("cluster:             prod-1", "provider:            vault",
                     "workers:             8", "cloud-lb.io/vault (unclassed Services managed: no)",
                     "authUrl: https://id.example/v3", "password: '**********'",
                     "effective config:", "resyncPeriod: 10m"):
        assert expected in out
    assert SECRET not in out


def test_an_invalid_file_names_each_field_and_exits_1(tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, f"clusterName: c\ncontroller: {{workers: 0}}\nprovider: vault\n"
                           f"vault: {{password: {SECRET}}}\n")
    assert main(["check-config", path]) == 1
    out = capsys.readouterr().out
    assert out.splitlines() == [
        f"{path}: invalid config",
        "  controller.workers: must be >= 1 (line 2)",
        "  vault.authUrl: is required (line 4)",
    ]


def test_a_missing_file_is_an_error_not_a_traceback(tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check-config", str(tmp_path / "nope.yaml")]) == 1
    assert "(file): cannot read" in capsys.readouterr().out


def test_the_installed_command_runs_as_a_subprocess(tmp_path: Path) -> None:
    good = write(tmp_path, "clusterName: sub\nlocal: {addressPool: 127.242.0.0/24}\n")
    run = subprocess.run([sys.executable, "-m", "cloud_lb.cli", "check-config", good],
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "cluster:             sub" in run.stdout and "addressPool: 127.242.0.0/24" in run.stdout
    bad = tmp_path / "bad.yaml"
    bad.write_text("clusterName: sub\nmetrics: {address: nowhere}\n")
    run = subprocess.run([sys.executable, "-m", "cloud_lb.cli", "check-config", str(bad)],
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 1
    assert "metrics.address: 'nowhere' is not host:port" in run.stdout
