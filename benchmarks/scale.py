"""The scale scenario: a big cluster watched, a few of its Services LoadBalancers.

With no controller running, the cluster grows to `scale_nodes` Nodes and
`scale_services` Services of which `scale_load_balancers` are LoadBalancers (the rest
ClusterIP, as in real clusters). Then a fresh controller process starts; the clock runs
from its spawn until every LoadBalancer Service has an address and the controller is
idle (steady state). Reported: wall time, CPU seconds of the controller process, its
peak RSS (kernel high-water mark) and RSS at stages (after imports, after the informer
caches synced, at steady state), and a breakdown of the heap by part (`memory`).

It runs in the cloud-lb mode with the `sim` provider only: the real fakes would need a
cloud instance per node, and the sequential model would take hours to build 1,000 load
balancers of 1,000 members one member at a time.
"""

from __future__ import annotations

import time
from typing import Any

from benchmarks.cluster import NAMESPACE, NodeInfo, node_ip
from benchmarks.results import ScenarioResult
from benchmarks.runner import MB, ModeContext
from benchmarks.scenarios import percentiles
from benchmarks.tracker import wait_for


def run_scale(env: Any) -> ScenarioResult:
    opts = env.options
    ctx = ModeContext(env, "cloud-lb")
    ctx.n = opts.scale_load_balancers
    ctx.nodes = opts.scale_nodes
    lb_names = [f"scale-lb-{i:05d}" for i in range(opts.scale_load_balancers)]
    other = [f"scale-svc-{i:05d}" for i in range(opts.scale_services - len(lb_names))]
    ctx.names, ctx.keys = lb_names, [f"{NAMESPACE}/{n}" for n in lb_names]
    if env.cloud.provider != "sim":
        env.say("scale runs with --provider sim only: skipped")
        return _skipped(ctx, "scale needs the sim provider")

    registered = opts.nodes
    extra = [NodeInfo(f"node-{i:04d}", node_ip(i)) for i in range(registered + 1,
                                                                  opts.scale_nodes + 1)]
    env.say(f"[scale] registering {len(extra)} more nodes and {opts.scale_services} Services "
            f"({len(lb_names)} LoadBalancer) with no controller running")
    setup = time.monotonic()
    env.driver.create_nodes(extra)
    env.driver.create_services(other, load_balancer=False)
    env.driver.create_services(lb_names)
    env.say(f"[scale] cluster populated in {time.monotonic() - setup:.0f} s; starting the "
            f"controller")

    ctx.mark_cloud()
    started = time.monotonic()
    proc = ctx.start()
    try:
        ok = wait_for(lambda: env.tracker.count_addressed(ctx.keys) >= ctx.n,
                      timeout=opts.timeout)
        ok = ok and ctx.wait_idle(120)
        times = env.tracker.times(ctx.keys, started)
        steady = ctx.stats()  # before the heap walk below, which costs CPU itself
        timeline = proc.call("timeline")
        memory = proc.call("memory", timeout=600)
        result = ctx.result(
            "scale", started=started, finished=started + times[-1] if ok and times else None,
            done=len(times), before=[], after=steady, details={
                "services": opts.scale_services, "load_balancers": len(lb_names),
                "nodes": opts.scale_nodes, "informer_sync_s": proc.ready_info["synced_seconds"],
                "time_to_address": percentiles(times),
                "stages_rss_mb": {k: v / MB for k, v in steady["stages"].items()},
                "steady_rss_mb": steady["rss"] / MB,
                "rss_timeline_mb": [[round(t - started, 1), round(b / MB, 1)]
                                    for t, b in timeline][::4],
                "heap_parts_mb": {k: v / MB for k, v in memory["parts"].items()},
                "cached": memory["counts"]})
    finally:
        ctx.stop()
    return result


def _skipped(ctx: ModeContext, why: str) -> ScenarioResult:
    from benchmarks.results import CallSummary
    return ScenarioResult(scenario="scale", mode=ctx.mode, provider=ctx.env.cloud.provider,
                          n=ctx.n, nodes=ctx.nodes, workers=0, wall_seconds=None, done=0,
                          converged=False, calls=CallSummary(), notes=[why])
