"""What a node answers, over real loopback sockets, with a stub simulator state."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from cloud_lb.testing.fakecluster.listeners import ListenerKey, Role, RoleKind
from cloud_lb.testing.fakecluster.responders import UdpResponder, handle_tcp
from cloud_lb.testing.fakecluster.services import ServiceKey

SVC: ServiceKey = ("shop", "web")


@dataclass
class StubState:
    roles: dict[ListenerKey, Role] = field(default_factory=dict)
    local: dict[tuple[ServiceKey, str], int] = field(default_factory=dict)
    eligible: set[str] = field(default_factory=set)

    def role(self, key: ListenerKey) -> Role | None:
        return self.roles.get(key)

    def local_endpoints(self, service: ServiceKey, node: str) -> int:
        return self.local.get((service, node), 0)

    def node_eligible(self, node: str) -> bool:
        return node in self.eligible


KEY: ListenerKey = ("127.0.0.1", "TCP", 1)


def with_tcp_server(state: StubState, role: Role, client: Callable[[int], Awaitable[None]]) -> None:
    state.roles[KEY] = role

    async def main() -> None:
        server = await asyncio.start_server(
            lambda r, w: handle_tcp(state, KEY, r, w), "127.0.0.1", 0
        )
        async with server:
            await client(server.sockets[0].getsockname()[1])

    asyncio.run(main())


async def http_get(port: int, request: bytes) -> tuple[int, dict[str, str], bytes]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(request)
    await writer.drain()
    status_line = await reader.readline()
    headers = {}
    while (line := await reader.readline()) not in (b"\r\n", b""):
        name, _, value = line.decode().partition(":")
        headers[name.lower()] = value.strip()
    body = await reader.readexactly(int(headers["content-length"]))
    writer.close()
    return int(status_line.split()[1]), headers, body


def test_node_port_answers_http_with_the_node_service_and_port() -> None:
    async def client(port: int) -> None:
        status, headers, body = await http_get(port, b"GET /anything HTTP/1.1\r\nHost: x\r\n\r\n")
        assert status == 200
        assert body == b"node=n1 service=shop/web port=80\n"
        assert headers["connection"] == "keep-alive"

    with_tcp_server(StubState(), Role(RoleKind.NODE_PORT, "n1", SVC, 80), client)


def test_node_port_keeps_an_http_connection_alive_across_requests() -> None:
    async def client(port: int) -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(
            b"GET / HTTP/1.1\r\n\r\n"
            b"POST / HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc"
            b"HEAD / HTTP/1.1\r\nConnection: close\r\n\r\n"
        )
        data = await reader.read()  # until the server closes after the third
        assert data.count(b"HTTP/1.1 200 OK") == 3
        assert data.count(b"node=n1 service=shop/web port=80\n") == 2  # HEAD has no body
        writer.close()

    with_tcp_server(StubState(), Role(RoleKind.NODE_PORT, "n1", SVC, 80), client)


def test_node_port_echoes_each_line_of_a_non_http_stream() -> None:
    async def client(port: int) -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"hello\r\nsecond line\n")
        first = await reader.readline()
        second = await reader.readline()
        assert first == b"node=n2 service=shop/web port=443 echo=hello\n"
        assert second == b"node=n2 service=shop/web port=443 echo=second line\n"
        writer.write_eof()
        assert await reader.read() == b""
        writer.close()

    with_tcp_server(StubState(), Role(RoleKind.NODE_PORT, "n2", SVC, 443), client)


def test_health_check_port_follows_local_endpoints_with_kube_proxy_json() -> None:
    state = StubState()

    async def client(port: int) -> None:
        status, headers, body = await http_get(port, b"GET /healthz HTTP/1.1\r\n\r\n")
        assert status == 503 and headers["content-type"] == "application/json"
        assert json.loads(body)["service"] == {"namespace": "shop", "name": "web"}
        assert json.loads(body)["localEndpoints"] == 0
        state.local[(SVC, "n1")] = 2
        status, _, body = await http_get(port, b"GET /healthz HTTP/1.1\r\n\r\n")
        assert status == 200 and json.loads(body)["localEndpoints"] == 2
        state.local[(SVC, "n2")] = 1  # another node's endpoint does not count here
        state.local[(SVC, "n1")] = 0
        status, _, _ = await http_get(port, b"GET /healthz HTTP/1.1\r\n\r\n")
        assert status == 503

    with_tcp_server(state, Role(RoleKind.HEALTH_CHECK, "n1", SVC), client)


def test_kube_proxy_health_follows_node_eligibility() -> None:
    state = StubState(eligible={"n1"})

    async def client(port: int) -> None:
        status, _, body = await http_get(port, b"GET /healthz HTTP/1.1\r\n\r\n")
        assert status == 200 and json.loads(body)["nodeEligible"] is True
        state.eligible.clear()
        status, _, body = await http_get(port, b"GET /healthz HTTP/1.0\r\n\r\n")
        assert status == 503 and json.loads(body)["nodeEligible"] is False
        assert (await http_get(port, b"GET /livez HTTP/1.1\r\n\r\n"))[0] == 200
        assert (await http_get(port, b"GET /metrics HTTP/1.1\r\n\r\n"))[0] == 404

    with_tcp_server(state, Role(RoleKind.PROXY_HEALTH, "n1"), client)


def test_garbage_on_an_http_port_gets_400_and_a_closed_connection() -> None:
    async def client(port: int) -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"GET / HTTP/1.1\r\nno colon here\r\n\r\n")
        data = await reader.read()
        assert data.startswith(b"HTTP/1.1 400 ")
        writer.close()

    with_tcp_server(StubState(), Role(RoleKind.PROXY_HEALTH, "n1"), client)


def test_udp_node_port_answers_every_datagram() -> None:
    key: ListenerKey = ("127.0.0.1", "UDP", 1)
    state = StubState(roles={key: Role(RoleKind.NODE_PORT, "n3", SVC, 53)})

    async def main() -> None:
        loop = asyncio.get_running_loop()
        server, _ = await loop.create_datagram_endpoint(
            lambda: UdpResponder(state, key), local_addr=("127.0.0.1", 0)
        )
        port = server.get_extra_info("sockname")[1]
        replies: asyncio.Queue[bytes] = asyncio.Queue()

        class Client(asyncio.DatagramProtocol):
            def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
                replies.put_nowait(data)

        client, _ = await loop.create_datagram_endpoint(Client, remote_addr=("127.0.0.1", port))
        client.sendto(b"ping")
        client.sendto(b"pong\n")
        got = {await asyncio.wait_for(replies.get(), 5), await asyncio.wait_for(replies.get(), 5)}
        assert got == {
            b"node=n3 service=shop/web port=53 echo=ping\n",
            b"node=n3 service=shop/web port=53 echo=pong\n",
        }
        client.close()
        server.close()

    asyncio.run(main())
