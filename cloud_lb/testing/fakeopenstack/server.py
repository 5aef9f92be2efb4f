"""The fake OpenStack server: one threaded HTTP/1.1 server for all services.

`FakeOpenStack` binds 127.0.0.1 on port 0 by default, serves Keystone, Octavia, Neutron,
Nova and Barbican under path prefixes (`/identity/v3`, `/load-balancer`, `/network`,
`/compute`, `/key-manager`) that the Keystone catalog advertises, and stops cleanly:
`stop()` shuts the listener, closes kept-alive client connections and joins every
handler thread, so no thread outlives the fixture.

Tests drive it through openstacksdk like a real cloud, and use the admin helpers here
(seeding servers, flavors, foreign resources, quotas, injected ERROR states, moving the
clock) to arrange what an operator would arrange, without API calls or call-log noise.
"""

from __future__ import annotations

import json
import logging
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

from cloud_lb.testing.fakeopenstack import (
    barbican,
    keystone,
    neutron,
    nova,
    octavia_children,
    octavia_loadbalancers,
)
from cloud_lb.testing.fakeopenstack import octavia_model as om
from cloud_lb.testing.fakeopenstack.faults import (
    DEFAULT_MESSAGES,
    Call,
    CallLog,
    Fault,
    Faults,
    error_body,
)
from cloud_lb.testing.fakeopenstack.store import FakeClock, Resource, Store, new_id
from cloud_lb.testing.fakeopenstack.wire import (
    ApiError,
    Request,
    Response,
    Router,
    parse_query,
    split_service,
)

log = logging.getLogger(__name__)

OVH_FLAVORS = ("small", "medium", "large", "xl")


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = False

    def __init__(self, address: tuple[str, int], app: FakeOpenStack) -> None:
        self.app = app
        self._conns: dict[int, tuple[socket.socket, threading.Thread]] = {}
        self._conns_lock = threading.Lock()
        super().__init__(address, _Handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        thread = threading.Thread(target=self._serve_one, args=(request, client_address),
                                  name="fakeopenstack-conn", daemon=True)
        with self._conns_lock:
            self._conns[id(request)] = (request, thread)
        thread.start()

    def _serve_one(self, request: Any, client_address: Any) -> None:
        try:
            self.finish_request(request, client_address)
        except Exception:  # a broken client connection must not kill the server
            log.debug("fakeopenstack connection failed", exc_info=True)
        finally:
            self.shutdown_request(request)
            with self._conns_lock:
                self._conns.pop(id(request), None)

    def close_connections(self) -> None:
        with self._conns_lock:
            conns = list(self._conns.values())
        for sock, _ in conns:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        for _, thread in conns:
            thread.join(timeout=5)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # one buffered write per response (flushed by the base class after each request) and
    # no Nagle: headers and body in two segments would wait on the client's delayed ACK
    wbufsize = 1 << 16
    server: _Server

    def setup(self) -> None:
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format: str, *args: Any) -> None:
        pass  # the call log and the logger below replace stderr lines

    def _dispatch(self) -> None:
        app = self.server.app
        parts = urlsplit(self.path)
        service, path = split_service(parts.path)
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        host, port = self.server.server_address[:2]
        req = Request(method=self.command, service=service, path=path,
                      query=parse_query(parts.query),
                      headers={k.lower(): v for k, v in self.headers.items()},
                      body=None, base_url=f"http://{host}:{port}")
        response, route = app.handle(req, raw)
        payload, content_type = response.encode()
        self.send_response(response.status)
        for name, value in response.headers.items():
            self.send_header(name, value)
        if payload or response.status not in (204, 304):
            self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(payload)))
        self.send_header("X-Openstack-Request-Id", "req-" + new_id())
        self.end_headers()
        if payload and self.command != "HEAD":
            self.wfile.write(payload)
        app.calls.add(Call(service, self.command, route or path, path, response.status))
        log.debug("fakeopenstack method=%s service=%s path=%s status=%s", self.command,
                  service, path, response.status)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = _dispatch


