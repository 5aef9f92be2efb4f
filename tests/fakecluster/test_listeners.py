"""The sockets each simulated node should hold, as a table."""

from __future__ import annotations

from cloud_lb.testing.fakecluster.listeners import Role, RoleKind, desired_listeners
from cloud_lb.testing.fakecluster.nodes import NodeView
from cloud_lb.testing.fakecluster.services import NodePortView, ServiceView


def node(name: str, *addresses: str) -> NodeView:
    return NodeView(name, addresses, ready=True, deleting=False, resource_version="1")


def service(name: str, *ports: NodePortView, hc: int | None = None) -> ServiceView:
    return ServiceView(("ns", name), ports, hc, "1")


def test_every_node_serves_kube_proxy_health_even_without_services() -> None:
    wanted, conflicts = desired_listeners([node("a", "127.1.1.1"), node("b", "127.1.1.2")], [])
    assert wanted == {
        ("127.1.1.1", "TCP", 10256): Role(RoleKind.PROXY_HEALTH, "a"),
        ("127.1.1.2", "TCP", 10256): Role(RoleKind.PROXY_HEALTH, "b"),
    }
    assert conflicts == []


def test_node_ports_per_protocol_and_health_check_port_on_every_node() -> None:
    svc = service(
        "web",
        NodePortView(80, "TCP", 30080),
        NodePortView(53, "UDP", 30053),
        NodePortView(53, "TCP", 30053),
        hc=32000,
    )
    wanted, _ = desired_listeners([node("a", "127.1.1.1"), node("b", "127.1.1.2")], [svc])
    for name, ip in (("a", "127.1.1.1"), ("b", "127.1.1.2")):
        assert wanted[(ip, "TCP", 30080)] == Role(RoleKind.NODE_PORT, name, ("ns", "web"), 80)
        # one node port number, two protocols: two sockets, same Service port
        assert wanted[(ip, "UDP", 30053)] == Role(RoleKind.NODE_PORT, name, ("ns", "web"), 53)
        assert wanted[(ip, "TCP", 30053)] == Role(RoleKind.NODE_PORT, name, ("ns", "web"), 53)
        assert wanted[(ip, "TCP", 32000)] == Role(RoleKind.HEALTH_CHECK, name, ("ns", "web"))
    assert len(wanted) == 2 * 5


def test_sctp_ports_and_nodes_without_addresses_get_no_socket() -> None:
    svc = service("s", NodePortView(9, "SCTP", 30009))
    wanted, _ = desired_listeners([node("a", "127.1.1.1"), node("bare")], [svc])
    assert set(wanted) == {("127.1.1.1", "TCP", 10256)}


def test_a_shared_address_keeps_the_first_node_and_reports_the_conflict() -> None:
    wanted, conflicts = desired_listeners([node("b", "127.1.1.1"), node("a", "127.1.1.1")], [])
    assert wanted == {("127.1.1.1", "TCP", 10256): Role(RoleKind.PROXY_HEALTH, "a")}
    assert [(c.kept.node, c.dropped.node) for c in conflicts] == [("a", "b")]
