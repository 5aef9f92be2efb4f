"""What a simulated node answers on each kind of listener.

- a node port, TCP: a first line that is an HTTP request line gets HTTP/1.1 200 with the
  body `node=<node> service=<ns>/<name> port=<port>` (keep-alive honoured); anything
  else is a line protocol: every line gets back `node=... port=<port> echo=<line>`;
- a node port, UDP: every datagram gets back that echo line;
- a health-check node port: like kube-proxy's service health server, any path answers
  200 when this node has a ready local endpoint of the Service, else 503, with the
  JSON body `{"service":{"namespace":..,"name":..},"localEndpoints":N,...}`;
- 10256: kube-proxy's health server: `/healthz` 200 while the Node is Ready and not
  being deleted, else 503; `/livez` 200; anything else 404.

`port` is the Service's `port` (not the node port), so a reply also proves the load
balancer sent the traffic to the right Service port. Every answer looks up the
listener's role and the state at answer time, so a Service, EndpointSlice or Node change
shows on the next request without rebinding anything.
"""

from __future__ import annotations

import asyncio
import datetime
import json
import logging
from typing import Protocol, cast

from cloud_lb.testing.fakecluster import httpwire
from cloud_lb.testing.fakecluster.listeners import ListenerKey, Role, RoleKind
from cloud_lb.testing.fakecluster.services import ServiceKey

log = logging.getLogger(__name__)


class SimState(Protocol):
    """The simulator's current view, read from the event loop thread."""

    def role(self, key: ListenerKey) -> Role | None: ...

    def local_endpoints(self, service: ServiceKey, node: str) -> int: ...

    def node_eligible(self, node: str) -> bool: ...


def identity(role: Role) -> bytes:
    service = f"{role.service[0]}/{role.service[1]}" if role.service else "-"
    return f"node={role.node} service={service} port={role.service_port}".encode()


def echo_line(role: Role, data: bytes) -> bytes:
    return identity(role) + b" echo=" + data.rstrip(b"\r\n") + b"\n"


def node_port_http(state: SimState, key: ListenerKey) -> httpwire.Handler:
    def handle(request: httpwire.Request) -> httpwire.Response:
        role = state.role(key)
        if role is None:
            return httpwire.Response(503, b"listener is closing\n")
        return httpwire.Response(200, identity(role) + b"\n")

    return handle


def health_check_http(state: SimState, key: ListenerKey) -> httpwire.Handler:
    def handle(request: httpwire.Request) -> httpwire.Response:
        role = state.role(key)
        if role is None or role.service is None:
            return httpwire.Response(503, b"listener is closing\n")
        count = state.local_endpoints(role.service, role.node)
        body = {
            "service": {"namespace": role.service[0], "name": role.service[1]},
            "localEndpoints": count,
            "serviceProxyHealthy": True,
        }
        return httpwire.Response(
            200 if count > 0 else 503, json.dumps(body).encode(), "application/json"
        )

    return handle


def proxy_health_http(state: SimState, key: ListenerKey) -> httpwire.Handler:
    def handle(request: httpwire.Request) -> httpwire.Response:
        role = state.role(key)
        if request.path == "/livez":
            return httpwire.Response(200, b"ok\n")
        if request.path != "/healthz":
            return httpwire.Response(404, b"404 page not found\n")
        eligible = role is not None and state.node_eligible(role.node)
        now = datetime.datetime.now(datetime.UTC).isoformat()
        body = {"lastUpdated": now, "currentTime": now, "nodeEligible": eligible}
        return httpwire.Response(
            200 if eligible else 503, json.dumps(body).encode(), "application/json"
        )

    return handle


async def handle_tcp(
    state: SimState, key: ListenerKey, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
) -> None:
    """Serve one TCP connection on the listener `key`; closes the connection at the end."""
    try:
        first = await reader.readline()
        role = state.role(key)
        if not first or role is None:
            return
        if role.kind is RoleKind.NODE_PORT:
            if httpwire.is_request_line(first):
                await httpwire.serve(reader, writer, first, node_port_http(state, key))
            else:
                await _echo_lines(state, key, reader, writer, first)
        elif role.kind is RoleKind.HEALTH_CHECK:
            await httpwire.serve(reader, writer, first, health_check_http(state, key))
        else:
            await httpwire.serve(reader, writer, first, proxy_health_http(state, key))
    except (ConnectionError, ValueError, asyncio.IncompleteReadError) as exc:
        log.debug("event=connection_error listener=%s error=%r", key, exc)
    finally:
        writer.close()


async def _echo_lines(
    state: SimState,
    key: ListenerKey,
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
    line: bytes,
) -> None:
    while line:
        role = state.role(key)
        if role is None:
            return
        writer.write(echo_line(role, line))
        await writer.drain()
        line = await reader.readline()


class UdpResponder(asyncio.DatagramProtocol):
    """Answers every datagram on one UDP node port with the echo line."""

    def __init__(self, state: SimState, key: ListenerKey) -> None:
        self._state = state
        self._key = key
        self._transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # the selector loop's UDP transport does not subclass DatagramTransport
        self._transport = cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        role = self._state.role(self._key)
        if role is not None and self._transport is not None:
            self._transport.sendto(echo_line(role, data), addr)

    def error_received(self, exc: Exception) -> None:
        log.debug("event=udp_error listener=%s error=%r", self._key, exc)
