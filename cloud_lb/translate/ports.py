"""`spec.ports` → one listener per port, checked against the provider's protocols.

Listener names are the port's name, or `<protocol-lower>-<port>` for an unnamed port
(Kubernetes allows one unnamed port). Ports keep their order, so listeners == ports.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cloud_lb.model import Protocol
from cloud_lb.provider import Capabilities
from cloud_lb.translate.errors import TranslationError
from cloud_lb.translate.fields import mapping, port_number, require, string

L4_PROTOCOLS = {"TCP": Protocol.TCP, "UDP": Protocol.UDP, "SCTP": Protocol.SCTP}
_CAPABILITY = {Protocol.TCP: "tcp", Protocol.UDP: "udp", Protocol.SCTP: "sctp"}


@dataclass(frozen=True)
class ServicePort:
    """One validated entry of `spec.ports`."""

    index: int
    name: str  # the listener name (generated when the port has none)
    port_name: str  # the port's own name, "" when unnamed (EndpointSlices match on it)
    protocol: Protocol
    port: int
    node_port: int | None
    target_port: int | str | None

    @property
    def field(self) -> str:
        return f"spec.ports[{self.index}]"


def parse_ports(spec: Mapping[str, Any]) -> list[ServicePort]:
    raw = spec.get("ports")
    if not isinstance(raw, list) or not raw:
        raise TranslationError(
            "a LoadBalancer Service needs at least one port; add an entry to spec.ports",
            field="spec.ports",
        )
    ports: list[ServicePort] = []
    by_key: dict[tuple[int, Protocol], int] = {}
    by_name: dict[str, int] = {}
    for i, item in enumerate(raw):
        field = f"spec.ports[{i}]"
        entry = mapping(item, field, required=True)
        proto_text = string(entry.get("protocol"), f"{field}.protocol") or "TCP"
        if proto_text not in L4_PROTOCOLS:
            raise TranslationError(
                f"protocol {proto_text!r} is not one of TCP, UDP, SCTP", field=f"{field}.protocol"
            )
        protocol = L4_PROTOCOLS[proto_text]
        port = port_number(entry.get("port"), f"{field}.port")
        assert port is not None
        node_port = port_number(entry.get("nodePort"), f"{field}.nodePort", optional=True)
        port_name = string(entry.get("name"), f"{field}.name") or ""
        name = port_name or f"{protocol.value.lower()}-{port}"
        target = entry.get("targetPort")
        target_port = target if isinstance(target, (int, str)) and not isinstance(target, bool) else None
        if (port, protocol) in by_key:
            raise TranslationError(
                f"{protocol.value} port {port} is already used by spec.ports[{by_key[(port, protocol)]}]; "
                "a load balancer can listen only once on a port and protocol",
                field=f"{field}.port",
            )
        if name in by_name:
            raise TranslationError(
                f"listener name {name!r} is already used by spec.ports[{by_name[name]}]; "
                "give every port a distinct name",
                field=f"{field}.name",
            )
        by_key[(port, protocol)] = i
        by_name[name] = i
        ports.append(ServicePort(i, name, port_name, protocol, port, node_port, target_port))
    return ports


def check_protocols(ports: list[ServicePort], capabilities: Capabilities,
                    provider_name: str | None) -> None:
    """Every protocol must be served, and a mix of them only where the cloud can."""
    for p in ports:
        require(
            capabilities, _CAPABILITY[p.protocol],
            what=f"a {p.protocol.value} listener", field=f"{p.field}.protocol",
            provider_name=provider_name,
            hint="use a protocol this provider serves or another loadBalancerClass",
        )
    protocols = sorted({p.protocol.value for p in ports})
    if len(protocols) > 1:
        require(
            capabilities, "mixed_protocols",
            what=f"mixing protocols ({', '.join(protocols)}) on one load balancer",
            field="spec.ports", provider_name=provider_name,
            hint="split the ports into one Service per protocol",
        )
