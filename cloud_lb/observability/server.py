"""`/metrics`, `/healthz` and `/readyz` over HTTP (the standard library's threading
server: three tiny endpoints need no framework).

- `/metrics`: the controller's registry, in the Prometheus text format or OpenMetrics
  when the scraper asks for it (content negotiation by prometheus-client).
- `/healthz` (liveness): the process works: every informer thread is alive. A watch
  that goes silent cannot hang an informer (its read timeout ends the stream and it
  re-watches), and an unreachable API server is not fixed by a restart, so neither
  fails liveness; both show in `cloudlb_informer_last_activity_age_seconds`.
- `/readyz`: caches synced. A standby replica is ready too (it is warm, waiting for the
  lease), so a rolling update is not blocked by the standby; the body says which.
"""

from __future__ import annotations

import ipaddress
import logging
import socket
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from prometheus_client import CollectorRegistry
from prometheus_client.exposition import choose_encoder

log = logging.getLogger(__name__)

Probe = Callable[[], tuple[bool, str]]


def _family(host: str) -> socket.AddressFamily:
    try:
        return socket.AF_INET6 if ipaddress.ip_address(host).version == 6 else socket.AF_INET
    except ValueError:  # a name: resolve to its first address's family
        return socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)[0][0]


class ObservabilityServer:
    def __init__(self, address: str, *, registry: CollectorRegistry, healthy: Probe,
                 ready: Probe) -> None:
        """`address` is host:port ([v6]:port); port 0 takes any free port (see `url`)."""
        host, _, port = address.rpartition(":")
        host = host.strip("[]") or "127.0.0.1"
        self.registry, self.healthy, self.ready = registry, healthy, ready
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                path = self.path.split("?", 1)[0]
                if path == "/metrics":
                    encoder, ctype = choose_encoder(self.headers.get("Accept", ""))
                    body, code = encoder(outer.registry), 200
                elif path in ("/healthz", "/readyz"):
                    ok, why = (outer.healthy if path == "/healthz" else outer.ready)()
                    body = (why or "ok").encode() + b"\n"
                    code, ctype = (200 if ok else 503), "text/plain; charset=utf-8"
                else:
                    body, code, ctype = b"not found\n", 404, "text/plain; charset=utf-8"
                self.send_response(code)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002
                pass  # probes every few seconds would drown the real logs

        server_class = type("Server", (ThreadingHTTPServer,),
                            {"address_family": _family(host), "daemon_threads": True})
        self.httpd: ThreadingHTTPServer = server_class((host, int(port)), Handler)
        self._thread = threading.Thread(target=self.httpd.serve_forever, name="observability",
                                        kwargs={"poll_interval": 0.1}, daemon=True)

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        shown = f"[{host}]" if ":" in str(host) else str(host)
        return f"http://{shown}:{port}"

    def start(self) -> ObservabilityServer:
        self._thread.start()
        log.info("serving metrics and probes url=%s", self.url)
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self._thread.join(2)


def controller_probes(controller: object, *, is_leader: Callable[[], bool] | None = None,
                      ) -> tuple[Probe, Probe]:
    """healthz and readyz for a `Controller`; `is_leader` only words readyz's body."""
    started = time.monotonic()

    def healthy() -> tuple[bool, str]:
        dead = [i.resource.plural for i in controller.informers()  # type: ignore[attr-defined]
                if not i.alive]
        return (not dead, f"informer threads dead: {', '.join(dead)}" if dead else "ok")

    def ready() -> tuple[bool, str]:
        if not controller.synced:  # type: ignore[attr-defined]
            return False, f"caches not synced after {time.monotonic() - started:.0f}s"
        if is_leader is None:
            return True, "ok"
        return True, "ok: leader" if is_leader() else "ok: standby"

    return healthy, ready
