"""A TCP forwarder between one client and the fake API server that a test can turn
into a black hole: connections stay open and requests are read, but nothing is
forwarded or answered, as when a network partition or a hung API server leaves a
client waiting. Bound to 127.0.0.1:0; `close()` leaves no thread behind."""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Callable
from urllib.parse import urlsplit


class Partition:
    def __init__(self, target_url: str) -> None:
        target = urlsplit(target_url)
        self.target = (target.hostname or "127.0.0.1", target.port or 80)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}"
        self.cut = threading.Event()
        self._closed = threading.Event()
        self._sockets: list[socket.socket] = []
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()
        self._spawn(self._accept)

    def _spawn(self, target: object, *args: object) -> None:
        thread = threading.Thread(target=target, args=args, daemon=True)  # type: ignore[arg-type]
        with self._lock:
            self._threads.append(thread)
        thread.start()

    def _track(self, sock: socket.socket) -> None:
        with self._lock:
            self._sockets.append(sock)

    def _accept(self) -> None:
        while not self._closed.is_set():
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            self._track(client)
            if self.cut.is_set():
                self._spawn(self._swallow, client)
                continue
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            upstream.settimeout(None)
            self._track(upstream)
            self._spawn(self._pump, client, upstream, self.client_bytes())
            self._spawn(self._pump, upstream, client, None)

    def client_bytes(self) -> Callable[[bytes], None] | None:
        """A sink for one connection's client-to-server bytes (subclasses watch them)."""
        return None

    def _pump(self, src: socket.socket, dst: socket.socket,
              sink: Callable[[bytes], None] | None) -> None:
        try:
            while data := src.recv(65536):
                if self.cut.is_set():
                    continue  # black hole: read and drop
                if sink is not None:
                    sink(data)
                dst.sendall(data)
        except OSError:
            pass
        with contextlib.suppress(OSError):
            dst.shutdown(socket.SHUT_WR)

    def _swallow(self, sock: socket.socket) -> None:
        try:
            while sock.recv(65536):
                pass
        except OSError:
            pass

    def close(self) -> None:
        self._closed.set()
        with contextlib.suppress(OSError):
            self.listener.shutdown(socket.SHUT_RDWR)  # wakes the blocked accept()
        self.listener.close()
        with self._lock:
            sockets, threads = list(self._sockets), list(self._threads)
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()
        for thread in threads:
            thread.join(2)
