"""CI smoke: the quick benchmark (N=50, the default simulated cloud: 30 ms reads, 80 ms
writes, 2 s provisioning, 20 writes/s) in the cloud-lb mode, asserting counts only:

- cold start: one fully-populated create per load balancer, every Service addressed;
- restart (a new controller process) and an unchanged resync: 0 mutating calls;
- node churn, join and leave: one batch call per pool and nothing else;
- update storm: one listener update per load balancer; delete: one delete each;
- the cloud agrees (member counts, allow-lists, nothing left), checked by the harness;
- the table, JSON and chart are produced from the results.

Never a wall-clock assertion: the machine decides those.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from benchmarks import report, targets
from benchmarks.results import ScenarioResult
from benchmarks.runner import Bench, BenchOptions
from benchmarks.simcloud import CloudSettings

N = 50


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> dict[str, ScenarioResult]:
    options = BenchOptions(n=N, modes=("cloud-lb",), timeout=120.0,
                           scenarios=("cold-start", "restart", "resync", "node-churn",
                                      "update-storm", "delete"),
                           workdir=tmp_path_factory.mktemp("bench"))
    ran = Bench(options, say=lambda _: None).run()
    return {r.scenario: r for r in ran}


def _writes(result: ScenarioResult) -> dict[str, int]:
    return {op: n for op, n in result.calls.by_operation.items() if ":" not in op
            and not op.startswith(("find_", "get_", "list_"))}


def test_every_scenario_converged_and_the_cloud_agrees(results) -> None:
    assert sorted(results) == sorted(["cold-start", "restart", "resync", "node-churn/add",
                                      "node-churn/remove", "update-storm", "delete"])
    for result in results.values():
        assert result.converged, (result.scenario, result.done, result.notes)
        assert result.done == N


def test_cold_start_is_one_create_per_load_balancer(results) -> None:
    assert _writes(results["cold-start"]) == {"create_load_balancer": N}


def test_restart_and_unchanged_resync_make_no_mutating_call(results) -> None:
    for name in ("restart", "resync"):
        assert results[name].calls.mutating == 0, results[name].calls.by_operation
        assert results[name].calls.reads > 0  # every load balancer was really verified


def test_node_churn_is_one_batch_call_per_pool(results) -> None:
    for step in ("add", "remove"):
        result = results[f"node-churn/{step}"]
        assert _writes(result) == {"batch_update_members": N}
        assert result.details["calls_per_pool"] == 1.0


def test_update_storm_and_delete_are_one_write_each(results) -> None:
    assert _writes(results["update-storm"]) == {"update_listener": N}
    assert _writes(results["delete"]) == {"delete_load_balancer": N}


def test_count_targets_are_met_and_outputs_are_written(results, tmp_path: Path) -> None:
    ran = list(results.values())
    checks = {c.target: c for c in targets.check(ran)}
    for target, check in checks.items():
        if "0 mutating" in target or "batch call" in target:
            assert check.met, (target, check.value)
    assert "cold-start" in report.table(ran)
    report.write_json(tmp_path / "out.json", ran, options={"n": N})
    written = json.loads((tmp_path / "out.json").read_text())
    assert [s["scenario"] for s in written["scenarios"]] == [r.scenario for r in ran]
    assert report.chart(tmp_path / "chart.png", ran, CloudSettings())
    assert (tmp_path / "chart.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
