"""Crash consistency: SIGKILL after every mutating cloud call, for every provider.

See `tests/reliability/crash.py` for the scenario and what is asserted. CI runs every
crash point of a create, an update and a delete of the smallest Service (one port, two
nodes); `CLOUD_LB_FULL=1` uses a larger Service (two ports, three nodes) so there are
more points.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from cloud_lb.testing.crashpoints import CRASH_ENV
from tests.reliability import crash
from tests.reliability.conftest import WorldFactory
from tests.reliability.processes import Controllers, wait_until
from tests.reliability.worlds import PROVIDERS


@pytest.mark.timeout(900)
@pytest.mark.parametrize("phase", crash.PHASES)
@pytest.mark.parametrize("provider", PROVIDERS)
def test_every_crash_point_recovers_without_leaks(provider: str, phase: str,
                                                  worlds: WorldFactory,
                                                  controllers: Controllers,
                                                  record_property: pytest.RecordProperty) -> None:
    with worlds(provider, nodes=crash.NODES) as world:
        calls, expected = crash.clean_run(world, controllers, phase)
    assert calls, f"a {phase} on {provider} made no mutating call"
    if phase != "delete":
        assert expected.resources, "the clean run left no resource to compare"
    record_property("crash_points", len(calls))
    print(f"{provider} {phase}: {len(calls)} crash points: {', '.join(calls)}")
    for i in range(1, len(calls) + 1):
        with worlds(provider, nodes=crash.NODES) as world:
            crash.crash_and_recover(world, controllers, phase, i, expected)


def test_crash_point_in_a_fresh_interpreter(worlds: WorldFactory, tmp_path: Path) -> None:
    """The hook works in a plain `python -m cloud_lb.cli run` too (no fork server)."""
    with worlds("local") as world:
        world.create_service(crash.SERVICE)
        config = world.config_file()
        log = (tmp_path / "fresh.log").open("wb")
        env = {**os.environ, CRASH_ENV: "1"}
        proc = subprocess.Popen([sys.executable, "-m", "cloud_lb.cli", "run", "--config", config,
                                 "--kubeconfig", world.kube.kubeconfig,
                                 "--metrics-address", "off"],
                                env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            assert proc.wait(120) == -signal.SIGKILL
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            log.close()
        assert "crash point reached n=1" in (tmp_path / "fresh.log").read_text()
        # and a fork-server controller finishes the job
        procs = Controllers(tmp_path)
        try:
            procs.start(config, world.kube.kubeconfig)
            wait_until(lambda: crash.converged(world, "create"), 60, "recovery")
        finally:
            procs.close()
