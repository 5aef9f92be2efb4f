"""Which sockets the simulated kube-proxies should hold: a pure function of Nodes and
Services, so that the simulator only diffs this against what it has bound.

For every node address: kube-proxy's health server on TCP 10256; for every Service port
with a node port, that node port with the port's protocol; for every Service with a
health-check node port, that port on TCP. A listener is keyed by (address, protocol,
port) and carries a `Role` that says whom it answers for; a Service change that keeps
the node port (say the Service port number changes) changes only the role, not the
socket.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from cloud_lb.testing.fakecluster.nodes import NodeView
from cloud_lb.testing.fakecluster.services import SERVED_PROTOCOLS, ServiceKey, ServiceView

KUBE_PROXY_HEALTH_PORT = 10256

ListenerKey = tuple[str, str, int]  # (address, "TCP" | "UDP", port)


class RoleKind(StrEnum):
    NODE_PORT = "nodePort"
    HEALTH_CHECK = "healthCheckNodePort"
    PROXY_HEALTH = "proxyHealth"


@dataclass(frozen=True)
class Role:
    kind: RoleKind
    node: str
    service: ServiceKey | None = None
    service_port: int | None = None  # NODE_PORT only: the Service's `port`


@dataclass(frozen=True)
class Conflict:
    key: ListenerKey
    kept: Role
    dropped: Role


def desired_listeners(
    nodes: Iterable[NodeView], services: Iterable[ServiceView]
) -> tuple[dict[ListenerKey, Role], list[Conflict]]:
    """The listeners every node should have, and the claims that lost to an earlier one
    (two Services on one node port cannot happen with a real API server, but a hand-made
    Node with a shared address can)."""
    wanted: dict[ListenerKey, Role] = {}
    conflicts: list[Conflict] = []

    def put(key: ListenerKey, role: Role) -> None:
        kept = wanted.setdefault(key, role)
        if kept != role:
            conflicts.append(Conflict(key, kept, role))

    ordered_services = sorted(services, key=lambda s: s.key)
    for node in sorted(nodes, key=lambda n: n.name):
        for address in node.addresses:
            put((address, "TCP", KUBE_PROXY_HEALTH_PORT), Role(RoleKind.PROXY_HEALTH, node.name))
            for service in ordered_services:
                for port in service.ports:
                    if port.protocol in SERVED_PROTOCOLS:
                        put(
                            (address, port.protocol, port.node_port),
                            Role(RoleKind.NODE_PORT, node.name, service.key, port.port),
                        )
                if service.health_check_node_port:
                    put(
                        (address, "TCP", service.health_check_node_port),
                        Role(RoleKind.HEALTH_CHECK, node.name, service.key),
                    )
    return wanted, conflicts
