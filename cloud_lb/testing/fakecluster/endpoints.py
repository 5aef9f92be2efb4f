"""EndpointSlices: the ones the fake cluster writes in place of the endpointslice
controller, and the part of any slice that the health-check node port answers from.

kube-proxy counts, per Service and per node, the ready endpoints whose `nodeName` is
that node (a missing `conditions.ready` means ready, as the API documents); the
health-check node port says 200 when the count is above zero. Slices belong to a Service
through the `kubernetes.io/service-name` label.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from cloud_lb.testing.fakecluster.services import ServiceKey

SERVICE_NAME_LABEL = "kubernetes.io/service-name"
MANAGED_BY_LABEL = "endpointslice.kubernetes.io/managed-by"
MANAGED_BY = "fakecluster.cloud-lb.dev"

SliceKey = tuple[str, str]  # (namespace, slice name)


@dataclass(frozen=True)
class SliceView:
    key: SliceKey
    service: ServiceKey | None
    ready_nodes: tuple[str, ...]  # nodeName of every ready endpoint (repeats count)
    resource_version: str


def slice_view(obj: dict[str, Any]) -> SliceView:
    metadata = obj.get("metadata") or {}
    namespace = metadata.get("namespace") or "default"
    service = (metadata.get("labels") or {}).get(SERVICE_NAME_LABEL)
    ready_nodes = tuple(
        str(ep["nodeName"])
        for ep in obj.get("endpoints") or []
        if ep.get("nodeName") and (ep.get("conditions") or {}).get("ready", True) is not False
    )
    return SliceView(
        key=(namespace, metadata.get("name", "")),
        service=(namespace, service) if service else None,
        ready_nodes=ready_nodes,
        resource_version=str(metadata.get("resourceVersion", "")),
    )


def local_endpoints(slices: Iterable[SliceView]) -> Counter[tuple[ServiceKey, str]]:
    """Ready endpoints per (service, node) over all slices."""
    counts: Counter[tuple[ServiceKey, str]] = Counter()
    for view in slices:
        if view.service is not None:
            for node in view.ready_nodes:
                counts[(view.service, node)] += 1
    return counts


def slice_name(service: str) -> str:
    return f"{service}-fakecluster"


def slice_ports(service_obj: dict[str, Any] | None) -> list[dict[str, Any]]:
    """The slice's ports as the endpointslice controller derives them from the Service."""
    ports = []
    for p in ((service_obj or {}).get("spec") or {}).get("ports") or []:
        target = p.get("targetPort")
        ports.append(
            {
                "name": p.get("name") or "",
                "port": int(target) if isinstance(target, int) else int(p.get("port") or 0),
                "protocol": p.get("protocol") or "TCP",
            }
        )
    return ports


def endpoint_entry(
    *, namespace: str, pod_name: str, pod_ip: str, node_name: str, ready: bool
) -> dict[str, Any]:
    return {
        "addresses": [pod_ip],
        "conditions": {"ready": ready, "serving": ready, "terminating": False},
        "nodeName": node_name,
        "targetRef": {"kind": "Pod", "namespace": namespace, "name": pod_name},
    }


def slice_manifest(
    *,
    namespace: str,
    service: str,
    endpoints: list[dict[str, Any]],
    ports: list[dict[str, Any]],
) -> dict[str, Any]:
    return {
        "apiVersion": "discovery.k8s.io/v1",
        "kind": "EndpointSlice",
        "metadata": {
            "name": slice_name(service),
            "namespace": namespace,
            "labels": {SERVICE_NAME_LABEL: service, MANAGED_BY_LABEL: MANAGED_BY},
        },
        "addressType": "IPv4",
        "endpoints": endpoints,
        "ports": ports,
    }
