"""The kube-proxy simulator end to end: Services created with the official client, real
sockets on every node's address."""

from __future__ import annotations

import threading

import pytest
from kubernetes import client as k8s

from cloud_lb.testing.fakecluster import FakeCluster, running_fake_cluster

from .conftest import create_service, health, http_get, node_port, refused, tcp_line, udp_exchange

MERGE = "application/merge-patch+json"  # replaces the ports list (strategic merge would add)


def test_tcp_http_and_udp_node_ports_answer_with_the_node_that_served(
    cluster: FakeCluster, core: k8s.CoreV1Api
) -> None:
    svc = create_service(core, "web", [(80, "TCP"), (53, "UDP")])
    cluster.wait_for_listeners("default", "web")
    tcp_port, udp_port = node_port(svc, 80), node_port(svc, 53, "UDP")
    for node in cluster.nodes:
        assert http_get(node.ip, tcp_port) == (
            200,
            f"node={node.name} service=default/web port=80\n",
        )
        assert tcp_line(node.ip, tcp_port, "hi there") == (
            f"node={node.name} service=default/web port=80 echo=hi there\n"
        )
        assert udp_exchange(node.ip, udp_port, b"ping") == (
            f"node={node.name} service=default/web port=53 echo=ping\n"
        )


def test_health_check_node_port_follows_ready_local_endpoints(
    cluster: FakeCluster, core: k8s.CoreV1Api
) -> None:
    svc = create_service(core, "local", [(80, "TCP")], traffic_policy="Local")
    hc = int(svc["spec"]["healthCheckNodePort"])
    cluster.wait_for_listeners("default", "local")
    n1, n2, n3 = cluster.nodes
    assert [health(n.ip, hc)[0] for n in cluster.nodes] == [503, 503, 503]

    cluster.add_endpoint("default", "local", n2.name)
    status, body = health(n2.ip, hc)
    assert (status, body["localEndpoints"]) == (200, 1)
    assert body["service"] == {"namespace": "default", "name": "local"}
    assert [health(n.ip, hc)[0] for n in (n1, n3)] == [503, 503]

    cluster.add_endpoint("default", "local", n1.name, ready=False)  # not ready: not counted
    cluster.add_endpoint("default", "local", n2.name)
    assert health(n1.ip, hc)[0] == 503
    assert health(n2.ip, hc) == (200, {**body, "localEndpoints": 2})

    cluster.remove_endpoints("default", "local")
    assert [health(n.ip, hc)[0] for n in cluster.nodes] == [503, 503, 503]


def test_kube_proxy_health_port_follows_node_readiness(cluster: FakeCluster) -> None:
    n1, n2, _ = cluster.nodes
    assert health(n1.ip, 10256)[0] == 200
    cluster.set_ready(n1.name, False)
    status, body = health(n1.ip, 10256)
    assert (status, body["nodeEligible"]) == (503, False)
    assert health(n2.ip, 10256)[0] == 200
    cluster.set_ready(n1.name, True)
    assert health(n1.ip, 10256)[0] == 200


def test_a_node_being_deleted_fails_kube_proxy_health(
    cluster: FakeCluster, core: k8s.CoreV1Api
) -> None:
    node = cluster.nodes[0]
    taint = {"key": "ToBeDeletedByClusterAutoscaler", "value": "1", "effect": "NoSchedule"}
    written = core.patch_node(node.name, {"spec": {"taints": [taint]}})
    cluster.simulator.wait_until(
        lambda s: int(s.seen[("Node", ("", node.name))]) >= int(written.metadata.resource_version),
        5,
        "taint seen",
    )
    assert health(node.ip, 10256)[0] == 503


def test_added_nodes_serve_existing_services_and_removed_nodes_release_every_port(
    cluster: FakeCluster, core: k8s.CoreV1Api
) -> None:
    svc = create_service(core, "web", [(80, "TCP")], traffic_policy="Local")
    port, hc = node_port(svc, 80), int(svc["spec"]["healthCheckNodePort"])
    new = cluster.add_node(labels={"zone": "b"})
    assert new.name == "node-4" and new.ip == str(cluster.subnet.network_address + 4)
    cluster.wait_for_listeners("default", "web")
    assert http_get(new.ip, port)[1] == "node=node-4 service=default/web port=80\n"
    assert core.read_node("node-4").metadata.labels["zone"] == "b"

    cluster.remove_node(new.name)
    assert [n.name for n in cluster.nodes] == ["node-1", "node-2", "node-3"]
    assert refused(new.ip, port) and refused(new.ip, hc) and refused(new.ip, 10256)
    assert http_get(cluster.nodes[0].ip, port)[0] == 200  # the others are untouched


