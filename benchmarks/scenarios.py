"""The scenario sequence of one mode, on N LoadBalancer Services:

1. cold start   N new Services → every one has an address (tracker), controller idle;
2. restart      the controller process stopped and a new one started with N load
                balancers in sync → every key reconciled (`synced`) with 0 mutating calls;
3. resync       the periodic drift check, triggered now → N keys, 0 mutating calls;
4. node churn   one node joins, then leaves → N keys updated; calls per pool;
5. update storm `loadBalancerSourceRanges` changed on all N at once;
6. delete       all N deleted → every Service gone (finalizer released).

Each step marks the controller's tally, snapshots its call counts, acts through the
API like a user or a kubelet, waits by counts, and checks the cloud afterwards when
the cloud can be inspected (`sim`): pools hold the expected members, allow-lists the
expected CIDRs, no load balancer left after delete. A failed check is a note on the
result and marks it not converged, so a fast wrong answer never looks good.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from benchmarks.results import ScenarioResult
from benchmarks.runner import ModeContext
from benchmarks.simrender import lb_name
from benchmarks.tracker import wait_for
from cloud_lb.model import LBRef, ObjectKind

STORM_RANGES = ["10.0.0.0/8", "192.168.0.0/16"]
# the batch member operations of each cloud, as the providers record them
MEMBER_BATCH_OPS = ("batch_update_members", "RegisterTargets", "addInstances",
                    "removeInstances", "set_backends")


def run_mode(env: Any, mode: str) -> list[ScenarioResult]:
    ctx = ModeContext(env, mode)
    wanted = env.options.scenarios
    results: list[ScenarioResult] = []
    steps: list[tuple[str, Callable[[ModeContext], list[ScenarioResult]]]] = [
        ("restart", restart), ("resync", resync), ("node-churn", node_churn),
        ("update-storm", update_storm)]
    env.say(f"[{mode}] {ctx.n} LoadBalancer Services, {ctx.nodes} nodes, "
            f"{env.runtime(mode)['workers']} worker(s)")
    try:
        ctx.start()
        results.extend(cold_start(ctx))
        for name, step in steps:
            if name in wanted and results[-1].converged:
                results.extend(step(ctx))
        deleted = delete_all(ctx)  # always: the next mode starts from an empty cloud
        if "delete" in wanted:
            results.extend(deleted)
    finally:
        ctx.stop()
    return results


# -- helpers ---------------------------------------------------------------------------------
def percentiles(times: list[float]) -> dict[str, float]:
    if not times:
        return {}
    def at(q: float) -> float:
        return times[min(len(times) - 1, int(q * len(times)))]
    return {"first": times[0], "p50": at(0.5), "p90": at(0.9), "p99": at(0.99),
            "last": times[-1]}


def curve(times: list[float], points: int = 80) -> list[list[float]]:
    """[k, seconds until k Services were done], sampled to about `points` entries."""
    if not times:
        return []
    step = max(1, len(times) // points)
    sampled = [[i + 1, t] for i, t in enumerate(times) if (i + 1) % step == 0]
    if sampled[-1][0] != len(times):
        sampled.append([len(times), times[-1]])
    return [[1, times[0]], *sampled]


def _lb_names(ctx: ModeContext) -> list[str]:
    return [lb_name(LBRef("bench", ObjectKind.SERVICE, "default", name, "x"))
            for name in ctx.names]


def check_members(ctx: ModeContext, expected: int) -> list[str]:
    if ctx.env.cloud.pool_members is None:
        return []
    members = ctx.env.cloud.pool_members()
    wrong = [n for n in _lb_names(ctx) if len(members.get(n, [])) != expected]
    return [f"{len(wrong)} load balancers without {expected} members (e.g. {wrong[0]})"] \
        if wrong else []


def _finish(ctx: ModeContext, scenario: str, result: str, started: float,
            before: list[list[Any]], **details: Any) -> ScenarioResult:
    assert ctx.proc is not None
    ok = ctx.wait_reconciled(result, ctx.n)
    times = [t - started for t in ctx.proc.call("times", result)]
    after = ctx.stats()
    return ctx.result(scenario, started=started, finished=started + times[-1] if ok and times
                      else None, done=len(times), before=before, after=after,
                      details={"reconciled": percentiles(times), **details})


def _checked(result: ScenarioResult, problems: list[str]) -> list[ScenarioResult]:
    if problems:
        result.notes.extend(problems)
        result.converged = False
    return [result]


# -- the scenarios -----------------------------------------------------------------------------
def cold_start(ctx: ModeContext) -> list[ScenarioResult]:
    assert ctx.proc is not None
    env = ctx.env
    before = ctx.mark()
    started = env.driver.create_services(ctx.names)
    ok = wait_for(lambda: env.tracker.count_addressed(ctx.keys) >= ctx.n,
                  timeout=env.options.timeout)
    times = env.tracker.times(ctx.keys, started)
    ctx.wait_idle(60)
    after = ctx.stats()
    result = ctx.result("cold-start", started=started,
                        finished=started + times[-1] if ok else None, done=len(times),
                        before=before, after=after,
                        details={"time_to_address": percentiles(times), "curve": curve(times),
                                 "stages_rss_mb": {k: v / 2**20 for k, v in
                                                   after["stages"].items()}})
    return _checked(result, check_members(ctx, ctx.nodes))


def restart(ctx: ModeContext) -> list[ScenarioResult]:
    ctx.stop()
    ctx.mark_cloud()
    started = time.monotonic()
    proc = ctx.start()  # a new process: its tally and recorder start empty
    result = _finish(ctx, "restart", "synced", started, [],
                     informer_sync_s=proc.ready_info["synced_seconds"],
                     ready_s=time.monotonic() - started)
    return [result]


def resync(ctx: ModeContext) -> list[ScenarioResult]:
    assert ctx.proc is not None
    before = ctx.mark()
    started = time.monotonic()
    ctx.proc.call("resync")
    return [_finish(ctx, "resync", "synced", started, before)]


def node_churn(ctx: ModeContext) -> list[ScenarioResult]:
    assert ctx.proc is not None
    env = ctx.env
    spare = env.nodes[-1]
    out: list[ScenarioResult] = []
    for step, act, members in (
            ("add", lambda: env.driver.create_nodes([spare]), ctx.nodes + 1),
            ("remove", lambda: env.driver.delete_nodes([spare.name]), ctx.nodes)):
        before = ctx.mark()
        started = act()
        result = _finish(ctx, f"node-churn/{step}", "synced", started, before)
        pools = ctx.n  # one port per Service: one listener, one pool
        result.details["calls_per_pool"] = result.calls.mutating / pools
        batches = sum(n for op, n in result.calls.by_operation.items()
                      if op.endswith(MEMBER_BATCH_OPS))
        result.details["batch_calls_per_pool"] = batches / pools
        result.details["other_writes"] = result.calls.mutating - batches
        out.extend(_checked(result, check_members(ctx, members)))
        if not result.converged:
            break
    return out


def update_storm(ctx: ModeContext) -> list[ScenarioResult]:
    assert ctx.proc is not None
    env = ctx.env
    before = ctx.mark()
    started = env.driver.set_source_ranges(ctx.names, STORM_RANGES)
    result = _finish(ctx, "update-storm", "synced", started, before)
    problems: list[str] = []
    if env.cloud.listener_cidrs is not None:
        cidrs = env.cloud.listener_cidrs()
        want = [sorted(STORM_RANGES)]
        wrong = [n for n in _lb_names(ctx) if [sorted(c) for c in cidrs.get(n, [])] != want]
        if wrong:
            problems.append(f"{len(wrong)} load balancers without the new allow-list")
    return _checked(result, problems)


def delete_all(ctx: ModeContext) -> list[ScenarioResult]:
    assert ctx.proc is not None
    env = ctx.env
    before = ctx.mark()
    started = env.driver.delete_services(ctx.names)
    ok = wait_for(lambda: env.tracker.count_deleted(ctx.keys) >= ctx.n,
                  timeout=env.options.timeout)
    times = env.tracker.times(ctx.keys, started, deleted=True)
    ctx.wait_idle(60)
    after = ctx.stats()
    result = ctx.result("delete", started=started, finished=started + times[-1] if ok else None,
                        done=len(times), before=before, after=after,
                        details={"deleted": percentiles(times)})
    problems: list[str] = []
    if env.cloud.pool_members is not None:
        # deletion is asynchronous in the cloud: give it its delete time, then count
        ours = set(_lb_names(ctx))
        wait_for(lambda: not ours & set(env.cloud.pool_members()),
                 timeout=env.options.cloud.delete_seconds + 10)
        left = ours & set(env.cloud.pool_members())
        if left:
            problems.append(f"{len(left)} load balancers left in the cloud")
    return _checked(result, problems)
