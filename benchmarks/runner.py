"""The benchmark environment and the helpers every scenario uses.

`Bench.run()` starts the fake API server, the Service tracker and the cloud, registers
the nodes, then runs each mode's scenario sequence (`scenarios.run_mode`) and the scale
scenario (`scale.run_scale`), and returns one `ScenarioResult` per scenario and mode.

A `ModeContext` is one mode's view: its Service names, its controller settings, how to
start its controller process, and how to wait for convergence. Waiting is by counts
(addresses in the tracker, keys reconciled in the controller's tally), never by sleeping
a guessed time; every wait has a timeout and a timed-out scenario is reported as not
converged with how far it got.
"""

from __future__ import annotations

import logging
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmarks.bounds import scenario_bound
from benchmarks.child import ChildSpec
from benchmarks.clouds import CloudHandle, open_cloud
from benchmarks.cluster import NAMESPACE, KubeDriver, NodeInfo, node_ip
from benchmarks.procs import ControllerProcess
from benchmarks.results import CallRows, CallSummary, ScenarioResult, call_delta
from benchmarks.simcloud import CloudSettings
from benchmarks.tracker import ServiceTracker, wait_for

log = logging.getLogger(__name__)

SCENARIOS = ("cold-start", "restart", "resync", "node-churn", "update-storm", "delete", "scale")
MODES = ("cloud-lb", "sequential")
CLUSTER = "bench"
MB = 1024 * 1024


@dataclass(frozen=True)
class BenchOptions:
    n: int = 1000
    n_sequential: int = 20
    nodes: int = 3
    provider: str = "sim"
    modes: tuple[str, ...] = MODES
    scenarios: tuple[str, ...] = SCENARIOS
    workers: int = 4
    cloud: CloudSettings = field(default_factory=CloudSettings)
    scale_services: int = 10_000
    scale_nodes: int = 1_000
    scale_load_balancers: int = 1_000
    timeout: float = 900.0
    experiments: tuple[str, ...] = ()
    provider_overrides: dict[str, Any] = field(default_factory=dict)
    log_level: str = "warning"
    workdir: Path | None = None


class Bench:
    def __init__(self, options: BenchOptions, say: Callable[[str], None] = print) -> None:
        self.options = options
        self.say = say
        self.results: list[ScenarioResult] = []

    def run(self) -> list[ScenarioResult]:
        from benchmarks.scale import run_scale
        from benchmarks.scenarios import run_mode
        from cloud_lb.testing.fakekube import running_fake_kube

        opts = self.options
        with tempfile.TemporaryDirectory(prefix="cloud-lb-bench-") as tmp, \
                running_fake_kube(history_size=100_000) as kube:
            workdir = opts.workdir or Path(tmp)
            loopback = opts.provider == "local"
            nodes = [NodeInfo(f"node-{i:04d}", node_ip(i, loopback=loopback))
                     for i in range(opts.nodes + 1)]  # the last one joins in node churn
            driver = KubeDriver(kube.api_client(pool_size=16))
            tracker = ServiceTracker(kube.api_client()).start()
            try:
                with open_cloud(opts.provider, nodes, settings=opts.cloud,
                                workdir=workdir) as cloud:
                    nodes = [NodeInfo(n.name, n.ip, cloud.provider_ids.get(n.name))
                             for n in nodes]
                    env = Env(options=opts, kubeconfig=kube.kubeconfig, driver=driver,
                              tracker=tracker, cloud=cloud, nodes=nodes, workdir=workdir,
                              say=self.say)
                    driver.create_nodes(nodes[:-1])
                    self.say(f"fake cluster up: {opts.nodes} nodes, provider {opts.provider}"
                             + (f" ({cloud.note})" if cloud.note else ""))
                    for mode in opts.modes:
                        if mode == "sequential" and opts.provider != "sim":
                            self.say("sequential mode needs --provider sim: skipped")
                            continue
                        if set(opts.scenarios) - {"scale"}:
                            self.results.extend(run_mode(env, mode))
                    if "scale" in opts.scenarios:
                        self.results.append(run_scale(env))
            finally:
                tracker.stop()
                driver.close()
        return self.results


@dataclass
class Env:
    """What the scenarios share: the cluster, the cloud, the options."""

    options: BenchOptions
    kubeconfig: str
    driver: KubeDriver
    tracker: ServiceTracker
    cloud: CloudHandle
    nodes: list[NodeInfo]  # the last one is the churn node, not registered at first
    workdir: Path
    say: Callable[[str], None]
    _spawned: int = 0

    def runtime(self, mode: str) -> dict[str, Any]:
        # no periodic resync or node sync during a run: scenarios trigger them
        return {"workers": 1 if mode == "sequential" else self.options.workers,
                "resync_period": 1e6, "node_sync_period": 1e6, "node_sync_debounce": 1.0}

    def spawn(self, mode: str) -> ControllerProcess:
        self._spawned += 1
        spec = ChildSpec(
            kubeconfig=self.kubeconfig, cluster_name=CLUSTER, provider=self.cloud.provider,
            provider_config={**self.cloud.config_for(mode), **self.options.provider_overrides},
            runtime=self.runtime(mode),
            env=self.cloud.env, log_path=str(self.workdir / f"controller-{self._spawned}.log"),
            log_level=self.options.log_level, experiments=self.options.experiments)
        return ControllerProcess(spec).start()