def test_service_changes_move_ports_and_deletion_releases_them(
    cluster: FakeCluster, core: k8s.CoreV1Api
) -> None:
    svc = create_service(core, "web", [(80, "TCP")])
    cluster.wait_for_listeners("default", "web")
    ip = cluster.nodes[0].ip
    old_port = node_port(svc, 80)

    # change the Service port (node port kept): same socket, new answer
    ports = [{**svc["spec"]["ports"][0], "port": 8080}]
    core.patch_namespaced_service("web", "default", {"spec": {"ports": ports}}, _content_type=MERGE)
    cluster.wait_for_listeners("default", "web")
    assert (
        http_get(ip, old_port)[1] == f"node={cluster.nodes[0].name} service=default/web port=8080\n"
    )

    # add a port: a new node port is served
    ports.append({"name": "extra", "port": 9000, "protocol": "TCP"})
    changed = core.patch_namespaced_service(
        "web", "default", {"spec": {"ports": ports}}, _content_type=MERGE
    )
    extra = next(p.node_port for p in changed.spec.ports if p.port == 9000)
    cluster.wait_for_listeners("default", "web")
    assert http_get(ip, extra)[1].endswith("port=9000\n")

    core.delete_namespaced_service("web", "default")
    cluster.simulator.wait_until(
        lambda s: ("Service", ("default", "web")) not in s.seen, 5, "service deleted"
    )
    assert refused(ip, old_port) and refused(ip, extra)


def test_two_clusters_in_one_process_serve_the_same_node_ports_apart() -> None:
    with running_fake_cluster(nodes=1) as a, running_fake_cluster(nodes=1) as b:
        assert a.subnet != b.subnet
        answers = {}
        for name, c in (("a", a), ("b", b)):
            api_client = c.kube.api_client()
            svc = create_service(k8s.CoreV1Api(api_client), f"svc-{name}", [(80, "TCP")])
            api_client.close()
            c.wait_for_listeners("default", f"svc-{name}")
            answers[name] = http_get(c.nodes[0].ip, node_port(svc, 80))[1]
        assert answers == {
            "a": "node=node-1 service=default/svc-a port=80\n",
            "b": "node=node-1 service=default/svc-b port=80\n",
        }


def test_stopping_closes_sockets_and_open_connections_and_joins_threads() -> None:
    before = set(threading.enumerate())
    with running_fake_cluster(nodes=2) as c:
        ip = c.nodes[0].ip
        import socket

        held = socket.create_connection((ip, 10256), timeout=5)
    assert refused(ip, 10256)
    assert held.recv(1) == b""  # the server closed our idle connection
    held.close()
    leftover = [t for t in set(threading.enumerate()) - before if t.name.startswith("fakecluster")]
    assert leftover == []


def test_requested_subnet_in_use_is_refused_naming_the_subnet() -> None:
    from cloud_lb.testing.fakecluster import SubnetUnavailableError

    with (
        running_fake_cluster(nodes=0) as a,
        pytest.raises(SubnetUnavailableError, match=str(a.subnet)),
    ):
        FakeCluster(nodes=0, node_subnet=a.subnet).start()  # cleans up after itself


def test_dropped_watches_resume_without_losing_a_change(
    cluster: FakeCluster, core: k8s.CoreV1Api
) -> None:
    assert cluster.kube.faults.drop_watches() >= 3
    svc = create_service(core, "after-drop", [(80, "TCP")])
    cluster.wait_for_listeners("default", "after-drop")
    assert http_get(cluster.nodes[1].ip, node_port(svc, 80))[0] == 200


def test_expired_watches_relist_and_forget_what_was_deleted_meanwhile(
    cluster: FakeCluster, core: k8s.CoreV1Api
) -> None:
    old = create_service(core, "old", [(80, "TCP")])
    cluster.wait_for_listeners("default", "old")
    ip = cluster.nodes[0].ip
    cluster.kube.faults.fail_next(2, resource="endpointslices", verb="list")  # relist backs off
    cluster.kube.faults.expire_next_watch()
    cluster.kube.faults.drop_watches()
    core.delete_namespaced_service("old", "default")
    new = create_service(core, "new", [(81, "TCP")])
    cluster.wait_for_listeners("default", "new")
    cluster.simulator.wait_until(
        lambda s: ("Service", ("default", "old")) not in s.seen, 5, "old gone"
    )
    assert (
        http_get(ip, node_port(new, 81))[1]
        == f"node={cluster.nodes[0].name} service=default/new port=81\n"
    )
    if node_port(old, 80) != node_port(new, 81):
        assert refused(ip, node_port(old, 80))
    cluster.set_ready(cluster.nodes[0].name, False)  # and the node watch works again
    assert health(ip, 10256)[0] == 503


def test_node_port_services_are_served_too_and_cluster_ip_ones_are_not(
    cluster: FakeCluster, core: k8s.CoreV1Api
) -> None:
    svc = create_service(core, "np", [(80, "TCP")], service_type="NodePort")
    create_service(core, "cip", [(80, "TCP")], service_type="ClusterIP")
    cluster.wait_for_listeners("default", "np")
    cluster.wait_for_listeners("default", "cip")  # nothing to wait for: returns
    assert http_get(cluster.nodes[2].ip, node_port(svc, 80))[0] == 200
    roles = {role.service for role in cluster.snapshot().bound.values()}
    assert ("default", "cip") not in roles and ("default", "np") in roles
