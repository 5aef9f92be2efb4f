"""The HTTP side: one `BaseHTTPRequestHandler` per connection, HTTP/1.1 keep-alive.

Plain replies carry a Content-Length so the client's connection pool reuses the
connection. A watch is a chunked response, one event per chunk (newline-delimited JSON),
pumped from the watcher's queue until the watch's `timeoutSeconds`, a STOP (dropped
watches, server stopping), or the client going away (polled every `POLL` seconds so an
abandoned watch never holds a thread). BOOKMARKs are requested from the store every
`bookmark_interval` seconds when the client allowed them.
"""

from __future__ import annotations

import json
import logging
import queue
import select
import socket
import time
from http.server import BaseHTTPRequestHandler
from typing import TYPE_CHECKING, Any

from cloud_lb.testing.fakekube import errors
from cloud_lb.testing.fakekube.api import Api, Reply, Request, WatchReply
from cloud_lb.testing.fakekube.errors import ApiError
from cloud_lb.testing.fakekube.watching import STOP

if TYPE_CHECKING:
    from cloud_lb.testing.fakekube.server import KubeHTTPServer

log = logging.getLogger(__name__)

POLL = 0.25  # seconds between checks that a watching client is still there
_MAX_BATCH = 256  # events written in one send when they queue up


class KubeHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "fake-kube"
    sys_version = ""
    timeout = 300  # an idle keep-alive connection is closed after this many seconds
    server: KubeHTTPServer

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        self._serve()

    do_POST = do_PUT = do_PATCH = do_DELETE = do_GET

    def setup(self) -> None:
        super().setup()
        # replies go out in one write, but watch chunks are small and must not wait
        # for the client's delayed ACK (Nagle)
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        pass  # one structured line per request is logged by _serve instead

    def _read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            parts = []
            while True:
                size = int(self.rfile.readline().split(b";", 1)[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(parts)
                parts.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _serve(self) -> None:
        api: Api = self.server.api
        started = time.monotonic()
        try:
            body = self._read_body()
        except ValueError:
            self.close_connection = True
            self._send(Reply(400, errors.bad_request("malformed request body").status()))
            return
        request = Request(self.command, self.path,
                          {k.lower(): v for k, v in self.headers.items()}, body)
        try:
            reply = api.handle(request)
        except ApiError as exc:
            reply = Reply(exc.code, exc.status(), exc.headers)
        except Exception as exc:  # a bug in the fake: answer 500, keep serving
            log.exception("event=fakekube_internal_error method=%s path=%s",
                          self.command, self.path)
            reply = Reply(500, errors.internal(f"fake-kube internal error: {exc!r}").status())
        if isinstance(reply, WatchReply):
            self._stream(api, reply)
            status = 200
        else:
            self._send(reply)
            status = reply.status
        log.debug("event=fakekube_request method=%s path=%s status=%d ms=%.1f", self.command,
                  self.path.split("?", 1)[0], status, (time.monotonic() - started) * 1000)

    def _send(self, reply: Reply) -> None:
        if isinstance(reply.body, bytes):
            payload = reply.body
        else:
            payload = json.dumps(reply.body, separators=(",", ":")).encode()
        try:
            self.send_response(reply.status)
            self.send_header("Content-Type", reply.headers.get("Content-Type", "application/json"))
            for name, value in reply.headers.items():
                if name != "Content-Type":
                    self.send_header(name, value)
            self.send_header("Content-Length", str(len(payload)))
            # headers and body in one write (end_headers would send the headers alone)
            self._headers_buffer.append(b"\r\n")
            self.wfile.write(b"".join(self._headers_buffer) + payload)
            self._headers_buffer = []
        except OSError:
            self.close_connection = True

    def _chunk(self, data: bytes) -> None:
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))

    def _client_gone(self) -> bool:
        try:
            readable, _, _ = select.select([self.connection], [], [], 0)
            if not readable:
                return False
            return self.connection.recv(1, socket.MSG_PEEK) == b""
        except (OSError, ValueError):
            return True

    def _stream(self, api: Api, reply: WatchReply) -> None:
        try:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            if reply.error is not None or reply.watcher is None:
                self._chunk(Api.error_line(reply.error or errors.gone("expired")))
            else:
                try:
                    self._pump(api, reply)
                finally:
                    api.store.unwatch(reply.watcher)
            if not self.close_connection:
                self.wfile.write(b"0\r\n\r\n")
        except OSError:
            self.close_connection = True

    def _pump(self, api: Api, reply: WatchReply) -> None:
        watcher = reply.watcher
        assert watcher is not None
        interval = self.server.bookmark_interval
        now = time.monotonic()
        deadline = now + reply.timeout if reply.timeout else None
        next_bookmark = now + interval if watcher.bookmarks else None
        first = True
        while True:
            if api.stopping.is_set():
                self.close_connection = True
                return
            now = time.monotonic()
            if deadline is not None and now >= deadline:
                return
            if next_bookmark is not None and now >= next_bookmark:
                api.store.bookmark(watcher)
                next_bookmark = now + interval
            wait = POLL
            for limit in (deadline, next_bookmark):
                if limit is not None:
                    wait = min(wait, max(0.0, limit - now))
            try:
                item = watcher.events.get(timeout=wait)
            except queue.Empty:
                if self._client_gone():
                    self.close_connection = True
                    return
                continue
            batch = []
            while item is not STOP:
                batch.append(api.event_line(reply.rt, item, table=reply.table, columns=first))
                first = False
                if len(batch) >= _MAX_BATCH:
                    break
                try:
                    item = watcher.events.get_nowait()
                except queue.Empty:
                    break
            if batch:
                self._chunk(b"".join(batch))
            if item is STOP:
                return