class ModeContext:
    """One mode's run: names, the controller process, measuring one step."""

    def __init__(self, env: Env, mode: str) -> None:
        self.env = env
        self.mode = mode
        self.n = env.options.n if mode == "cloud-lb" else env.options.n_sequential
        prefix = "lb" if mode == "cloud-lb" else "seq"
        self.names = [f"{prefix}-{i:05d}" for i in range(self.n)]
        self.keys = [f"{NAMESPACE}/{name}" for name in self.names]
        self.proc: ControllerProcess | None = None
        self.nodes = env.options.nodes
        self._cloud_before: CallRows | None = None

    def start(self) -> ControllerProcess:
        self.proc = self.env.spawn(self.mode)
        return self.proc

    def stop(self) -> dict[str, Any] | None:
        proc, self.proc = self.proc, None
        return proc.stop() if proc is not None else None

    def stats(self) -> dict[str, Any]:
        assert self.proc is not None
        return self.proc.stats()

    def mark(self) -> CallRows:
        """Start measuring a step: the controller's tally restarts; the calls so far (of
        the controller, and of the cloud when it counts its own) are the baseline."""
        self.mark_cloud()
        assert self.proc is not None
        return self.proc.mark()["calls"]

    def mark_cloud(self) -> None:
        self._cloud_before = self.env.cloud.stats()["calls"] if self.env.cloud.stats else None

    def wait_reconciled(self, result: str, count: int, *, timeout: float | None = None) -> bool:
        """Until `count` distinct keys reached `result` since the mark, then idle."""
        timeout = timeout or self.env.options.timeout
        deadline = time.monotonic() + timeout
        done = wait_for(lambda: self.stats()["tally"].get(result, 0) >= count, timeout=timeout)
        return done and self.wait_idle(max(1.0, deadline - time.monotonic()))

    def wait_idle(self, timeout: float) -> bool:
        """Idle on two polls in a row (a requeue after a write may be in flight)."""
        streak = [0]

        def idle() -> bool:
            streak[0] = streak[0] + 1 if self.stats()["idle"] else 0
            return streak[0] >= 2
        return wait_for(idle, timeout=timeout, interval=0.25)

    def result(self, scenario: str, *, started: float, finished: float | None, done: int,
               before: CallRows, after: dict[str, Any], n: int | None = None,
               details: dict[str, Any] | None = None) -> ScenarioResult:
        n = self.n if n is None else n
        calls = CallSummary.of(call_delta(before, after["calls"]))
        bound = scenario_bound(scenario, calls.mutating, self.env.cloud.bound,
                               rate_limited=self.env.cloud.rate_limited) \
            if self.env.cloud.bound is not None else None
        converged = finished is not None and done >= n
        details = dict(details or {})
        if self._cloud_before is not None and self.env.cloud.stats is not None:
            # the cloud's own count of the writes it accepted, against the controller's
            served = CallSummary.of(call_delta(self._cloud_before, self.env.cloud.stats()["calls"]))
            details["cloud_counted"] = {"mutating": served.mutating, "reads": served.reads,
                                        "throttled": served.throttled}
        wall = (finished - started) if finished is not None else None
        out = ScenarioResult(
            scenario=scenario, mode=self.mode, provider=self.env.cloud.provider, n=n,
            nodes=self.nodes, workers=self.env.runtime(self.mode)["workers"],
            wall_seconds=wall if converged else None, done=done, converged=converged,
            calls=calls, bound_seconds=bound.seconds if bound else None,
            bound_kind=bound.kind if bound else "",
            peak_rss_mb=after["peak_rss"] / MB, rss_mb=after["rss"] / MB,
            cpu_seconds=after["cpu"], details=details)
        if "cloud_counted" in details and details["cloud_counted"]["mutating"] != calls.mutating:
            out.notes.append(f"the cloud accepted {details['cloud_counted']['mutating']} writes, "
                             f"the controller recorded {calls.mutating}")
            out.converged = False
        took = f"{wall:.1f} s" if wall is not None else "n/a"
        self.env.say(f"[{self.mode}] {scenario}: {done}/{n} in {took}, "
                     f"{calls.mutating} mutating, {calls.reads} reads, "
                     f"{calls.throttled} throttled"
                     + ("" if converged else "  NOT CONVERGED"))
        return out
