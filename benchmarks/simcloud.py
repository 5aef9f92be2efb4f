"""A simulated Octavia-like cloud, and the `sim` provider plugin that talks to it.

The cloud keeps load balancers with listeners, pools, members and health monitors,
and behaves like the part of Octavia that decides how fast a controller can go:

- every call costs latency (default 30 ms reads, 80 ms writes), slept outside the lock
  so concurrent callers overlap as they would over a network;
- provisioning is asynchronous: a new load balancer is PENDING_CREATE for
  `provision_seconds` (default 2 s), every later write makes it PENDING_UPDATE for
  `update_seconds` (default 1 s), a delete PENDING_DELETE for `delete_seconds`; a
  write to a load balancer that is not ACTIVE is refused with 409, as Octavia's
  "immutable while pending" is;
- mutating calls pass a token bucket (default 20/s, burst 40) checked on arrival; an
  empty bucket answers a throttling error (429) at read latency;
- both creation styles exist: fully populated (one call for the whole tree) and step
  by step (load balancer, listener, pool, member, monitor), and members can be set per
  pool in one batch call or one call each.

It runs in a process of its own (`simserver.serve_cloud`), so it survives controller
restarts and its memory is not counted as the controller's. Its vocabulary (states,
errors, settings) is in `simmodel`, the writes to listeners, pools, members and
monitors in `simchildren`; this module re-exports what callers use.

`SIM_PLUGIN` is a `ProviderPlugin` used directly by the harness (deliberately not an
entry point: it is a benchmark instrument, not something to deploy).
"""

from __future__ import annotations

import itertools
import threading
import time
from collections import Counter
from typing import Any

from benchmarks.simchildren import ChildWrites
from benchmarks.simmodel import (
    ACTIVE,
    PENDING_CREATE,
    PENDING_DELETE,
    PENDING_UPDATE,
    Bucket,
    CloudSettings,
    ConflictError,
    LBRecord,
    NotFoundError,
    SimCloudError,
    ThrottledError,
)
from cloud_lb.provider import LoadBalancerProvider, ProviderContext, ProviderPlugin

__all__ = ["ACTIVE", "PENDING_CREATE", "PENDING_DELETE", "PENDING_UPDATE", "SIM_PLUGIN",
           "CloudSettings", "ConflictError", "NotFoundError", "SimCloud", "SimCloudError",
           "ThrottledError"]


