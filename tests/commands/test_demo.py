"""`cloud-lb demo` runs to the end, as a newcomer runs it, with traffic through the LB."""

from __future__ import annotations

import subprocess
import sys

import pytest


def _demo(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "cloud_lb.cli", "demo", *args],
                          capture_output=True, text=True, timeout=120)


def test_the_local_demo_carries_traffic_and_cleans_up() -> None:
    result = _demo()
    out = result.stdout
    assert result.returncode == 0, result.stdout + result.stderr
    assert "external address published in status: 127.240." in out
    answers = [line for line in out.splitlines() if "request" in line and "node=" in line]
    assert {f"node=node-{i}" for i in (1, 2, 3)} <= {w for a in answers for w in a.split()}
    assert "from 127.0.0.2: refused" in out
    local_part = out.split("externalTrafficPolicy: Local")[1].split("deleted Service")[0]
    assert "node=node-3" in local_part and "node=node-1" not in local_part
    assert "load balancer deleted, finalizer released" in out
    assert "now: refused" in out and "demo finished" in out


@pytest.mark.parametrize("provider", ["openstack", "aws", "gcp"])
def test_the_cloud_demos_show_what_they_built(provider: str) -> None:
    result = _demo("--provider", provider)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "external address published in status:" in result.stdout
    assert "load balancer deleted, finalizer released" in result.stdout
