"""`cloud-lb demo --ingress` runs to the end with real HTTP and HTTPS routed by host and
path, as a newcomer runs it."""

from __future__ import annotations

import subprocess
import sys


def test_the_ingress_demo_routes_by_host_and_path_over_http_and_https() -> None:
    result = subprocess.run([sys.executable, "-m", "cloud_lb.cli", "demo", "--ingress"],
                            capture_output=True, text=True, timeout=120)
    out = result.stdout
    assert result.returncode == 0, out + result.stderr
    # in order: the same request is shown again after the redirect is turned on
    lines = [line.split("] ", 1)[1].strip() for line in out.splitlines() if "] " in line]

    def answer(prefix: str) -> str:
        """The first answer to this request."""
        return next(line for line in lines if line.startswith(prefix))

    assert "service=default/coffee" in answer("GET http://cafe.example/coffee ->")
    assert "service=default/coffee" in answer("GET http://cafe.example/coffee/espresso ->")
    assert "service=default/tea" in answer("GET http://cafe.example/tea ->")
    assert "service=default/tea" in answer("GET http://tea.example/green ->")
    assert "404" in answer("GET http://cafe.example/cake ->")
    assert "service=default/coffee" in answer("GET https://cafe.example/coffee ->")
    assert "new serial" in out and "same address" in out
    assert "308 Location: https://cafe.example:8443/tea" in out
    assert "the address no longer answers" in out and "demo finished" in out


def test_the_ingress_demo_needs_the_local_provider() -> None:
    result = subprocess.run([sys.executable, "-m", "cloud_lb.cli", "demo", "--ingress",
                             "--provider", "aws"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert "local provider only" in result.stdout
