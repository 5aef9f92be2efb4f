"""A UDP listener of a local load balancer: datagram flows keyed by client address.

The first datagram from a client address opens a flow: a backend is picked (round
robin over the healthy ones) and a connected upstream UDP socket is opened to it;
replies on that socket go back to the client from the listener's address. A flow
idle for `idle_timeout` is closed (its socket too), so the next datagram from that
client starts a new flow, possibly on another backend. Like conntrack on a real LB,
a flow keeps its backend while it lives, even if that backend's health changes.
Datagrams from sources outside the allow-list are dropped, checked per datagram.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from cloud_lb.model import Backend, Listener

if TYPE_CHECKING:
    from providers.local.balancer import Balancer

log = logging.getLogger(__name__)

_MAX_PENDING = 64  # datagrams buffered per flow while its upstream socket opens


@dataclass(eq=False)
class _Flow:
    client: tuple[Any, ...]
    backend: Backend
    last_seen: float
    transport: asyncio.DatagramTransport | None = None
    pending: list[bytes] = field(default_factory=list)
    opener: asyncio.Task[None] | None = None


class _Upstream(asyncio.DatagramProtocol):
    def __init__(self, owner: UdpListener, flow: _Flow) -> None:
        self._owner = owner
        self._flow = flow

    def datagram_received(self, data: bytes, addr: tuple[Any, ...]) -> None:
        self._flow.last_seen = asyncio.get_running_loop().time()
        self._owner.reply(data, self._flow.client)

    def error_received(self, exc: Exception) -> None:
        # ICMP port unreachable from the backend: nothing to do for a datagram service
        log.debug("event=udp_upstream_error lb=%s backend=%s error=%r",
                  self._owner.balancer.provider_id, self._flow.backend.address, exc)


class UdpListener(asyncio.DatagramProtocol):
    def __init__(self, balancer: Balancer, listener: Listener, *, idle_timeout: float) -> None:
        self.balancer = balancer
        self.listener = listener
        self._idle_timeout = idle_timeout
        self._counter = itertools.count()
        self._transport: asyncio.DatagramTransport | None = None
        self._flows: dict[tuple[Any, ...], _Flow] = {}
        self._sweeper: asyncio.Task[None] | None = None

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        self._transport, _ = await loop.create_datagram_endpoint(
            lambda: self, local_addr=(self.balancer.address, self.listener.port)
        )
        self._sweeper = loop.create_task(self._sweep(), name=f"udp-sweep {self.listener.port}")

    async def stop(self) -> None:
        if self._transport is not None:
            self._transport.close()
            self._transport = None
        tasks = [t for t in (self._sweeper, *(f.opener for f in self._flows.values())) if t]
        for flow in list(self._flows.values()):
            self._close_flow(flow)
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    def datagram_received(self, data: bytes, addr: tuple[Any, ...]) -> None:
        if not self.balancer.allows(addr[0]):
            return  # dropped: a firewall answers nothing
        loop = asyncio.get_running_loop()
        flow = self._flows.get(addr)
        if flow is None:
            choice = self.balancer.round_robin(self.listener, self._counter)
            if not choice:
                return
            flow = _Flow(client=addr, backend=choice[0], last_seen=loop.time())
            self._flows[addr] = flow
            flow.opener = loop.create_task(self._open(flow))
        flow.last_seen = loop.time()
        if flow.transport is None:
            if len(flow.pending) < _MAX_PENDING:
                flow.pending.append(data)
        else:
            flow.transport.sendto(data)

    def reply(self, data: bytes, client: tuple[Any, ...]) -> None:
        if self._transport is not None:
            self._transport.sendto(data, client)

    async def _open(self, flow: _Flow) -> None:
        loop = asyncio.get_running_loop()
        try:
            transport, _ = await loop.create_datagram_endpoint(
                lambda: _Upstream(self, flow),
                remote_addr=(flow.backend.address, self.listener.node_port),
            )
        except OSError as exc:
            log.info("event=backend_connect_failed lb=%s listener=UDP/%d backend=%s error=%r",
                     self.balancer.provider_id, self.listener.port, flow.backend.address, exc)
            self._flows.pop(flow.client, None)
            return
        finally:
            flow.opener = None
        if self._flows.get(flow.client) is not flow:  # closed while opening
            transport.close()
            return
        flow.transport = transport
        for data in flow.pending:
            transport.sendto(data)
        flow.pending.clear()

    def _close_flow(self, flow: _Flow) -> None:
        self._flows.pop(flow.client, None)
        if flow.transport is not None:
            flow.transport.close()
            flow.transport = None

    async def _sweep(self) -> None:
        loop = asyncio.get_running_loop()
        period = max(min(self._idle_timeout / 2, 5.0), 0.01)
        while True:
            await asyncio.sleep(period)
            deadline = loop.time() - self._idle_timeout
            for flow in [f for f in self._flows.values() if f.last_seen < deadline]:
                if flow.opener is None:
                    self._close_flow(flow)
