"""Builders of raw Kubernetes dicts (as the API returns them) for translation tests."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from cloud_lb.provider import Capabilities
from cloud_lb.translate.settings import TranslateSettings

ALL_CAPS = Capabilities(udp=True, sctp=True, mixed_protocols=True, source_ranges=True,
                        internal=True, static_ip=True, ipv6=True, dual_stack=True,
                        pod_targets=True)


def make_service(*, name: str = "web", namespace: str = "default", uid: str = "uid-1",
                 ports: list[dict[str, Any]] | None = None,
                 annotations: dict[str, str] | None = None,
                 **spec: Any) -> dict[str, Any]:
    svc: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": name, "namespace": namespace, "uid": uid},
        "spec": {
            "type": "LoadBalancer",
            "ports": ports if ports is not None else [
                {"name": "http", "protocol": "TCP", "port": 80, "targetPort": 8080,
                 "nodePort": 30080}
            ],
            "ipFamilies": ["IPv4"],
            "ipFamilyPolicy": "SingleStack",
            "externalTrafficPolicy": "Cluster",
        },
    }
    if annotations is not None:
        svc["metadata"]["annotations"] = annotations
    svc["spec"].update(spec)
    return svc


def with_meta(obj: dict[str, Any], **meta: Any) -> dict[str, Any]:
    out = copy.deepcopy(obj)
    out["metadata"].update(meta)
    return out


def make_node(name: str, address: str = "10.0.0.1", *, ready: str = "True",
              labels: dict[str, str] | None = None, taints: list[dict[str, str]] | None = None,
              addresses: list[dict[str, str]] | None = None, provider_id: str | None = None,
              deleting: bool = False, unschedulable: bool = False) -> dict[str, Any]:
    node: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {"name": name, "labels": labels or {}},
        "spec": {},
        "status": {
            "conditions": [
                {"type": "MemoryPressure", "status": "False"},
                {"type": "Ready", "status": ready, "lastHeartbeatTime": "2024-01-01T00:00:00Z"},
            ],
            "addresses": addresses if addresses is not None else [
                {"type": "Hostname", "address": name},
                {"type": "InternalIP", "address": address},
            ],
        },
    }
    if taints:
        node["spec"]["taints"] = taints
    if provider_id:
        node["spec"]["providerID"] = provider_id
    if unschedulable:
        node["spec"]["unschedulable"] = True
    if deleting:
        node["metadata"]["deletionTimestamp"] = "2024-01-01T00:00:00Z"
    return node


@pytest.fixture
def settings() -> TranslateSettings:
    return TranslateSettings(cluster_name="test")


@pytest.fixture
def nodes() -> list[dict[str, Any]]:
    return [make_node("node-b", "10.0.0.2"), make_node("node-a", "10.0.0.1")]