class FakeOpenStack:
    """An in-process fake OpenStack cloud. Use as a context manager or start()/stop()."""

    def __init__(self, *, host: str = "127.0.0.1", port: int = 0,
                 provisioning_delay: float = 0.0, region: str = keystone.REGION) -> None:
        self.clock = FakeClock()
        self.project_id = new_id().replace("-", "")
        self.store = Store(project_id=self.project_id, clock=self.clock)
        self.store.provisioning_delay = provisioning_delay
        self.store.add_settler(om.settler(self.store))
        self.identity = keystone.Identity(project_id=self.project_id)
        self.username, self.password = "k8s-lb", "fake-password-" + new_id()[:8]
        self.identity.add_user(self.username, self.password)
        self.app_credential_secret = "fake-secret-" + new_id()[:8]
        self.app_credential_id = self.identity.add_app_credential(
            self.username, "cloud-lb", self.app_credential_secret)
        self.region = region
        self.faults = Faults()
        self.calls = CallLog()
        self.router = Router()
        keystone.register(self.router, self.identity)
        octavia_loadbalancers.register(self.router, self.store)
        octavia_children.register(self.router, self.store)
        neutron.register(self.router, self.store)
        nova.register(self.router, self.store)
        barbican.register(self.router, self.store)
        self._seed()
        self._server = _Server((host, port), self)
        self._thread: threading.Thread | None = None

    # -- lifecycle -----------------------------------------------------------------
    def start(self) -> FakeOpenStack:
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        kwargs={"poll_interval": 0.02},
                                        name="fakeopenstack", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join(timeout=5)
            self._thread = None
        self._server.close_connections()
        self._server.server_close()

    def __enter__(self) -> FakeOpenStack:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def auth_url(self) -> str:
        return f"{self.url}/identity/v3"

    # -- request handling ----------------------------------------------------------
    def handle(self, req: Request, raw: bytes) -> tuple[Response, str | None]:
        if req.service == "load-balancer" and (req.path + "/").startswith("/v2.0/"):
            req.path = "/v2" + req.path[len("/v2.0"):]  # Octavia serves /v2.0 as /v2
        route, params, known = self.router.match(req.method, req.service, req.path)
        template = route.template if route else None
        try:
            for fault in self.faults.take(req.service, req.method, req.path):
                if fault.latency:
                    time.sleep(fault.latency)
                if fault.status is not None:
                    return self._fault_response(req.service, fault), template
            if route is None:
                if known:
                    return Response(405, error_body(req.service, 405, "Method Not Allowed")), None
                return Response(404, error_body(req.service, 404, "The resource could not "
                                                                  "be found.")), None
            if route.authenticated:
                req.token = self.identity.validate(req.headers.get("x-auth-token"))
            req.params = params
            if raw:
                try:
                    req.body = json.loads(raw)
                except ValueError:
                    return Response(400, error_body(req.service, 400,
                                                    "Malformed request body")), template
            return route.handler(req), template
        except ApiError as exc:
            return Response(exc.status, exc.body, exc.headers), template
        except (KeyError, ValueError) as exc:
            return Response(400, error_body(req.service, 400,
                                            f"Invalid input: missing or malformed "
                                            f"{exc}")), template
        except Exception:
            log.exception("fakeopenstack handler failed path=%s", req.path)
            return Response(500, error_body(req.service, 500,
                                            "Internal Server Error")), template

    @staticmethod
    def _fault_response(service: str, fault: Fault) -> Response:
        assert fault.status is not None
        message = fault.message or DEFAULT_MESSAGES.get(fault.status, "Injected fault")
        headers = {}
        if fault.retry_after is not None:
            headers["Retry-After"] = str(int(fault.retry_after) if fault.retry_after >= 1
                                         else fault.retry_after)
        return Response(fault.status, error_body(service, fault.status, message), headers)

    # -- topology and admin helpers (no API call, not in the call log) ----------------
    def _seed(self) -> None:
        with self.store.lock:
            self.public_network, self.public_subnet = neutron.make_network(
                self.store, "Ext-Net", "203.0.113.0/24", external=True)
            self.private_network, self.private_subnet = neutron.make_network(
                self.store, "k8s-private", "10.0.0.0/16")
            neutron.make_security_group(self.store, "default", "Default security group")
            for name in OVH_FLAVORS:
                octavia_loadbalancers.add_flavor(self.store, name, f"OVHcloud {name}")
            self.store.put("availability_zones", {"id": "nova", "name": "nova",
                                                  "description": "", "enabled": True,
                                                  "availability_zone_profile_id": new_id()})

    def add_server(self, name: str, ip: str | None = None) -> Resource:
        with self.store.lock:
            return nova.create_server(self.store, name, [self.private_network["id"]],
                                      fixed_ip=ip)

    def add_network(self, name: str, cidr: str, *, external: bool = False
                    ) -> tuple[Resource, Resource]:
        with self.store.lock:
            return neutron.make_network(self.store, name, cidr, external=external)

    def flavor_id(self, name: str) -> str:
        with self.store.lock:
            return next(f["id"] for f in self.store.all("flavors") if f["name"] == name)

    def set_quota(self, **limits: int) -> None:
        with self.store.lock:
            for key, value in limits.items():
                if key not in self.store.quotas:
                    raise KeyError(f"unknown quota {key!r}")
                self.store.quotas[key] = value

    def hide_service(self, service_type: str) -> None:
        """Leave a service out of the catalogs of tokens issued from now on (a cloud
        without Barbican: `hide_service("key-manager")`)."""
        self.identity.hidden_services.add(service_type)

    def set_provisioning_delay(self, seconds: float) -> None:
        self.store.provisioning_delay = seconds

    def fail_next_provisioning(self, count: int = 1) -> None:
        """The next `count` Octavia operations end in ERROR (like a failed amphora)."""
        with self.store.lock:
            self.store.fail_next_provisioning += count

    def force_status(self, lb_id: str, status: str) -> None:
        with self.store.lock:
            lb = self.store.data["loadbalancers"][lb_id]
            lb["provisioning_status"] = status
            if status == "ERROR":
                lb["operating_status"] = "ERROR"

    def advance(self, seconds: float) -> None:
        """Move the clock: pending operations due by then complete at the next request."""
        self.clock.advance(seconds)
        self.store.settle()

    def settle(self) -> None:
        self.store.settle()

    def inject(self, fault: Fault) -> Fault:
        return self.faults.inject(fault)

    def snapshot(self) -> dict[str, dict[str, Resource]]:
        return self.store.snapshot()

    def resources(self, collection: str) -> list[Resource]:
        """Rendered copies of one collection (Octavia collections rendered as the API)."""
        with self.store.transaction():
            items = self.store.all(collection)
            if collection in om.NAMES:
                return [om.render(self.store, collection, r) for r in items]
            return [{k: v for k, v in r.items() if not k.startswith("_")} for r in items]

    def plant_load_balancer(self, *, name: str, tags: list[str] | None = None,
                            ports: tuple[int, ...] = (80,)) -> Resource:
        """An ACTIVE load balancer made outside cloud-lb (another cluster, an operator)."""
        body = {"name": name, "vip_subnet_id": self.private_subnet["id"], "tags": tags or [],
                "listeners": [{"name": f"listener_{p}", "protocol": "TCP",
                               "protocol_port": p, "tags": tags or [],
                               "default_pool": {"name": f"pool_{p}", "protocol": "TCP",
                                                "lb_algorithm": "ROUND_ROBIN",
                                                "tags": tags or []}} for p in ports]}
        with self.store.transaction():
            lb, _ = octavia_loadbalancers.create(self.store, body)
            lb["_ready_at"] = 0.0
        self.store.settle()
        return lb

    def plant_certificate(self, name: str) -> Resource:
        """A Barbican certificate container (and its two secrets, named `<name>.crt` and
        `<name>.key`) stored outside cloud-lb."""
        base = f"{self.url}/key-manager/v1"
        with self.store.transaction():
            refs = []
            for role, suffix in (("certificate", ".crt"), ("private_key", ".key")):
                secret = self.store.put("secrets", {
                    "id": new_id(), "name": name + suffix, "status": "ACTIVE",
                    "secret_type": "opaque", "content_types": {"default": "text/plain"},
                    "created": "2024-01-01T00:00:00", "updated": "2024-01-01T00:00:00",
                    "expiration": None, "algorithm": None, "bit_length": None,
                    "mode": None, "_payload": "planted"})
                refs.append({"name": role, "secret_ref": f"{base}/secrets/{secret['id']}"})
            return self.store.put("containers", {
                "id": new_id(), "name": name, "type": "certificate", "status": "ACTIVE",
                "secret_refs": refs, "consumers": [], "created": "2024-01-01T00:00:00",
                "updated": "2024-01-01T00:00:00"})

    def plant_floating_ip(self, *, address: str | None = None, tags: list[str] | None = None,
                          description: str = "") -> Resource:
        with self.store.transaction():
            subnet = self.public_subnet
            fip_address = self.store.allocate_ip(subnet, address)
            fip = {
                "id": new_id(), "floating_ip_address": fip_address,
                "floating_network_id": self.public_network["id"], "router_id": None,
                "port_id": None, "fixed_ip_address": None, "status": "DOWN",
                "project_id": self.project_id, "tenant_id": self.project_id,
                "description": description, "tags": list(tags or []), "qos_policy_id": None,
                "port_forwardings": [], "dns_domain": "", "dns_name": "",
                "created_at": "2024-01-01T00:00:00Z", "updated_at": "2024-01-01T00:00:00Z",
                "revision_number": 0, "_subnet_id": subnet["id"],
            }
            return self.store.put("floatingips", fip)

    # -- client configuration ------------------------------------------------------
    def cloud_config(self, *, application_credential: bool = False) -> dict[str, Any]:
        """One `clouds.yaml` cloud entry pointing at this fake (contains the secret)."""
        if application_credential:
            auth: dict[str, Any] = {
                "auth_url": self.auth_url,
                "application_credential_id": self.app_credential_id,
                "application_credential_secret": self.app_credential_secret,
            }
            auth_type = "v3applicationcredential"
        else:
            auth = {"auth_url": self.auth_url, "username": self.username,
                    "password": self.password, "project_id": self.project_id,
                    "user_domain_name": "Default", "project_domain_name": "Default"}
            auth_type = "password"
        return {"auth": auth, "auth_type": auth_type, "region_name": self.region,
                "interface": "public", "identity_api_version": 3}

    def clouds_yaml(self, cloud_name: str = "fake-openstack", *,
                    application_credential: bool = False) -> str:
        import yaml
        return yaml.safe_dump({"clouds": {cloud_name: self.cloud_config(
            application_credential=application_credential)}}, sort_keys=False)

    def env(self) -> dict[str, str]:
        """`OS_*` variables for password authentication against this fake."""
        return {"OS_AUTH_URL": self.auth_url, "OS_USERNAME": self.username,
                "OS_PASSWORD": self.password, "OS_PROJECT_ID": self.project_id,
                "OS_USER_DOMAIN_NAME": "Default", "OS_PROJECT_DOMAIN_NAME": "Default",
                "OS_REGION_NAME": self.region, "OS_INTERFACE": "public",
                "OS_IDENTITY_API_VERSION": "3", "OS_AUTH_TYPE": "password"}
