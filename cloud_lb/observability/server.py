"""`/metrics`, `/healthz` and `/readyz` over HTTP.

- `/healthz`: the process works: every informer thread is alive. (A quiet cluster sends
  no events for long stretches, so silence alone is not a failure: watches are
  re-opened at least every `watch_timeout`, which the informer counts as activity.)
- `/readyz`: caches synced; a standby replica is ready too (it is warm, waiting for the
  lease), so a rolling update is not blocked by the standby.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

log = logging.getLogger(__name__)


class ObservabilityServer:
    def __init__(self, address: str, *, registry: CollectorRegistry,
                 healthy: Callable[[], tuple[bool, str]],
                 ready: Callable[[], tuple[bool, str]]) -> None:
        host, _, port = address.rpartition(":")
        self.registry, self.healthy, self.ready = registry, healthy, ready
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                path = self.path.split("?", 1)[0]
                if path == "/metrics":
                    body, code, ctype = generate_latest(outer.registry), 200, CONTENT_TYPE_LATEST
                elif path in ("/healthz", "/readyz"):
                    ok, why = (outer.healthy if path == "/healthz" else outer.ready)()
                    body, code, ctype = (why or "ok").encode() + b"\n", 200 if ok else 503, "text/plain"
                else:
                    body, code, ctype = b"not found\n", 404, "text/plain"
                self.send_response(code)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002
                pass  # probes every few seconds would drown the real logs

        self.httpd = ThreadingHTTPServer((host.strip("[]") or "127.0.0.1", int(port)), Handler)
        self.httpd.daemon_threads = True
        self._thread = threading.Thread(target=self.httpd.serve_forever, name="observability",
                                        daemon=True)

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> ObservabilityServer:
        self._thread.start()
        log.info("serving metrics and probes url=%s", self.url)
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self._thread.join(2)


def controller_probes(controller: object) -> tuple[Callable[[], tuple[bool, str]],
                                                   Callable[[], tuple[bool, str]]]:
    """healthz and readyz for a `Controller`."""
    started = time.monotonic()

    def healthy() -> tuple[bool, str]:
        dead = [i.resource.plural for i in controller.informers()  # type: ignore[attr-defined]
                if not i.alive]
        return (not dead, f"informer threads dead: {', '.join(dead)}" if dead else "ok")

    def ready() -> tuple[bool, str]:
        if controller.synced:  # type: ignore[attr-defined]
            return True, "ok"
        return False, f"caches not synced after {time.monotonic() - started:.0f}s"

    return healthy, ready
