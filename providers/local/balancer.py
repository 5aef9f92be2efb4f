"""One local load balancer at run time: its address, listeners, backends, allow-list
and health checks. Lives on the provider's event loop; every method runs there.

Backend selection, per listener: round robin over the backends whose health check
(that listener's) is passing. When none passes, all backends are used (fail-open,
as Octavia and AWS NLB do): a broken health endpoint should not take a whole service
down when its nodes may still serve.

Source ranges are checked per TCP connection (at accept) and per UDP datagram: a
source outside `effective_source_ranges` gets a reset (TCP) or silence (UDP). A change
of ranges applies to new connections; established TCP connections are left alone
(like a stateful cloud firewall).

L7 (Ingress) load balancers bind HTTP/HTTPS listeners (`http.HttpListener`) that route
by `routes` and terminate TLS with `tls` (an `SniStore`). Their nodes are health-checked
per backend Service (each `L7Backend.health_check`), not per listener.
"""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Iterator

from cloud_lb.model import Backend, HealthCheck, L7Backend, Listener, Protocol, TLSCert
from providers.local.config import HealthCheckOverrides
from providers.local.health import HealthMonitor
from providers.local.http import HttpListener
from providers.local.routing import RouteTable
from providers.local.steps import ListenerKey, listener_key
from providers.local.tcp import TcpListener
from providers.local.tls import SniStore
from providers.local.udp import UdpListener

_L7 = (Protocol.HTTP, Protocol.HTTPS)

log = logging.getLogger(__name__)

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class Balancer:
    def __init__(
        self, *, provider_id: str, address: str, overrides: HealthCheckOverrides,
        connect_timeout: float, udp_idle_timeout: float,
    ) -> None:
        self.provider_id = provider_id
        self.address = address
        self.backends: tuple[Backend, ...] = ()
        self.source_ranges: tuple[str, ...] = ()
        self._networks: tuple[Network, ...] = ()
        self.health = HealthMonitor(lb=provider_id, overrides=overrides)
        self.listeners: dict[ListenerKey, TcpListener | UdpListener | HttpListener] = {}
        self.routes = RouteTable()
        self.l7 = False  # set by the first set_routes: this balancer serves an Ingress
        self.tls = SniStore()
        self._connect_timeout = connect_timeout
        self._udp_idle_timeout = udp_idle_timeout

    # ---- configuration (called through the provider's steps)

    def set_source_ranges(self, ranges: tuple[str, ...]) -> None:
        self.source_ranges = ranges
        self._networks = tuple(ipaddress.ip_network(r) for r in ranges)

    def set_backends(self, backends: tuple[Backend, ...]) -> None:
        self.backends = backends
        self._refresh_health()

    def set_routes(self, routes: RouteTable) -> None:
        self.routes = routes
        self.l7 = True
        self._refresh_health()

    def set_certificates(self, certs: tuple[TLSCert, ...]) -> None:
        """In place: the next TLS handshake gets the new certificates."""
        self.tls.update(certs)

    async def bind(self, listener: Listener) -> None:
        server: TcpListener | UdpListener | HttpListener
        if listener.protocol in _L7:
            server = HttpListener(self, listener, connect_timeout=self._connect_timeout)
        elif listener.protocol is Protocol.UDP:
            server = UdpListener(self, listener, idle_timeout=self._udp_idle_timeout)
        else:
            server = TcpListener(self, listener, connect_timeout=self._connect_timeout)
        await server.start()
        self.listeners[listener_key(listener)] = server
        self._refresh_health()

    async def unbind(self, listener: Listener) -> None:
        server = self.listeners.pop(listener_key(listener), None)
        if server is not None:
            await server.stop()
        self._refresh_health()

    def update(self, listener: Listener) -> None:
        """New node port or health check on a bound socket: no connection is dropped."""
        self.listeners[listener_key(listener)].listener = listener
        self._refresh_health()

    async def close(self) -> None:
        for server in list(self.listeners.values()):
            await server.stop()
        self.listeners.clear()
        await self.health.close()

    # ---- data path

    def allows(self, source: str) -> bool:
        try:
            ip = ipaddress.ip_address(source.split("%", 1)[0])
        except ValueError:
            return False
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped
        return any(ip in net for net in self._networks if net.version == ip.version)

    def eligible(self, listener: Listener) -> list[Backend]:
        healthy = [
            b for b in self.backends
            if self.health.healthy(b.address, listener.health_check) is True
        ]
        return healthy or list(self.backends)

    def round_robin(self, listener: Listener, counter: Iterator[int]) -> list[Backend]:
        """The eligible backends, starting at the next one in turn (the rest are the
        fallbacks a TCP connect tries in order)."""
        backends = self.eligible(listener)
        if not backends:
            return []
        start = next(counter) % len(backends)
        return backends[start:] + backends[:start]

    def l7_round_robin(self, backend: L7Backend, counter: Iterator[int]) -> list[Backend]:
        """The nodes for one L7 backend, healthy per its check (all when none is)."""
        healthy = [b for b in self.backends
                   if self.health.healthy(b.address, backend.health_check) is True]
        nodes = healthy or list(self.backends)
        if not nodes:
            return []
        start = next(counter) % len(nodes)
        return nodes[start:] + nodes[:start]

    def https_port(self) -> int | None:
        return next((port for (protocol, port) in self.listeners if protocol is Protocol.HTTPS),
                    None)

    # ---- observation

    def bound_listeners(self) -> tuple[Listener, ...]:
        return tuple(sorted((s.listener for s in self.listeners.values()), key=listener_key))

    def healthy_count(self) -> int:
        """Backends passing every check they are subject to (listeners' for L4, backend
        Services' for L7)."""
        checks = self._checks()
        return sum(
            1 for b in self.backends
            if checks and all(self.health.healthy(b.address, hc) for hc in checks)
        )

    def _checks(self) -> list[HealthCheck]:
        checks = {s.listener.health_check: None for s in self.listeners.values()
                  if s.listener.protocol not in _L7}
        if any(s.listener.protocol in _L7 for s in self.listeners.values()):
            checks.update({b.health_check: None for b in self.routes.backends()})
        return list(checks)

    def _refresh_health(self) -> None:
        checks = self._checks()
        self.health.set_targets((b.address, hc) for b in self.backends for hc in checks)
