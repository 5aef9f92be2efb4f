"""The HTTP front of the fake Compute API, and `FakeGCE`, the object tests hold.

`google-cloud-compute`'s REST transport talks to it unchanged with
`client_options={"api_endpoint": fake.url}` (an `http://` endpoint keeps its scheme)
and `AnonymousCredentials()`. HTTP/1.1 with keep-alive on a `ThreadingHTTPServer` bound
to a loopback port chosen by the OS; handler threads are daemons, and `stop()` wakes
operation waiters and closes open connections so nothing outlives the fake.

Every request is logged as a `Call` (verb, method, path, status, mutating) before
faults are applied, so tests count what the client really sent, retries included.
"""

from __future__ import annotations

import copy
import fnmatch
import ipaddress
import json
import logging
import socket
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from cloud_lb.testing.fakegce import errors as e
from cloud_lb.testing.fakegce.collections import BY_NAME
from cloud_lb.testing.fakegce.faults import Faults
from cloud_lb.testing.fakegce.handlers import ComputeApi
from cloud_lb.testing.fakegce.links import LINK_BASE, Link, Scope, check_name
from cloud_lb.testing.fakegce.routing import Route, route
from cloud_lb.testing.fakegce.store import Store, new_id

log = logging.getLogger(__name__)

DEFAULT_REGIONS: dict[str, tuple[str, ...]] = {
    "us-central1": ("us-central1-a", "us-central1-b", "us-central1-c"),
}


@dataclass(frozen=True)
class Call:
    verb: str
    method: str
    path: str
    status: int
    mutating: bool


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server
    timeout = 30  # idle keep-alive connections end on their own
    # headers and body are separate writes: without TCP_NODELAY, Nagle's algorithm and
    # the client's delayed ACK stall every response by tens of milliseconds
    disable_nagle_algorithm = True

    def setup(self) -> None:
        super().setup()
        self.server.track(self.connection, busy=False)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.untrack(self.connection)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        log.debug("fake_gce_http %s", format % args)

    def _serve(self) -> None:
        fake = self.server.fake
        self.server.track(self.connection, busy=True)
        split = urlsplit(self.path)
        query = dict(parse_qsl(split.query, keep_blank_values=True))
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        parts = [p for p in split.path.split("/") if p]
        verb, mutating = "unknown", False
        try:
            body = json.loads(raw) if raw.strip() else {}
            with fake.store.cond:
                target: Route = route(fake.api, self.command, parts, query, body)
            verb, mutating = target.verb, target.mutating
            delay, fault = fake.faults.take(verb)
            if delay:
                time.sleep(delay)
            if fault is not None:
                raise fault
            with fake.store.cond:
                fake.store.operations.settle()
                result = target.call()
            status, payload = 200, result
        except e.GCEError as exc:
            status, payload = exc.status, exc.to_json()
        except json.JSONDecodeError as exc:
            status, payload = (
                400,
                e.invalid(f"Invalid JSON payload received. {exc}", reason="parseError").to_json(),
            )
        fake.record(Call(verb, self.command, split.path, status, mutating))
        log.debug("fake_gce_call verb=%s status=%s", verb, status)
        data = json.dumps(payload).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=UTF-8")
            self.send_header("Content-Length", str(len(data)))
            if self.server.stopping:
                self.close_connection = True
                self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            # the client gave up (its timeout ran out during a slow wait): as with GCE,
            # the operation goes on regardless
            self.close_connection = True
            log.debug("fake_gce_client_gone verb=%s", verb)
        self.server.track(self.connection, busy=False)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve


