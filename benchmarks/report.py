"""Output: the terminal table, the side-by-side comparison, the JSON file, the chart.

The sequential model runs on fewer Services (`--n-sequential`) because it is slow by
design; one worker doing one load balancer at a time is linear in N, so its figures
are extrapolated to cloud-lb's N for the ratio, and labelled as such: the time to the
first load balancer (start-up, debounce: paid once) plus the measured time per load
balancer after it, `first + (last - first) * (N - 1) / (n - 1)`.
"""

from __future__ import annotations

import json
import platform
from pathlib import Path
from typing import Any

from benchmarks.results import CallSummary, ScenarioResult
from benchmarks.simcloud import CloudSettings


def _num(value: float | None, fmt: str = "{:.1f}") -> str:
    return "—" if value is None else fmt.format(value)


def table(results: list[ScenarioResult]) -> str:
    head = ("scenario", "mode", "N", "wall s", "mutating", "/LB", "reads", "/LB", "throttled",
            "bound s", "wall/bound", "peak RSS MB", "CPU s")
    rows = [head]
    for r in results:
        rows.append((
            r.scenario, r.mode, str(r.n), _num(r.wall_seconds) if r.converged else
            f"— ({r.done}/{r.n})", str(r.calls.mutating), _num(r.per_lb(r.calls.mutating), "{:.2f}"),
            str(r.calls.reads), _num(r.per_lb(r.calls.reads), "{:.1f}"), str(r.calls.throttled),
            f"{_num(r.bound_seconds)} {r.bound_kind}",
            _num(r.ratio, "{:.2f}") if r.bound_kind in ("rate", "provisioning") else "n/a",
            _num(r.peak_rss_mb, "{:.0f}"), _num(r.cpu_seconds)))
    return _render(rows)


def comparison(results: list[ScenarioResult]) -> list[dict[str, Any]]:
    """cloud-lb's wall time next to the sequential model's, extrapolated to the same N."""
    ours = {r.scenario: r for r in results if r.mode == "cloud-lb"}
    out = []
    for seq in (r for r in results if r.mode == "sequential"):
        mine = ours.get(seq.scenario)
        if mine is None or not mine.converged or not seq.converged or not seq.n:
            continue
        assert mine.wall_seconds is not None and seq.wall_seconds is not None
        extrapolated = extrapolate(seq, mine.n)
        out.append({"scenario": seq.scenario, "n": mine.n, "cloud_lb_s": mine.wall_seconds,
                    "sequential_n": seq.n, "sequential_s": seq.wall_seconds,
                    "sequential_at_n_s": extrapolated,
                    "speedup": extrapolated / mine.wall_seconds if mine.wall_seconds else None,
                    "cloud_lb_mutating_per_lb": mine.per_lb(mine.calls.mutating),
                    "sequential_mutating_per_lb": seq.per_lb(seq.calls.mutating)})
    return out


def _spread(result: ScenarioResult) -> tuple[float, float] | None:
    """(first, last) completion time of the scenario's load balancers."""
    for key in ("time_to_address", "reconciled", "deleted"):
        got = result.details.get(key)
        if got and "first" in got:
            return got["first"], got["last"]
    return None


def extrapolate(result: ScenarioResult, n: int) -> float:
    """The wall time of a linear (one-at-a-time) run at `n` load balancers."""
    assert result.wall_seconds is not None
    spread = _spread(result)
    if spread is None or result.n < 2:
        return result.wall_seconds * n / max(result.n, 1)
    first, last = spread
    return first + (last - first) * (n - 1) / (result.n - 1)


def comparison_table(rows: list[dict[str, Any]]) -> str:
    if not rows:
        return ""
    out = [("scenario", "N", "cloud-lb s", "sequential s (n)", "sequential at N s*",
            "speedup", "writes/LB ours", "writes/LB seq")]
    for c in rows:
        out.append((c["scenario"], str(c["n"]), _num(c["cloud_lb_s"]),
                    f"{_num(c['sequential_s'])} ({c['sequential_n']})",
                    _num(c["sequential_at_n_s"], "{:.0f}"), _num(c["speedup"], "{:.0f}x"),
                    _num(c["cloud_lb_mutating_per_lb"], "{:.2f}"),
                    _num(c["sequential_mutating_per_lb"], "{:.2f}")))
    return _render(out) + "\n* extrapolated from n: time to the first load balancer + the " \
                          "measured time per load balancer x (N - 1)"


def _render(rows: list[tuple[str, ...]]) -> str:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(cell.rjust(w) if i > 1 else cell.ljust(w)
                       for i, (cell, w) in enumerate(zip(row, widths, strict=True)))
             for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def load_json(path: Path) -> tuple[list[ScenarioResult], dict[str, Any]]:
    """The results and options of a run written by `write_json`."""
    payload = json.loads(path.read_text(encoding="utf-8"))
    results = []
    for record in payload["scenarios"]:
        fields = {k: record[k] for k in ScenarioResult.__dataclass_fields__ if k in record}
        fields["calls"] = CallSummary(**record["calls"])
        results.append(ScenarioResult(**fields))
    return results, payload.get("options", {})


def machine() -> dict[str, Any]:
    import os
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="replace") as info:
            cpu = next((line.split(":", 1)[1].strip() for line in info
                        if line.startswith("model name")), cpu)
    except OSError:
        pass
    return {"python": platform.python_version(), "platform": platform.platform(),
            "cpu": cpu, "cpus": os.cpu_count()}


def write_json(path: Path, results: list[ScenarioResult], *, options: dict[str, Any]) -> None:
    payload = {"machine": machine(), "options": options,
               "scenarios": [r.to_json() for r in results],
               "comparison": comparison(results)}
    path.write_text(json.dumps(payload, indent=2, default=str) + "\n", encoding="utf-8")


def chart(path: Path, results: list[ScenarioResult], settings: CloudSettings | None) -> bool:
    """Time to address over N for both modes, with the rate-limit bound when the cloud
    is the simulated one (`settings`); False when there is no cold start to draw."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    colds = [r for r in results if r.scenario == "cold-start" and r.details.get("curve")]
    if not colds:
        return False
    top = max(r.n for r in colds)
    fig, ax = plt.subplots(figsize=(8, 5), dpi=110)
    styles = {"cloud-lb": ("tab:blue", "cloud-lb"), "sequential": ("tab:red", "sequential model")}
    for r in colds:
        color, label = styles.get(r.mode, ("tab:gray", r.mode))
        xs = [p[0] for p in r.details["curve"]]
        ys = [p[1] for p in r.details["curve"]]
        ax.plot(xs, ys, color=color, label=f"{label}, measured (N={r.n}, {r.workers} worker"
                                           f"{'s' if r.workers != 1 else ''})")
        if r.n < top and xs and r.converged:
            ax.plot([xs[-1], top], [ys[-1], extrapolate(r, top)], color=color,
                    linestyle="--", label=f"{label}, extrapolated")
    if settings is not None:
        ks = list(range(1, top + 1))
        tail = settings.write_latency + settings.provision_seconds
        ax.plot(ks, [max(0, k - settings.burst) / settings.rate + tail for k in ks],
                color="black", linestyle=":",
                label=f"bound: {settings.rate:g} writes/s, burst {settings.burst}, "
                      f"{settings.provision_seconds:g} s provisioning")
    ax.set_xlabel("LoadBalancer Services with an address")
    ax.set_ylabel("seconds since the first Service was created")
    ax.set_yscale("log")
    provider = colds[0].provider
    ax.set_title("Time to address, cold start ("
                 + ("simulated Octavia-like cloud" if provider == "sim" else provider) + ")")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return True
