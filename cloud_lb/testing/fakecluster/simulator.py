"""The kube-proxy simulator: one event loop that serves every node of the fake cluster.

Three `ListWatch` threads (Nodes, Services, EndpointSlices) hand objects to the loop
with `call_soon_threadsafe`; all state lives in and is changed by the loop thread only,
so the responders read it without locks. After a burst of changes one reconcile pass
diffs `desired_listeners(nodes, services)` against the sockets it holds: it closes what
is no longer wanted (and every connection accepted on it), binds what is new, and
retries binds that failed once a second. A listener whose role changed keeps its socket:
responders look the role up at answer time.

Other threads observe progress through a snapshot guarded by a condition variable,
published after each reconcile: which listeners are bound (with their roles), which
failed and why, and which object versions the simulator has acted on. `wait_until` lets
the cluster's helpers return only once the simulator has caught up with their writes.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from kubernetes import client as k8s

from cloud_lb.testing.fakecluster.endpoints import SliceView, local_endpoints, slice_view
from cloud_lb.testing.fakecluster.listeners import ListenerKey, Role, desired_listeners
from cloud_lb.testing.fakecluster.nodes import NodeView, node_view
from cloud_lb.testing.fakecluster.responders import UdpResponder, handle_tcp
from cloud_lb.testing.fakecluster.services import ServiceKey, ServiceView, service_view
from cloud_lb.testing.fakecluster.watching import ListWatch, Obj

log = logging.getLogger(__name__)

NODE, SERVICE, SLICE = "Node", "Service", "EndpointSlice"
BIND_RETRY_SECONDS = 1.0
ObjectRef = tuple[str, tuple[str, str]]  # (kind, (namespace or "", name))


@dataclass
class Snapshot:
    """What other threads may read (under `Simulator.changed`)."""

    bound: dict[ListenerKey, Role] = field(default_factory=dict)
    failed: dict[ListenerKey, str] = field(default_factory=dict)
    seen: dict[ObjectRef, str] = field(default_factory=dict)  # acted-on resourceVersions
    synced: set[str] = field(default_factory=set)  # kinds listed at least once


@dataclass
class _Listener:
    server: asyncio.AbstractServer | None = None
    transport: asyncio.BaseTransport | None = None
    connections: set[asyncio.StreamWriter] = field(default_factory=set)
    closed: bool = False


def _ref(kind: str, obj: Obj) -> ObjectRef:
    meta = obj.get("metadata") or {}
    namespace = "" if kind == NODE else (meta.get("namespace") or "default")
    return kind, (namespace, str(meta.get("name", "")))


class Simulator:
    def __init__(self, api_client_factory: Callable[[], k8s.ApiClient]) -> None:
        self._clients = [api_client_factory() for _ in range(3)]
        self._watches = [
            ListWatch(NODE, k8s.CoreV1Api(self._clients[0]).list_node, **self._sinks()),
            ListWatch(
                SERVICE,
                k8s.CoreV1Api(self._clients[1]).list_service_for_all_namespaces,
                **self._sinks(),
            ),
            ListWatch(
                SLICE,
                k8s.DiscoveryV1Api(self._clients[2]).list_endpoint_slice_for_all_namespaces,
                **self._sinks(),
            ),
        ]
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._run_loop, name="fakecluster-simulator", daemon=True
        )
        # loop-thread state
        self._nodes: dict[str, NodeView] = {}
        self._services: dict[ServiceKey, ServiceView] = {}
        self._slices: dict[tuple[str, str], SliceView] = {}
        self._local: Counter[tuple[ServiceKey, str]] = Counter()
        self._roles: dict[ListenerKey, Role] = {}
        self._listeners: dict[ListenerKey, _Listener] = {}
        self._failed: dict[ListenerKey, str] = {}
        self._pending_seen: dict[ObjectRef, str | None] = {}
        self._pending_synced: set[str] = set()
        self._reconcile_scheduled = False
        self._retry_handle: asyncio.TimerHandle | None = None
        # cross-thread view
        self.changed = threading.Condition()
        self._snapshot = Snapshot()

    # -- lifecycle (any thread) ------------------------------------------------------
    def start(self, timeout: float = 30.0) -> None:
        self._thread.start()
        for watch in self._watches:
            watch.start()
        self.wait_until(lambda s: s.synced >= {NODE, SERVICE, SLICE}, timeout, "initial lists")

    def stop(self) -> None:
        for watch in self._watches:
            watch.stop()
        if self._thread.is_alive():
            asyncio.run_coroutine_threadsafe(self._close_all(), self._loop).result(timeout=10)
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=10)
        self._loop.close()
        for api_client in self._clients:
            api_client.close()

    def wait_until(self, predicate: Callable[[Snapshot], bool], timeout: float, what: str) -> None:
        """Block until `predicate(snapshot)` holds; a TimeoutError names `what` and any
        bind failure."""
        deadline = time.monotonic() + timeout
        with self.changed:
            while not predicate(self._snapshot):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    failures = "; ".join(
                        f"{k}: {v}" for k, v in sorted(self._snapshot.failed.items())
                    )
                    raise TimeoutError(
                        f"fake cluster simulator did not reach: {what} within {timeout}s"
                        + (f" (bind failures: {failures})" if failures else "")
                    )
                self.changed.wait(remaining)

    def snapshot(self) -> Snapshot:
        with self.changed:
            s = self._snapshot
            return Snapshot(dict(s.bound), dict(s.failed), dict(s.seen), set(s.synced))

    # -- SimState, read by the responders on the loop thread -----------------------
    def role(self, key: ListenerKey) -> Role | None:
        return self._roles.get(key) if key in self._listeners else None

    def local_endpoints(self, service: ServiceKey, node: str) -> int:
        return self._local[(service, node)]

    def node_eligible(self, node: str) -> bool:
        view = self._nodes.get(node)
        return view is not None and view.eligible

    # -- feeding state (watch threads -> loop thread) --------------------------------
    def _sinks(self) -> dict[str, Any]:
        return {"on_list": self._on_list, "on_event": self._on_event}

    def _on_list(self, kind: str, items: list[Obj]) -> None:
        self._loop.call_soon_threadsafe(self._apply_list, kind, items)

    def _on_event(self, kind: str, event: str, obj: Obj) -> None:
        self._loop.call_soon_threadsafe(self._apply_event, kind, event, obj)

    def _table(self, kind: str) -> dict[Any, Any]:
        tables: dict[str, dict[Any, Any]] = {
            NODE: self._nodes,
            SERVICE: self._services,
            SLICE: self._slices,
        }
        return tables[kind]

    def _parse(self, kind: str, obj: Obj) -> tuple[Any, Any]:
        if kind == NODE:
            view = node_view(obj)
            return view.name, view
        if kind == SERVICE:
            service = service_view(obj)
            return service.key, service
        piece = slice_view(obj)
        return piece.key, piece

    def _apply_list(self, kind: str, items: list[Obj]) -> None:
        table = self._table(kind)
        fresh = dict(self._parse(kind, obj) for obj in items)
        for gone in set(table) - set(fresh):
            self._pending_seen[(kind, ("", gone) if kind == NODE else gone)] = None
        table.clear()
        table.update(fresh)
        for obj in items:
            self._pending_seen[_ref(kind, obj)] = str(
                (obj.get("metadata") or {}).get("resourceVersion", "")
            )
        self._pending_synced.add(kind)
        self._schedule_reconcile()

    def _apply_event(self, kind: str, event: str, obj: Obj) -> None:
        key, view = self._parse(kind, obj)
        table = self._table(kind)
        if event == "DELETED":
            table.pop(key, None)
            self._pending_seen[_ref(kind, obj)] = None
        else:
            table[key] = view
            self._pending_seen[_ref(kind, obj)] = view.resource_version
        self._schedule_reconcile()

    def _schedule_reconcile(self) -> None:
        # coalesce a burst of events into one pass
        if not self._reconcile_scheduled:
            self._reconcile_scheduled = True
            self._loop.call_soon(self._reconcile)

    # -- reconcile (loop thread) -------------------------------------------------------
    def _reconcile(self) -> None:
        self._reconcile_scheduled = False
        self._local = local_endpoints(self._slices.values())
        desired, conflicts = desired_listeners(self._nodes.values(), self._services.values())
        for conflict in conflicts:
            log.warning(
                "event=listener_conflict listener=%s kept=%s dropped=%s",
                conflict.key,
                conflict.kept,
                conflict.dropped,
            )
        self._roles = desired
        for key in set(self._listeners) - set(desired):
            self._close(key)
        for key in set(self._failed) - set(desired):
            del self._failed[key]
        for key in sorted(set(desired) - set(self._listeners)):
            self._open(key)
        if self._failed and self._retry_handle is None:
            self._retry_handle = self._loop.call_later(BIND_RETRY_SECONDS, self._retry)
        self._publish()

    def _retry(self) -> None:
        self._retry_handle = None
        self._schedule_reconcile()

    def _open(self, key: ListenerKey) -> None:
        address, protocol, port = key
        family = socket.AF_INET6 if ipaddress.ip_address(address).version == 6 else socket.AF_INET
        kind = socket.SOCK_STREAM if protocol == "TCP" else socket.SOCK_DGRAM
        sock = socket.socket(family, kind)
        try:
            if protocol == "TCP":
                # lets a port come back at once after a close; two *listening* sockets on
                # one address and port are still refused by the kernel
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((address, port))
            if protocol == "TCP":
                sock.listen(128)
            sock.setblocking(False)
        except OSError as exc:
            sock.close()
            if key not in self._failed:
                log.warning(
                    "event=bind_failed listener=%s:%s/%s error=%s", address, port, protocol, exc
                )
            self._failed[key] = str(exc)
            return
        self._failed.pop(key, None)
        listener = _Listener()
        self._listeners[key] = listener
        self._loop.create_task(self._serve(key, listener, sock))
        log.debug(
            "event=listener_bound listener=%s:%s/%s role=%s",
            address,
            port,
            protocol,
            self._roles[key],
        )

    async def _serve(self, key: ListenerKey, listener: _Listener, sock: socket.socket) -> None:
        if self._listeners.get(key) is not listener:  # closed before it started serving
            sock.close()
            return
        if key[1] == "TCP":

            async def on_connection(
                reader: asyncio.StreamReader, writer: asyncio.StreamWriter
            ) -> None:
                if listener.closed:  # accepted just before the close: drop it too
                    writer.close()
                    return
                listener.connections.add(writer)
                try:
                    await handle_tcp(self, key, reader, writer)
                finally:
                    listener.connections.discard(writer)

            listener.server = await asyncio.start_server(on_connection, sock=sock)
        else:
            listener.transport, _ = await self._loop.create_datagram_endpoint(
                lambda: UdpResponder(self, key), sock=sock
            )
        if self._listeners.get(key) is not listener:  # closed while starting
            self._shut(listener)

    def _close(self, key: ListenerKey) -> None:
        listener = self._listeners.pop(key)
        self._shut(listener)
        log.debug("event=listener_closed listener=%s:%s/%s", key[0], key[2], key[1])

    @staticmethod
    def _shut(listener: _Listener) -> None:
        listener.closed = True
        if listener.server is not None:
            listener.server.close()
        if listener.transport is not None:
            listener.transport.close()
        for writer in list(listener.connections):
            writer.close()

    def _publish(self) -> None:
        with self.changed:
            snap = self._snapshot
            snap.bound = {key: self._roles[key] for key in self._listeners}
            snap.failed = dict(self._failed)
            for ref, version in self._pending_seen.items():
                if version is None:
                    snap.seen.pop(ref, None)
                else:
                    snap.seen[ref] = version
            snap.synced |= self._pending_synced
            self.changed.notify_all()
        self._pending_seen.clear()
        self._pending_synced.clear()

    async def _close_all(self) -> None:
        if self._retry_handle is not None:
            self._retry_handle.cancel()
        for key in list(self._listeners):
            self._close(key)
        # let every connection handler run to its end (each sees its connection closed,
        # or its listener closed if it had not started yet): a task cancelled before it
        # starts would leave its connection open
        current = asyncio.current_task()
        tasks = [t for t in asyncio.all_tasks() if t is not current]
        if tasks:
            _, stuck = await asyncio.wait(tasks, timeout=2.0)
            for task in stuck:
                task.cancel()
            await asyncio.gather(*stuck, return_exceptions=True)
        await asyncio.sleep(0)  # transports finish closing their sockets
        with self.changed:
            self._snapshot.bound = {}
            self.changed.notify_all()

    def _run_loop(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._loop.run_forever()