class SimCloud(ChildWrites):
    """The cloud's state and API. Thread safe; every public method is one API call."""

    def __init__(self, settings: CloudSettings | None = None) -> None:
        self.settings = settings or CloudSettings()
        self._lock = threading.Lock()
        self._bucket = Bucket(self.settings.rate, self.settings.burst)
        self._ids = itertools.count(1)
        self._vips = itertools.count(1)
        self._lbs: dict[str, LBRecord] = {}
        self._listeners: dict[str, dict[str, Any]] = {}
        self._pools: dict[str, dict[str, Any]] = {}
        self._members: dict[str, dict[str, dict[str, Any]]] = {}  # pool id -> member id -> m
        self._monitors: dict[str, dict[str, Any]] = {}
        self._calls: Counter[tuple[str, bool, str]] = Counter()

    # -- plumbing --------------------------------------------------------------------------
    def _new_id(self, kind: str) -> str:
        return f"{kind}-{next(self._ids):07d}"

    def _new_vip(self) -> str:
        n = next(self._vips)  # 198.18.0.0/15 is reserved for benchmarks (RFC 2544)
        return f"198.{18 + (n >> 16) % 2}.{(n >> 8) & 255}.{n & 255}"

    def _read(self, op: str) -> None:
        time.sleep(self.settings.read_latency)
        with self._lock:
            self._calls[(op, False, "ok")] += 1

    def _admit_write(self, op: str) -> None:
        if not self._bucket.take():
            time.sleep(self.settings.read_latency)  # a throttle answers fast
            with self._lock:
                self._calls[(op, True, "throttled")] += 1
            raise ThrottledError(f"{op}: rate limit exceeded ({self.settings.rate:g}/s)")
        time.sleep(self.settings.write_latency)

    def _count_write(self, op: str, result: str = "ok") -> None:
        self._calls[(op, True, result)] += 1  # under self._lock

    def _status(self, lb: LBRecord, now: float) -> str:
        if now < lb.busy_until:
            return {"create": PENDING_CREATE, "update": PENDING_UPDATE,
                    "delete": PENDING_DELETE}[lb.busy_kind]
        return ACTIVE

    def _sweep(self, now: float) -> None:
        """Forget load balancers whose deletion finished (lazily, under the lock)."""
        for lb in [lb for lb in self._lbs.values()
                   if lb.busy_kind == "delete" and now >= lb.busy_until]:
            self._drop(lb)

    def _drop(self, lb: LBRecord) -> None:
        for listener_id in lb.listeners:
            listener = self._listeners.pop(listener_id)
            self._drop_pool(listener["default_pool_id"])
        del self._lbs[lb.id]

    def _drop_pool(self, pool_id: str | None) -> None:
        if pool_id is None:
            return
        pool = self._pools.pop(pool_id)
        self._members.pop(pool_id, None)
        if pool["healthmonitor_id"]:
            self._monitors.pop(pool["healthmonitor_id"], None)

    def _lb_view(self, lb: LBRecord, now: float) -> dict[str, Any]:
        return {"id": lb.id, "name": lb.name, "tags": list(lb.tags), "vip_address": lb.vip,
                "provisioning_status": self._status(lb, now)}

    def _writable_lb(self, lb_id: str, op: str, now: float) -> LBRecord:
        """The load balancer a child write goes to; 404 or 409 as Octavia answers."""
        lb = self._lbs.get(lb_id)
        if lb is None:
            self._count_write(op, "not_found")
            raise NotFoundError(f"{op}: load balancer {lb_id} not found")
        status = self._status(lb, now)
        if status != ACTIVE:
            self._count_write(op, "conflict")
            raise ConflictError(f"{op}: load balancer {lb_id} is immutable while {status}")
        return lb

    def _touch(self, lb: LBRecord, now: float) -> None:
        lb.busy_until, lb.busy_kind = now + self.settings.update_seconds, "update"

    def _child_lb(self, op: str, table: dict[str, dict[str, Any]], child_id: str,
                  now: float) -> tuple[dict[str, Any], LBRecord]:
        child = table.get(child_id)
        if child is None:
            self._count_write(op, "not_found")
            raise NotFoundError(f"{op}: {child_id} not found")
        return child, self._writable_lb(child["lb_id"], op, now)

    # -- reads -------------------------------------------------------------------------------
    def find_load_balancers(self, *, name: str | None = None,
                            tag: str | None = None) -> list[dict[str, Any]]:
        self._read("list_load_balancers")
        now = time.monotonic()
        with self._lock:
            self._sweep(now)
            return [self._lb_view(lb, now) for lb in self._lbs.values()
                    if (name is None or lb.name == name) and (tag is None or tag in lb.tags)]

    def get_load_balancer(self, lb_id: str) -> dict[str, Any] | None:
        self._read("get_load_balancer")
        now = time.monotonic()
        with self._lock:
            self._sweep(now)
            lb = self._lbs.get(lb_id)
            return None if lb is None else self._lb_view(lb, now)

    def list_listeners(self, lb_id: str) -> list[dict[str, Any]]:
        self._read("list_listeners")
        with self._lock:
            lb = self._lbs.get(lb_id)
            return [dict(self._listeners[i]) for i in lb.listeners] if lb else []

    def list_pools(self, lb_id: str) -> list[dict[str, Any]]:
        self._read("list_pools")
        with self._lock:
            return [dict(p) for p in self._pools.values() if p["lb_id"] == lb_id]

    def list_members(self, pool_id: str) -> list[dict[str, Any]]:
        self._read("list_members")
        with self._lock:
            return [dict(m) for m in self._members.get(pool_id, {}).values()]

    def list_monitors(self, lb_id: str) -> list[dict[str, Any]]:
        self._read("list_monitors")
        with self._lock:
            return [dict(m) for m in self._monitors.values() if m["lb_id"] == lb_id]

    # -- writes: load balancers ---------------------------------------------------------------
    def create_load_balancer(self, body: dict[str, Any]) -> dict[str, Any]:
        """`body`: name, tags and optionally `listeners` (fully-populated create: each
        listener may carry `default_pool` with `members` and `healthmonitor`)."""
        op = "create_load_balancer"
        self._admit_write(op)
        now = time.monotonic()
        with self._lock:
            self._sweep(now)
            if any(lb.name == body["name"] for lb in self._lbs.values()
                   if lb.busy_kind != "delete"):
                # Octavia allows duplicate names; the providers never create twice, and
                # refusing makes a double create visible in the counts instead of hidden
                self._count_write(op, "conflict")
                raise ConflictError(f"{op}: a load balancer named {body['name']} exists")
            lb = LBRecord(id=self._new_id("lb"), name=body["name"], tags=tuple(body.get("tags", ())),
                     vip=self._new_vip(), busy_until=now + self.settings.provision_seconds,
                     busy_kind="create")
            self._lbs[lb.id] = lb
            for listener in body.get("listeners", ()):
                self._add_listener(lb, listener)
            self._count_write(op)
            return self._lb_view(lb, now)

    def delete_load_balancer(self, lb_id: str, *, cascade: bool = True) -> None:
        op = "delete_load_balancer"
        self._admit_write(op)
        now = time.monotonic()
        with self._lock:
            lb = self._writable_lb(lb_id, op, now)
            if lb.listeners and not cascade:
                self._count_write(op, "conflict")
                raise ConflictError(f"{op}: load balancer {lb_id} still has listeners")
            lb.busy_until, lb.busy_kind = now + self.settings.delete_seconds, "delete"
            self._count_write(op)

    # -- for the harness (not cloud API calls: free, uncounted) ---------------------------------
    def stats(self) -> dict[str, Any]:
        """What the cloud served, by (operation, mutating, result), and what it holds."""
        now = time.monotonic()
        with self._lock:
            self._sweep(now)
            states = Counter(self._status(lb, now) for lb in self._lbs.values())
            member_counts = Counter(len(m) for m in self._members.values())
            return {"calls": [[op, mut, res, n] for (op, mut, res), n in self._calls.items()],
                    "load_balancers": len(self._lbs), "states": dict(states),
                    "pools": len(self._pools), "members_per_pool": dict(member_counts)}

    def pool_members(self) -> dict[str, list[str]]:
        """Load balancer name → sorted member names of its pools (for verification)."""
        with self._lock:
            self._sweep(time.monotonic())
            out: dict[str, list[str]] = {}
            for pool in self._pools.values():
                names = sorted(m["name"] for m in self._members[pool["id"]].values())
                out.setdefault(self._lbs[pool["lb_id"]].name, []).extend(names)
            return out

    def listener_cidrs(self) -> dict[str, list[list[str]]]:
        with self._lock:
            self._sweep(time.monotonic())
            return {lb.name: [self._listeners[i]["allowed_cidrs"] for i in lb.listeners]
                    for lb in self._lbs.values()}


# -- the provider plugin ---------------------------------------------------------------------
def _factory(config: Any, context: ProviderContext) -> LoadBalancerProvider:
    # imported here: both provider modules import this one (errors, status names)
    from benchmarks.simprovider import SimProvider
    from benchmarks.simupstream import UpstreamSimProvider

    if config.mode == "sequential":
        return UpstreamSimProvider(config, context)
    return SimProvider(config, context)


def _config_model() -> Any:
    from benchmarks.simconfig import SimProviderConfig
    return SimProviderConfig


SIM_PLUGIN = ProviderPlugin(name="sim", config_model=_config_model(), factory=_factory,
                            description="simulated Octavia-like cloud (benchmarks only)")
