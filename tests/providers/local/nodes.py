"""Fake nodes for the local provider's tests: real servers on loopback addresses.

Each node has its own loopback address and, on ports shared by all nodes (as node
ports are), TCP echo servers, a UDP echo server and an HTTP health endpoint whose
answer the test controls. Echo replies start with `<node>/<port index>:` so a test
sees which node, and which node port, served each request. Started and stopped by
the test; no fixed ports (the shared ports come from the OS, retried on collision).
"""

from __future__ import annotations

import errno
import http.server
import socket
import socketserver
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from cloud_lb.model import Backend
from providers.local.testing import private_subnet


class _TcpServer(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = False
    block_on_close = True


class _UdpServer(socketserver.UDPServer):
    allow_reuse_address = False


class _HttpServer(http.server.ThreadingHTTPServer):
    allow_reuse_address = True
    daemon_threads = False
    block_on_close = True


@dataclass(eq=False)
class Node:
    name: str
    address: str
    health_code: int = 200
    tcp_hits: list[int] = field(default_factory=list)  # port index per connection served
    udp_hits: int = 0
    health_requests: int = 0
    servers: dict[str, socketserver.BaseServer] = field(default_factory=dict)
    threads: dict[str, threading.Thread] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)


def _tcp_handler(node: Node, index: int) -> type[socketserver.BaseRequestHandler]:
    class Echo(socketserver.BaseRequestHandler):
        def handle(self) -> None:
            with node.lock:
                node.tcp_hits.append(index)
            chunks = []
            while data := self.request.recv(65536):  # until the client's EOF (half-close)
                chunks.append(data)
            self.request.sendall(f"{node.name}/{index}:".encode() + b"".join(chunks))
    return Echo


def _udp_handler(node: Node) -> type[socketserver.BaseRequestHandler]:
    class Echo(socketserver.BaseRequestHandler):
        def handle(self) -> None:
            data, sock = self.request
            with node.lock:
                node.udp_hits += 1
            sock.sendto(f"{node.name}:".encode() + data, self.client_address)
    return Echo


def _health_handler(node: Node) -> type[http.server.BaseHTTPRequestHandler]:
    class Health(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            code = node.health_code if self.path == "/healthz" else 404
            with node.lock:
                node.health_requests += 1
            body = f"{node.name} {code}\n".encode()
            self.send_response(code)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass
    return Health


def _tcp_builder(index: int) -> Callable[[Node, int], socketserver.BaseServer]:
    return lambda node, port: _TcpServer((node.address, port), _tcp_handler(node, index))


class FakeNodes:
    """`n` nodes sharing `tcp_ports` TCP echo ports, one UDP echo port, one health port."""

    def __init__(self, n: int, *, tcp_ports: int = 1) -> None:
        subnet = private_subnet()
        hosts = list(subnet.hosts())
        self.nodes = [Node(f"node-{i}", str(hosts[i])) for i in range(n)]
        self._tcp_count = tcp_ports
        self.tcp_ports: list[int] = []
        self.udp_port = 0
        self.health_port = 0
        for _ in range(20):
            try:
                self._start_all()
                return
            except OSError as exc:
                self.close()
                if exc.errno != errno.EADDRINUSE:
                    raise
        raise RuntimeError("could not find ports free on every fake node address")

    def _start_all(self) -> None:
        self.tcp_ports = [0] * self._tcp_count
        self.udp_port = self.health_port = 0
        for node in self.nodes:
            for i in range(self._tcp_count):
                self.tcp_ports[i] = self._start(node, f"tcp{i}", _tcp_builder(i), self.tcp_ports[i])
            self.udp_port = self._start(node, "udp", lambda n, p: _UdpServer(
                (n.address, p), _udp_handler(n)), self.udp_port)
            self.health_port = self._start(node, "health", lambda n, p: _HttpServer(
                (n.address, p), _health_handler(n)), self.health_port)

    def _start(self, node: Node, kind: str,
               build: Callable[[Node, int], socketserver.BaseServer], port: int) -> int:
        server = build(node, port)
        node.servers[kind] = server
        thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                                  name=f"fake-{node.name}-{kind}")
        thread.start()
        node.threads[kind] = thread
        address = server.server_address
        assert isinstance(address, tuple)
        return int(address[1])

    def stop(self, index: int, kind: str) -> None:
        node = self.nodes[index]
        server = node.servers.pop(kind, None)
        if server is not None:
            server.shutdown()
            server.server_close()
            node.threads.pop(kind).join()

    def restart_health(self, index: int) -> None:
        node = self.nodes[index]
        self._start(node, "health", lambda n, p: _HttpServer((n.address, p), _health_handler(n)),
                    self.health_port)

    def backends(self) -> tuple[Backend, ...]:
        return tuple(Backend(node_name=n.name, address=n.address) for n in self.nodes)

    def by_name(self, name: str) -> Node:
        return next(n for n in self.nodes if n.name == name)

    def close(self) -> None:
        for i, node in enumerate(self.nodes):
            for kind in list(node.servers):
                self.stop(i, kind)


def tcp_request(address: str, port: int, payload: bytes = b"ping", *,
                source: str | None = None, timeout: float = 5.0) -> bytes:
    """Connect, send, half-close, read to EOF. Raises on refusal or reset."""
    with socket.create_connection((address, port), timeout=timeout,
                                  source_address=(source, 0) if source else None) as sock:
        sock.sendall(payload)
        sock.shutdown(socket.SHUT_WR)
        chunks = []
        while data := sock.recv(65536):
            chunks.append(data)
        return b"".join(chunks)


def answered_by(reply: bytes) -> str:
    """`node-1` from `node-1/0:ping`."""
    return reply.split(b":", 1)[0].split(b"/", 1)[0].decode()


def udp_exchange(sock: socket.socket, address: str, port: int, payload: bytes = b"ping",
                 *, timeout: float = 2.0) -> bytes | None:
    """Send one datagram, return the reply or None when none came."""
    sock.settimeout(timeout)
    sock.sendto(payload, (address, port))
    try:
        data, _ = sock.recvfrom(65536)
    except TimeoutError:
        return None
    return data


def free_port() -> int:
    """A port the OS considers free now (for a load balancer's front-end port)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
