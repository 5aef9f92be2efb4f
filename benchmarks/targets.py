"""The targets of issue 10, checked against a run's results (printed, and in the JSON).

Counts are hard targets everywhere; times depend on the machine and are reported as
met or missed, never asserted by the CI smoke test.
"""

from __future__ import annotations

from dataclasses import dataclass

from benchmarks.report import comparison
from benchmarks.results import ScenarioResult


@dataclass(frozen=True)
class Check:
    target: str
    value: str
    met: bool | None  # None: not measured in this run


def _first(results: list[ScenarioResult], scenario: str, mode: str = "cloud-lb"
           ) -> ScenarioResult | None:
    return next((r for r in results if r.scenario == scenario and r.mode == mode), None)


def check(results: list[ScenarioResult]) -> list[Check]:
    out: list[Check] = []
    cold = _first(results, "cold-start")
    if cold is not None:
        if cold.bound_kind == "rate" or not cold.converged:
            out.append(Check("cold start <= 1.2 x rate-limit bound",
                             f"{cold.ratio:.2f} x" if cold.ratio else "not converged",
                             cold.ratio is not None and cold.ratio <= 1.2))
        else:  # too few load balancers (or no rate limit) for the rate to be the limit
            out.append(Check("cold start <= 1.2 x rate-limit bound",
                             f"{_ratio(cold)} of a {cold.bound_kind or 'unknown'} bound: the "
                             f"rate limit is not what limits this run", None))
    speed = next((c for c in comparison(results) if c["scenario"] == "cold-start"), None)
    if speed is not None and speed["speedup"]:
        out.append(Check(">= 10 x faster than the sequential model (cold start)",
                         f"{speed['speedup']:.0f} x", speed["speedup"] >= 10))
    restart = _first(results, "restart")
    if restart is not None:
        out.append(Check("restart: 0 mutating calls", str(restart.calls.mutating),
                         restart.converged and restart.calls.mutating == 0))
        out.append(Check(f"restart: under 60 s (N={restart.n})",
                         f"{restart.wall_seconds:.1f} s" if restart.wall_seconds else "—",
                         restart.wall_seconds is not None and restart.wall_seconds < 60))
    resync = _first(results, "resync")
    if resync is not None:
        out.append(Check("unchanged resync: 0 mutating calls", str(resync.calls.mutating),
                         resync.converged and resync.calls.mutating == 0))
    for step in ("add", "remove"):
        churn = _first(results, f"node-churn/{step}")
        if churn is not None:
            per_pool = churn.details.get("calls_per_pool")
            # at most one call per pool, every one a batch member update (a cloud whose
            # member sets are shared between load balancers, as GCP's instance groups
            # are, needs fewer than one per pool)
            out.append(Check(f"node churn ({step}): one batch call per pool",
                             f"{per_pool:.2f} calls/pool" if per_pool is not None else "—",
                             churn.converged and per_pool is not None and 0 < per_pool <= 1.0
                             and churn.details.get("other_writes") == 0))
    scale = _first(results, "scale")
    if scale is not None and scale.peak_rss_mb is not None:
        out.append(Check(f"RSS <= 200 MB at {scale.details.get('services')} Services + "
                         f"{scale.details.get('nodes')} nodes",
                         f"peak {scale.peak_rss_mb:.0f} MB, steady "
                         f"{scale.details.get('steady_rss_mb', 0):.0f} MB",
                         scale.peak_rss_mb <= 200))
    return out


def _ratio(result: ScenarioResult) -> str:
    return f"{result.ratio:.2f} x" if result.ratio is not None else "no"


def render(checks: list[Check]) -> str:
    mark = {True: "met   ", False: "MISSED", None: "—     "}
    return "\n".join(f"  {mark[c.met]}  {c.target}: {c.value}" for c in checks)
