"""Writes to a load balancer's children (listeners, pools, members, health monitors),
one method per Octavia call, mixed into `SimCloud`.

Every write passes the cloud's front door (`_admit_write`: token bucket, latency), then
under the lock finds the load balancer the child belongs to, refuses with 404 or 409
as Octavia does (`_writable_lb`: immutable while PENDING_*), applies the change and
makes the load balancer PENDING_UPDATE for `update_seconds` (`_touch`). The `_add_*`
helpers also build the tree of a fully-populated create.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from benchmarks.simmodel import ConflictError, LBRecord, NotFoundError


class ChildWrites:
    """Needs the state and plumbing of `SimCloud` (declared here for the type checker)."""

    _lock: threading.Lock
    _listeners: dict[str, dict[str, Any]]
    _pools: dict[str, dict[str, Any]]
    _members: dict[str, dict[str, dict[str, Any]]]
    _monitors: dict[str, dict[str, Any]]

    def _new_id(self, kind: str) -> str: ...
    def _admit_write(self, op: str) -> None: ...
    def _count_write(self, op: str, result: str = "ok") -> None: ...
    def _writable_lb(self, lb_id: str, op: str, now: float) -> LBRecord: ...
    def _touch(self, lb: LBRecord, now: float) -> None: ...
    def _child_lb(self, op: str, table: dict[str, dict[str, Any]], child_id: str,
                  now: float) -> tuple[dict[str, Any], LBRecord]: ...

    def _add_listener(self, lb: LBRecord, body: dict[str, Any]) -> dict[str, Any]:
        for other in lb.listeners:
            if self._listeners[other]["protocol_port"] == body["protocol_port"] and \
                    self._listeners[other]["protocol"] == body["protocol"]:
                raise ConflictError(f"duplicate listener {body['protocol']}/{body['protocol_port']}")
        listener = {"id": self._new_id("listener"), "lb_id": lb.id, "name": body["name"],
                    "protocol": body["protocol"], "protocol_port": body["protocol_port"],
                    "allowed_cidrs": list(body.get("allowed_cidrs", ())),
                    "default_pool_id": None}
        self._listeners[listener["id"]] = listener
        lb.listeners.append(listener["id"])
        if body.get("default_pool") is not None:
            self._add_pool(lb, listener, body["default_pool"])
        return listener

    def _add_pool(self, lb: LBRecord, listener: dict[str, Any], body: dict[str, Any]) -> dict[str, Any]:
        pool = {"id": self._new_id("pool"), "lb_id": lb.id, "listener_id": listener["id"],
                "name": body["name"], "protocol": body["protocol"], "healthmonitor_id": None}
        self._pools[pool["id"]] = pool
        self._members[pool["id"]] = {}
        listener["default_pool_id"] = pool["id"]
        for member in body.get("members", ()):
            self._add_member(pool["id"], member)
        if body.get("healthmonitor") is not None:
            self._add_monitor(lb, pool, body["healthmonitor"])
        return pool

    def _add_member(self, pool_id: str, body: dict[str, Any]) -> dict[str, Any]:
        member = {"id": self._new_id("member"), "name": body["name"], "address": body["address"],
                  "protocol_port": body["protocol_port"]}
        self._members[pool_id][member["id"]] = member
        return member

    def _add_monitor(self, lb: LBRecord, pool: dict[str, Any], body: dict[str, Any]) -> dict[str, Any]:
        monitor = {"id": self._new_id("monitor"), "lb_id": lb.id, "pool_id": pool["id"],
                   **{k: body[k] for k in ("type", "port", "url_path", "delay", "timeout",
                                           "max_retries")}}
        self._monitors[monitor["id"]] = monitor
        pool["healthmonitor_id"] = monitor["id"]
        return monitor

    def create_listener(self, lb_id: str, body: dict[str, Any]) -> dict[str, Any]:
        op = "create_listener"
        self._admit_write(op)
        now = time.monotonic()
        with self._lock:
            lb = self._writable_lb(lb_id, op, now)
            try:
                listener = self._add_listener(lb, body)
            except ConflictError:
                self._count_write(op, "conflict")
                raise
            self._touch(lb, now)
            self._count_write(op)
            return dict(listener)

    def update_listener(self, listener_id: str, *, allowed_cidrs: list[str]) -> None:
        op = "update_listener"
        self._admit_write(op)
        now = time.monotonic()
        with self._lock:
            listener, lb = self._child_lb(op, self._listeners, listener_id, now)
            listener["allowed_cidrs"] = list(allowed_cidrs)
            self._touch(lb, now)
            self._count_write(op)

    def delete_listener(self, listener_id: str) -> None:
        """Deletes the listener with its pool, members and monitor (one call)."""
        op = "delete_listener"
        self._admit_write(op)
        now = time.monotonic()
        with self._lock:
            listener, lb = self._child_lb(op, self._listeners, listener_id, now)
            self._drop_pool(listener["default_pool_id"])
            lb.listeners.remove(listener_id)
            del self._listeners[listener_id]
            self._touch(lb, now)
            self._count_write(op)

    def create_pool(self, listener_id: str, body: dict[str, Any]) -> dict[str, Any]:
        op = "create_pool"
        self._admit_write(op)
        now = time.monotonic()
        with self._lock:
            listener, lb = self._child_lb(op, self._listeners, listener_id, now)
            pool = self._add_pool(lb, listener, body)
            self._touch(lb, now)
            self._count_write(op)
            return dict(pool)

    def create_member(self, pool_id: str, body: dict[str, Any]) -> dict[str, Any]:
        op = "create_member"
        self._admit_write(op)
        now = time.monotonic()
        with self._lock:
            _, lb = self._child_lb(op, self._pools, pool_id, now)
            member = self._add_member(pool_id, body)
            self._touch(lb, now)
            self._count_write(op)
            return dict(member)

    def delete_member(self, pool_id: str, member_id: str) -> None:
        op = "delete_member"
        self._admit_write(op)
        now = time.monotonic()
        with self._lock:
            _, lb = self._child_lb(op, self._pools, pool_id, now)
            if self._members[pool_id].pop(member_id, None) is None:
                self._count_write(op, "not_found")
                raise NotFoundError(f"{op}: member {member_id} not found")
            self._touch(lb, now)
            self._count_write(op)

    def batch_update_members(self, pool_id: str, members: list[dict[str, Any]]) -> None:
        """Replace the pool's members with `members` in one call (Octavia's PUT members)."""
        op = "batch_update_members"
        self._admit_write(op)
        now = time.monotonic()
        with self._lock:
            _, lb = self._child_lb(op, self._pools, pool_id, now)
            self._members[pool_id] = {}
            for member in members:
                self._add_member(pool_id, member)
            self._touch(lb, now)
            self._count_write(op)

    def create_monitor(self, pool_id: str, body: dict[str, Any]) -> dict[str, Any]:
        op = "create_monitor"
        self._admit_write(op)
        now = time.monotonic()
        with self._lock:
            pool, lb = self._child_lb(op, self._pools, pool_id, now)
            monitor = self._add_monitor(lb, pool, body)
            self._touch(lb, now)
            self._count_write(op)
            return dict(monitor)

    def update_monitor(self, monitor_id: str, body: dict[str, Any]) -> None:
        op = "update_monitor"
        self._admit_write(op)
        now = time.monotonic()
        with self._lock:
            monitor, lb = self._child_lb(op, self._monitors, monitor_id, now)
            monitor.update({k: body[k] for k in ("type", "port", "url_path", "delay",
                                                 "timeout", "max_retries") if k in body})
            self._touch(lb, now)
            self._count_write(op)