class _Server(ThreadingHTTPServer):
    # daemon threads never keep the interpreter alive; socketserver does not join
    # daemon threads on server_close(), so `join_handlers()` does (after stop() has woken
    # waiters and closed connections)
    daemon_threads = True
    block_on_close = True
    allow_reuse_address = False

    def __init__(self, address: tuple[str, int], fake: FakeGCE) -> None:
        self.fake = fake
        self.stopping = False
        self._connections: dict[socket.socket, bool] = {}  # connection -> serving a request
        self._conn_lock = threading.Lock()
        self._handlers: list[threading.Thread] = []
        super().__init__(address, _Handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        """As ThreadingMixIn does, but remembering the (daemon) thread to join it."""
        thread = threading.Thread(
            target=self.process_request_thread,
            args=(request, client_address),
            name=f"fake-gce-handler-{client_address[1]}",
            daemon=True,
        )
        with self._conn_lock:
            self._handlers = [t for t in self._handlers if t.is_alive()] + [thread]
        thread.start()

    def join_handlers(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        with self._conn_lock:
            handlers = list(self._handlers)
        for thread in handlers:
            thread.join(max(deadline - time.monotonic(), 0.0))

    def track(self, conn: socket.socket, *, busy: bool) -> None:
        with self._conn_lock:
            self._connections[conn] = busy

    def untrack(self, conn: socket.socket) -> None:
        with self._conn_lock:
            self._connections.pop(conn, None)

    def busy(self) -> int:
        with self._conn_lock:
            return sum(1 for busy in self._connections.values() if busy)

    def close_idle_connections(self, *, timeout: float = 5.0) -> None:
        """Close keep-alive connections waiting for a next request; let requests in
        progress answer first (they close their connection once `stopping` is set)."""
        deadline = time.monotonic() + timeout
        while True:
            with self._conn_lock:
                idle = [c for c, busy in self._connections.items() if not busy]
                remaining = len(self._connections)
            for conn in idle:
                try:
                    conn.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
            if not remaining or time.monotonic() >= deadline:
                return
            time.sleep(0.01)


class FakeGCE:
    """An in-process fake of the Compute Engine REST API for one project.

    >>> with FakeGCE() as fake:
    ...     client = compute_v1.AddressesClient(credentials=AnonymousCredentials(),
    ...                                         client_options={"api_endpoint": fake.url})
    """

    def __init__(
        self,
        *,
        project: str = "fake-project",
        regions: dict[str, tuple[str, ...]] | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.project = project
        self.regions = dict(regions or DEFAULT_REGIONS)
        self.store = Store()
        self.api = ComputeApi(self.store, project=project, regions=self.regions)
        self.faults = Faults()
        self.operations = self.store.operations
        self._calls: list[Call] = []
        self._calls_lock = threading.Lock()
        self._address = (host, port)
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self.add_network("default")
        for i, region in enumerate(self.regions):
            self.add_subnetwork(region, "default", f"10.{128 + 4 * i}.0.0/20")

    # -- lifecycle --------------------------------------------------------------------------

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("FakeGCE is not started")
        host, port = self._server.server_address[:2]
        assert isinstance(host, str)
        return f"http://{host}:{port}"

    def start(self) -> FakeGCE:
        self._server = _Server(self._address, self)
        # a short poll interval keeps stop() quick (shutdown waits for one poll)
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.05,), name="fake-gce", daemon=True
        )
        self._thread.start()
        log.info("fake_gce_started url=%s project=%s", self.url, self.project)
        return self

    def stop(self) -> None:
        if self._server is None:
            return
        self._server.stopping = True
        self.operations.stop()
        self._server.shutdown()
        self._server.close_idle_connections()
        self._server.server_close()
        self._server.join_handlers(timeout=5)
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = None
        log.info("fake_gce_stopped project=%s", self.project)

    def __enter__(self) -> FakeGCE:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def requests_in_progress(self) -> int:
        """Requests being served right now (e.g. operation waits that block)."""
        return self._server.busy() if self._server is not None else 0

    # -- call log ---------------------------------------------------------------------------

    def record(self, call: Call) -> None:
        with self._calls_lock:
            self._calls.append(call)

    @property
    def calls(self) -> list[Call]:
        with self._calls_lock:
            return list(self._calls)

    def count(
        self, pattern: str = "*", *, mutating: bool | None = None, status: int | None = None
    ) -> int:
        return sum(
            1
            for c in self.calls
            if fnmatch.fnmatchcase(c.verb, pattern)
            and (mutating is None or c.mutating == mutating)
            and (status is None or c.status == status)
        )

    def reset_calls(self) -> None:
        with self._calls_lock:
            self._calls.clear()

    # -- seeding and inspection --------------------------------------------------------------

    @property
    def quotas(self) -> dict[str, int]:
        """Limits by collection api name (`forwardingRules`: 500); change freely."""
        return self.api.quotas

    def _seed(self, api_name: str, scope: Scope, body: dict[str, Any]) -> str:
        coll = BY_NAME[api_name]
        link = Link(scope, coll.segment, check_name(body["name"]))
        body = {
            "kind": coll.kind,
            "id": new_id(),
            "creationTimestamp": "2024-01-01T00:00:00.000-00:00",
            "selfLink": link.url,
            **body,
        }
        if scope.location_link:
            body["region" if scope.kind == "regions" else "zone"] = scope.location_link
        with self.store.cond:
            if self.store.get(link) is not None:
                raise ValueError(f"{link.relative} exists")
            self.store.put(link, api_name, body)
        return link.url

    def add_network(self, name: str) -> str:
        return self._seed(
            "networks",
            Scope(self.project, "global"),
            {
                "name": name,
                "autoCreateSubnetworks": False,
                "routingConfig": {"routingMode": "REGIONAL"},
            },
        )

    def add_subnetwork(self, region: str, name: str, cidr: str, *, network: str = "default") -> str:
        net = f"{LINK_BASE}projects/{self.project}/global/networks/{network}"
        return self._seed(
            "subnetworks",
            Scope(self.project, "regions", region),
            {"name": name, "network": net, "ipCidrRange": cidr},
        )

    def zone_of_index(self, index: int) -> str:
        zones = [z for zs in self.regions.values() for z in zs]
        return zones[index % len(zones)]

    def add_instance(
        self,
        zone: str,
        name: str,
        *,
        ip: str | None = None,
        network: str = "default",
        subnetwork: str = "default",
        tags: tuple[str, ...] = (),
        service_account: str | None = None,
    ) -> str:
        region = next(r for r, zs in self.regions.items() if zone in zs)
        subnet_link = (
            f"{LINK_BASE}projects/{self.project}/regions/{region}/subnetworks/{subnetwork}"
        )
        with self.store.cond:
            subnet = self.store.get(subnet_link)
            if subnet is None:
                raise ValueError(f"no subnetwork {subnetwork} in {region}")
            if ip is None:
                ip = self._next_instance_ip(subnet["ipCidrRange"])
        zone_link = f"{LINK_BASE}projects/{self.project}/zones/{zone}"
        body: dict[str, Any] = {
            "name": name,
            "status": "RUNNING",
            "machineType": f"{zone_link}/machineTypes/e2-standard-2",
            "networkInterfaces": [
                {
                    "name": "nic0",
                    "networkIP": ip,
                    "subnetwork": subnet_link,
                    "network": f"{LINK_BASE}projects/{self.project}/global/networks/{network}",
                }
            ],
            "tags": {"items": list(tags), "fingerprint": "42WmSpB8rSM="},
        }
        if service_account:
            body["serviceAccounts"] = [{"email": service_account, "scopes": []}]
        return self._seed("instances", Scope(self.project, "zones", zone), body)

    def _next_instance_ip(self, cidr: str) -> str:
        used = {
            nic.get("networkIP")
            for b in self.store.collection_items("instances")
            for nic in b.get("networkInterfaces", [])
        }
        used |= self.store.ips_in_use()
        hosts = list(ipaddress.ip_network(cidr).hosts())
        # instances from the top of the range, load balancer addresses from the bottom
        for host in reversed(hosts[1:-1]):
            if str(host) not in used:
                return str(host)
        raise ValueError(f"subnetwork {cidr} is full")

    def create(self, api_name: str, location: str, body: dict[str, Any]) -> dict[str, Any]:
        """Insert through the API's own rules and finish the operation at once (tests
        use it to plant resources that are not the provider's). Returns the resource."""
        coll = BY_NAME[api_name]
        scope = Scope(
            self.project, coll.scope_kind, location if coll.scope_kind != "global" else ""
        )
        with self.store.cond:
            self.store.operations.settle()
            op = self.api.insert(coll, scope, copy.deepcopy(body))
            self.store.operations.finish_now(scope, op["name"])
            link = Link(scope, coll.segment, body["name"])
            stored = self.store.get(link)
            if stored is None:
                raise RuntimeError(
                    f"insert of {link.relative} failed: "
                    f"{self.store.operations.get(scope, op['name'])}"
                )
            return self.api.present(coll, stored)

    def resources(self, api_name: str | None = None) -> list[dict[str, Any]]:
        """Every stored resource (of one collection), as GET would return it."""
        with self.store.cond:
            self.store.operations.settle()
            out = []
            for key, body in sorted(self.store.resources.items()):
                coll = BY_NAME[self.store.meta[key]]
                if api_name is None or coll.api_name == api_name:
                    out.append(self.api.present(coll, body))
            return out

    def members(self, zone: str, group: str) -> list[str]:
        """Instance names in an instance group."""
        with self.store.cond:
            self.store.operations.settle()
            key = f"projects/{self.project}/zones/{zone}/instanceGroups/{group}"
            return sorted(url.rsplit("/", 1)[1] for url in self.store.members.get(key, []))

    def snapshot(self) -> dict[str, Any]:
        """The whole cloud's state, comparable with ==."""
        with self.store.cond:
            self.store.operations.settle()
            return copy.deepcopy(
                {
                    "resources": self.store.resources,
                    "members": {k: sorted(v) for k, v in self.store.members.items()},
                }
            )
