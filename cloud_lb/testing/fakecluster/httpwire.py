"""Just enough HTTP/1.x server for the simulator, on asyncio streams.

Hand-written on purpose: the stdlib `http.server` runs a thread per connection, and the
simulator must serve hundreds of sockets from one event loop with no extra dependency.
Only what health checkers and load balancers send is supported: a request line, headers,
an optional Content-Length body (read and dropped), keep-alive by HTTP version and the
Connection header. A chunked request body is not read: the answer closes the connection.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from dataclasses import dataclass
from http import HTTPStatus

REQUEST_LINE = re.compile(rb"^([A-Z]{3,10}) (\S+) HTTP/(1\.[01])\r?\n?$")
MAX_LINE = 64 * 1024
MAX_HEADERS = 100
MAX_BODY = 1024 * 1024


@dataclass(frozen=True)
class Request:
    method: str
    target: str
    version: str
    headers: dict[str, str]  # lower-cased names

    @property
    def path(self) -> str:
        return self.target.split("?", 1)[0]

    @property
    def keep_alive(self) -> bool:
        connection = self.headers.get("connection", "").lower()
        if self.version == "1.0":
            return "keep-alive" in connection
        return "close" not in connection


@dataclass(frozen=True)
class Response:
    status: int
    body: bytes
    content_type: str = "text/plain; charset=utf-8"


Handler = Callable[[Request], Response]


class BadRequest(Exception):
    pass


def is_request_line(line: bytes) -> bool:
    return REQUEST_LINE.match(line) is not None


async def read_request(reader: asyncio.StreamReader, first_line: bytes) -> tuple[Request, bool]:
    """Parse one request whose request line was already read; returns the request and
    whether its body was consumed (False: the connection cannot be reused)."""
    match = REQUEST_LINE.match(first_line)
    if match is None:
        raise BadRequest(f"not an HTTP request line: {first_line[:80]!r}")
    headers: dict[str, str] = {}
    for _ in range(MAX_HEADERS + 1):
        line = await reader.readline()
        if line in (b"\r\n", b"\n", b""):
            break
        name, sep, value = line.decode("latin-1").partition(":")
        if not sep:
            raise BadRequest(f"malformed header line: {line[:80]!r}")
        headers[name.strip().lower()] = value.strip()
    else:
        raise BadRequest("too many headers")
    request = Request(match[1].decode(), match[2].decode("latin-1"), match[3].decode(), headers)
    if "chunked" in headers.get("transfer-encoding", "").lower():
        return request, False
    length = headers.get("content-length", "0") or "0"
    if not length.isdigit() or int(length) > MAX_BODY:
        raise BadRequest(f"unsupported Content-Length {length!r}")
    if int(length):
        await reader.readexactly(int(length))
    return request, True


def render(response: Response, *, head: bool, keep_alive: bool) -> bytes:
    reason = HTTPStatus(response.status).phrase
    lines = [
        f"HTTP/1.1 {response.status} {reason}",
        f"Content-Type: {response.content_type}",
        f"Content-Length: {len(response.body)}",
        "X-Content-Type-Options: nosniff",
        f"Connection: {'keep-alive' if keep_alive else 'close'}",
    ]
    head_bytes = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
    return head_bytes if head else head_bytes + response.body


async def serve(
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
    first_line: bytes,
    handler: Handler,
) -> None:
    """Answer requests on one connection until the client or a request says stop."""
    line = first_line
    while line:
        try:
            request, body_read = await read_request(reader, line)
        except (BadRequest, ValueError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            writer.write(render(Response(400, b"bad request\n"), head=False, keep_alive=False))
            await writer.drain()
            return
        keep_alive = request.keep_alive and body_read
        writer.write(render(handler(request), head=request.method == "HEAD", keep_alive=keep_alive))
        await writer.drain()
        if not keep_alive:
            return
        line = await reader.readline()
