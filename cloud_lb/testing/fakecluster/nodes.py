"""Node objects of the fake cluster: building them, and reading what the simulator needs.

`node_manifest` builds the Node a kubelet would register (labels, optional providerID,
an InternalIP and a Hostname address, a Ready condition); `ready_status_patch` is the
status patch a kubelet's heartbeat makes when readiness flips. `NodeView` is the part of
a Node the kube-proxy simulator acts on, parsed from the API's JSON (plain dicts, so a
half-filled object a user created with kubectl cannot trip model validation).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

TO_BE_DELETED_TAINT = "ToBeDeletedByClusterAutoscaler"
# address types the simulator listens on (kube-proxy serves node ports on every node IP)
SERVED_ADDRESS_TYPES = ("InternalIP", "ExternalIP")


@dataclass(frozen=True)
class SimNode:
    """A node of the fake cluster: its name and the loopback address it serves on."""

    name: str
    ip: str


@dataclass(frozen=True)
class NodeView:
    """What kube-proxy on this node cares about."""

    name: str
    addresses: tuple[str, ...]
    ready: bool
    deleting: bool  # deletionTimestamp set or tainted for deletion by the autoscaler
    resource_version: str

    @property
    def eligible(self) -> bool:
        """kube-proxy's /healthz says 200 only for a Ready node not on its way out."""
        return self.ready and not self.deleting


def _now() -> str:
    return datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def ready_condition(ready: bool) -> dict[str, Any]:
    now = _now()
    return {
        "type": "Ready",
        "status": "True" if ready else "False",
        "reason": "KubeletReady" if ready else "KubeletNotReady",
        "message": "kubelet is posting ready status" if ready else "simulated: node not ready",
        "lastHeartbeatTime": now,
        "lastTransitionTime": now,
    }


def node_status(ip: str, name: str, *, ready: bool) -> dict[str, Any]:
    return {
        "conditions": [ready_condition(ready)],
        "addresses": [
            {"type": "InternalIP", "address": ip},
            {"type": "Hostname", "address": name},
        ],
        "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}},
        "nodeInfo": {
            "architecture": "amd64",
            "operatingSystem": "linux",
            "kubeletVersion": "v1.30.0-fake",
            "kubeProxyVersion": "v1.30.0-fake",
            "containerRuntimeVersion": "fake://1.0",
            "osImage": "cloud-lb fake node",
            "kernelVersion": "0.0.0",
            "machineID": name,
            "systemUUID": name,
            "bootID": name,
        },
        "capacity": {"cpu": "2", "memory": "4Gi", "pods": "110"},
        "allocatable": {"cpu": "2", "memory": "4Gi", "pods": "110"},
    }


def node_manifest(
    name: str,
    ip: str,
    *,
    ready: bool = True,
    labels: dict[str, str] | None = None,
    provider_id: str | None = None,
) -> dict[str, Any]:
    all_labels = {
        "kubernetes.io/hostname": name,
        "kubernetes.io/os": "linux",
        "kubernetes.io/arch": "amd64",
        **(labels or {}),
    }
    spec: dict[str, Any] = {}
    if provider_id:
        spec["providerID"] = provider_id
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {"name": name, "labels": all_labels},
        "spec": spec,
        "status": node_status(ip, name, ready=ready),
    }


def ready_status_patch(ready: bool) -> dict[str, Any]:
    """A patch of `status` that sets the Ready condition (the only condition we keep, so a
    strategic merge and a JSON merge patch both leave the node with exactly this one)."""
    return {"status": {"conditions": [ready_condition(ready)]}}


def node_view(obj: dict[str, Any]) -> NodeView:
    metadata = obj.get("metadata") or {}
    spec = obj.get("spec") or {}
    status = obj.get("status") or {}
    addresses: list[str] = []
    for address in status.get("addresses") or []:
        value = address.get("address")
        if address.get("type") in SERVED_ADDRESS_TYPES and value and value not in addresses:
            addresses.append(value)
    ready = any(
        c.get("type") == "Ready" and c.get("status") == "True"
        for c in status.get("conditions") or []
    )
    tainted = any(t.get("key") == TO_BE_DELETED_TAINT for t in spec.get("taints") or [])
    return NodeView(
        name=metadata.get("name", ""),
        addresses=tuple(addresses),
        ready=ready,
        deleting=bool(metadata.get("deletionTimestamp")) or tainted,
        resource_version=str(metadata.get("resourceVersion", "")),
    )
