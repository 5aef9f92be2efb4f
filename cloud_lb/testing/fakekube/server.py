"""`FakeKubeServer`: the fake API server's lifecycle, in-process or behind the CLI.

    with running_fake_kube() as kube:
        kube.url, kube.kubeconfig, kube.api_client(), kube.faults, kube.request_count()

It serves on a loopback address (port 0 = any free port) from a daemon thread; each
connection gets its own daemon thread, tracked so that `stop()` can end every watch,
close every kept-alive connection and join them all promptly, leaving nothing behind.
"""

from __future__ import annotations

import logging
import shutil
import socket
import socketserver
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any

from cloud_lb.testing.fakekube.api import Api
from cloud_lb.testing.fakekube.faults import Faults
from cloud_lb.testing.fakekube.handler import KubeHandler
from cloud_lb.testing.fakekube.kubeconfig import TOKEN, write_kubeconfig
from cloud_lb.testing.fakekube.store import Store

log = logging.getLogger(__name__)


class KubeHTTPServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], api: Api | None, *,
                 bookmark_interval: float) -> None:
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        super().__init__(address, KubeHandler)
        self.api: Api = api  # type: ignore[assignment]  # set right after binding
        self.bookmark_interval = bookmark_interval
        self._connections: dict[threading.Thread, socket.socket] = {}
        self._connections_lock = threading.Lock()

    def server_bind(self) -> None:
        # HTTPServer.server_bind would resolve the host name (socket.getfqdn), which can
        # stall on a machine without working reverse DNS; the name is never used here
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name, self.server_port = str(host), int(port)

    def process_request(self, request: Any, client_address: Any) -> None:
        thread = threading.Thread(target=self._process, args=(request, client_address),
                                  name=f"fakekube-conn-{client_address[1]}", daemon=True)
        with self._connections_lock:
            self._connections[thread] = request
        thread.start()

    def _process(self, request: Any, client_address: Any) -> None:
        try:
            self.finish_request(request, client_address)
        except Exception:  # noqa: BLE001 - a broken connection must not kill the server
            log.debug("event=fakekube_connection_error client=%s", client_address, exc_info=True)
        finally:
            self.shutdown_request(request)
            with self._connections_lock:
                self._connections.pop(threading.current_thread(), None)

    def handle_error(self, request: Any, client_address: Any) -> None:
        log.debug("event=fakekube_connection_error client=%s", client_address, exc_info=True)

    def close_connections(self) -> list[threading.Thread]:
        """Shut down every open connection (unblocks idle keep-alive reads)."""
        with self._connections_lock:
            open_now = list(self._connections.items())
        for _, sock in open_now:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        return [thread for thread, _ in open_now]


class FakeKubeServer:
    """The fake API server. `start()` returns self; `stop()` is idempotent."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        kubeconfig_path: str | Path | None = None,
        history_size: int = 10_000,
        bookmark_interval: float = 1.0,
        list_item_kinds: bool = True,
    ) -> None:
        self._host, self._port = host, port
        self._kubeconfig_path = Path(kubeconfig_path) if kubeconfig_path else None
        self._bookmark_interval = bookmark_interval
        self._list_item_kinds = list_item_kinds
        self.store = Store(history_size=history_size)
        self.faults = Faults(stop_watches=self.store.stop_watches, compact=self.store.compact)
        self._httpd: KubeHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._tmpdir: str | None = None
        self._api: Api | None = None
        self.url = ""
        self.kubeconfig = ""

    def start(self) -> FakeKubeServer:
        if self._httpd is not None:
            return self
        httpd = KubeHTTPServer((self._host, self._port), None,
                               bookmark_interval=self._bookmark_interval)
        host, port = httpd.server_address[:2]
        shown = f"[{host}]" if ":" in str(host) else str(host)
        self.url = f"http://{shown}:{port}"
        self._api = Api(self.store, self.faults, server_address=f"{shown}:{port}",
                        list_item_kinds=self._list_item_kinds)
        httpd.api = self._api
        self._httpd = httpd
        if self._kubeconfig_path is None:
            self._tmpdir = tempfile.mkdtemp(prefix="fakekube-")
            path = Path(self._tmpdir) / "kubeconfig"
        else:
            path = self._kubeconfig_path
        self.kubeconfig = str(write_kubeconfig(path, self.url))
        self._thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.02},
                                        name=f"fakekube-{port}", daemon=True)
        self._thread.start()
        log.info("event=fakekube_started url=%s kubeconfig=%s", self.url, self.kubeconfig)
        return self

    def stop(self, timeout: float = 2.0) -> None:
        httpd, self._httpd = self._httpd, None
        if httpd is None:
            return
        assert self._api is not None
        self._api.stopping.set()
        self.store.stop_watches()
        httpd.shutdown()
        threads = httpd.close_connections()
        deadline = time.monotonic() + timeout
        for thread in threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        stuck = [t.name for t in threads if t.is_alive()]
        httpd.server_close()
        if self._thread is not None:
            self._thread.join(max(0.0, deadline - time.monotonic()))
        if self._tmpdir is not None:
            shutil.rmtree(self._tmpdir, ignore_errors=True)
            self._tmpdir = None
        if stuck:
            log.warning("event=fakekube_stop_incomplete threads=%s", stuck)
        log.info("event=fakekube_stopped url=%s", self.url)

    def __enter__(self) -> FakeKubeServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def request_count(self, verb: str | None = None, resource: str | None = None) -> int:
        """Requests served so far, optionally only one verb and/or resource ("services"
        counts services and its subresources, "services/status" only the subresource)."""
        if self._api is None:
            return 0
        return self._api.request_count(verb, resource)

    def api_client(self, *, pool_size: int | None = None) -> Any:
        """A `kubernetes.client.ApiClient` for this server (imported lazily: the CLI
        module must not import the SDK at import time)."""
        from kubernetes import client

        configuration = client.Configuration()
        configuration.host = self.url
        configuration.api_key = {"authorization": TOKEN}
        configuration.api_key_prefix = {"authorization": "Bearer"}
        if pool_size is not None:
            configuration.connection_pool_maxsize = pool_size
        return client.ApiClient(configuration)


@contextmanager
def running_fake_kube(**options: Any) -> Iterator[FakeKubeServer]:
    """A started `FakeKubeServer` (options as its constructor), stopped on exit."""
    server = FakeKubeServer(**options).start()
    try:
        yield server
    finally:
        server.stop()
