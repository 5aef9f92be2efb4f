"""The part of a Service that kube-proxy acts on: its node ports and health-check node port.

Parsed from the API's JSON as plain dicts. kube-proxy opens a node port for every port
that has one, whatever the Service type (NodePort and LoadBalancer Services both carry
them), and a health-check node port only when the API server allocated one
(LoadBalancer + `externalTrafficPolicy: Local`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

ServiceKey = tuple[str, str]  # (namespace, name)

# protocols the simulator can serve on a node port; SCTP has no socket support here
SERVED_PROTOCOLS = ("TCP", "UDP")


@dataclass(frozen=True)
class NodePortView:
    port: int  # the Service port, reported in every answer as port=<port>
    protocol: str  # TCP | UDP | SCTP
    node_port: int
    name: str = ""


@dataclass(frozen=True)
class ServiceView:
    key: ServiceKey
    ports: tuple[NodePortView, ...]
    health_check_node_port: int | None
    resource_version: str

    @property
    def label(self) -> str:
        return f"{self.key[0]}/{self.key[1]}"


def service_view(obj: dict[str, Any]) -> ServiceView:
    metadata = obj.get("metadata") or {}
    spec = obj.get("spec") or {}
    ports = tuple(
        NodePortView(
            port=int(p.get("port") or 0),
            protocol=str(p.get("protocol") or "TCP"),
            node_port=int(p["nodePort"]),
            name=str(p.get("name") or ""),
        )
        for p in spec.get("ports") or []
        if p.get("nodePort")
    )
    hc = spec.get("healthCheckNodePort")
    return ServiceView(
        key=(metadata.get("namespace") or "default", metadata.get("name", "")),
        ports=ports,
        health_check_node_port=int(hc) if hc else None,
        resource_version=str(metadata.get("resourceVersion", "")),
    )
