"""Parsing Nodes, Services and EndpointSlices into what kube-proxy acts on."""

from __future__ import annotations

from cloud_lb.testing.fakecluster import endpoints, nodes
from cloud_lb.testing.fakecluster.endpoints import local_endpoints, slice_view
from cloud_lb.testing.fakecluster.nodes import node_view
from cloud_lb.testing.fakecluster.services import NodePortView, service_view


def test_a_built_node_reads_back_ready_with_its_internal_ip() -> None:
    view = node_view(nodes.node_manifest("n1", "127.3.3.1", labels={"a": "b"}, provider_id="x://1"))
    assert (view.name, view.addresses, view.ready, view.deleting) == (
        "n1",
        ("127.3.3.1",),
        True,
        False,
    )
    assert view.eligible


def test_node_eligibility_follows_ready_deletion_and_the_autoscaler_taint() -> None:
    base = nodes.node_manifest("n1", "127.3.3.1")
    not_ready = {**base, "status": {**base["status"], **nodes.ready_status_patch(False)["status"]}}
    deleting = {
        **base,
        "metadata": {**base["metadata"], "deletionTimestamp": "2024-01-01T00:00:00Z"},
    }
    tainted = {
        **base,
        "spec": {"taints": [{"key": nodes.TO_BE_DELETED_TAINT, "effect": "NoSchedule"}]},
    }
    assert not node_view(not_ready).eligible and not node_view(not_ready).ready
    assert node_view(deleting).ready and not node_view(deleting).eligible
    assert not node_view(tainted).eligible


def test_node_addresses_keep_internal_and_external_ips_only() -> None:
    obj = {
        "metadata": {"name": "n"},
        "status": {
            "addresses": [
                {"type": "Hostname", "address": "n"},
                {"type": "InternalIP", "address": "127.3.3.1"},
                {"type": "ExternalIP", "address": "127.3.3.9"},
                {"type": "InternalIP", "address": "127.3.3.1"},
            ]
        },
    }
    view = node_view(obj)
    assert view.addresses == ("127.3.3.1", "127.3.3.9")
    assert not view.ready  # no Ready condition at all is not ready


def test_service_view_keeps_ports_with_node_ports_and_the_health_check_port() -> None:
    svc = {
        "metadata": {"namespace": "web", "name": "shop", "resourceVersion": "7"},
        "spec": {
            "type": "LoadBalancer",
            "ports": [
                {"name": "http", "port": 80, "protocol": "TCP", "nodePort": 30080},
                {"name": "dns", "port": 53, "protocol": "UDP", "nodePort": 30053},
                {"name": "none", "port": 9, "protocol": "TCP"},
            ],
            "healthCheckNodePort": 32000,
        },
    }
    view = service_view(svc)
    assert view.key == ("web", "shop") and view.resource_version == "7"
    assert view.ports == (
        NodePortView(80, "TCP", 30080, "http"),
        NodePortView(53, "UDP", 30053, "dns"),
    )
    assert view.health_check_node_port == 32000


def test_local_endpoints_count_ready_endpoints_per_service_and_node() -> None:
    def entry(node: str, ready: bool | None) -> dict:
        e = endpoints.endpoint_entry(
            namespace="ns", pod_name="p", pod_ip="10.0.0.1", node_name=node, ready=True
        )
        if ready is None:
            del e["conditions"]["ready"]  # unset means ready
        else:
            e["conditions"]["ready"] = ready
        return e

    a = endpoints.slice_manifest(
        namespace="ns",
        service="svc",
        ports=[],
        endpoints=[entry("n1", True), entry("n1", None), entry("n2", False)],
    )
    b = endpoints.slice_manifest(
        namespace="ns", service="svc", ports=[], endpoints=[entry("n2", True)]
    )
    b["metadata"]["name"] = "svc-other"
    orphan = {"metadata": {"namespace": "ns", "name": "x"}, "endpoints": [{"nodeName": "n1"}]}
    empty = {
        "metadata": {
            "namespace": "ns",
            "name": "y",
            "labels": {endpoints.SERVICE_NAME_LABEL: "svc"},
        }
    }
    counts = local_endpoints([slice_view(a), slice_view(b), slice_view(orphan), slice_view(empty)])
    assert counts == {(("ns", "svc"), "n1"): 2, (("ns", "svc"), "n2"): 1}


def test_slice_ports_follow_the_service_target_ports() -> None:
    svc = {
        "spec": {
            "ports": [
                {"name": "http", "port": 80, "targetPort": 8080, "protocol": "TCP"},
                {"port": 53, "targetPort": "dns", "protocol": "UDP"},
            ]
        }
    }
    assert endpoints.slice_ports(svc) == [
        {"name": "http", "port": 8080, "protocol": "TCP"},
        {"name": "", "port": 53, "protocol": "UDP"},
    ]
    assert endpoints.slice_ports(None) == []
