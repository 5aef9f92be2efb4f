"""A TCP listener of a local load balancer: accept, check the source, connect to a
backend (round robin, next one on a refused connect), then copy bytes both ways.

Half-close is passed through (a client's EOF becomes the upstream's EOF and back), so
request/response protocols that shut down their sending side work. Backpressure comes
from `drain()`. A refused source gets a TCP reset: SO_LINGER 0, then abort.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import socket
import struct
from typing import TYPE_CHECKING

from cloud_lb.model import Listener

if TYPE_CHECKING:
    from providers.local.balancer import Balancer

log = logging.getLogger(__name__)

_CHUNK = 64 * 1024


class TcpListener:
    def __init__(self, balancer: Balancer, listener: Listener, *, connect_timeout: float) -> None:
        self.balancer = balancer
        self.listener = listener
        self._connect_timeout = connect_timeout
        self._counter = itertools.count()
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._tasks: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        self._server = await asyncio.start_server(
            self._handle, host=self.balancer.address, port=self.listener.port,
            reuse_address=True, backlog=256,
        )

    async def stop(self) -> None:
        """Stop accepting and drop every connection of this listener."""
        if self._server is not None:
            self._server.close()
            self._server = None
        for writer in list(self._writers):
            writer.transport.abort()
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        self._writers.add(writer)
        try:
            await self._serve(reader, writer)
        finally:
            self._writers.discard(writer)
            self._tasks.discard(task)
            writer.transport.abort()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peer = writer.get_extra_info("peername") or ("?", 0)
        if not self.balancer.allows(peer[0]):
            log.debug("event=connection_refused lb=%s listener=TCP/%d source=%s",
                      self.balancer.provider_id, self.listener.port, peer[0])
            sock = writer.get_extra_info("socket")
            if sock is not None:  # a reset, not a polite close: the client sees "refused"
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            return
        upstream = await self._connect()
        if upstream is None:
            return
        up_reader, up_writer = upstream
        self._writers.add(up_writer)
        try:
            await _splice(reader, writer, up_reader, up_writer)
        finally:
            self._writers.discard(up_writer)
            up_writer.transport.abort()

    async def _connect(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter] | None:
        listener = self.listener
        for backend in self.balancer.round_robin(listener, self._counter):
            try:
                async with asyncio.timeout(self._connect_timeout):
                    return await asyncio.open_connection(backend.address, listener.node_port)
            except (OSError, TimeoutError) as exc:
                log.info("event=backend_connect_failed lb=%s listener=TCP/%d backend=%s:%d error=%r",
                         self.balancer.provider_id, listener.port, backend.address,
                         listener.node_port, exc)
        log.warning("event=no_backend lb=%s listener=TCP/%d backends=%d",
                    self.balancer.provider_id, listener.port, len(self.balancer.backends))
        return None


async def _splice(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
    up_reader: asyncio.StreamReader, up_writer: asyncio.StreamWriter,
) -> None:
    """Copy both directions until both ended; an error on either side ends both."""
    down = asyncio.create_task(_copy(reader, up_writer))
    up = asyncio.create_task(_copy(up_reader, writer))
    try:
        done, pending = await asyncio.wait({down, up}, return_when=asyncio.FIRST_EXCEPTION)
        if any(t.exception() for t in done):
            for t in pending:
                t.cancel()
        await asyncio.gather(down, up, return_exceptions=True)
    finally:
        for t in (down, up):
            t.cancel()


async def _copy(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    while data := await reader.read(_CHUNK):
        writer.write(data)
        await writer.drain()
    if writer.can_write_eof() and not writer.is_closing():
        writer.write_eof()
