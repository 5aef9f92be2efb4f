"""Property: with distinct node addresses and node ports (what a real API server
guarantees), every node gets exactly one socket per served port and nothing conflicts."""

from __future__ import annotations

import os

from hypothesis import given, settings
from hypothesis import strategies as st

from cloud_lb.testing.fakecluster.listeners import RoleKind, desired_listeners
from cloud_lb.testing.fakecluster.nodes import NodeView
from cloud_lb.testing.fakecluster.services import NodePortView, ServiceView

EXAMPLES = 500 if os.environ.get("CLOUD_LB_FULL") == "1" else 60

protocols = st.sampled_from(["TCP", "UDP", "SCTP"])


@st.composite
def clusters(draw: st.DrawFn) -> tuple[list[NodeView], list[ServiceView]]:
    hosts = draw(st.lists(st.integers(1, 254), unique=True, max_size=6))
    nodes = [NodeView(f"n{h}", (f"127.7.7.{h}",), draw(st.booleans()), False, "1") for h in hosts]
    ports = draw(st.lists(st.integers(30000, 32767), unique=True, max_size=12))
    services = []
    while ports:
        take = draw(st.integers(1, len(ports)))
        mine, ports = ports[:take], ports[take:]
        hc = mine.pop() if len(mine) > 1 and draw(st.booleans()) else None
        services.append(
            ServiceView(
                ("ns", f"s{len(services)}"),
                tuple(NodePortView(draw(st.integers(1, 65535)), draw(protocols), p) for p in mine),
                hc,
                "1",
            )
        )
    return nodes, services


@settings(max_examples=EXAMPLES, deadline=None)
@given(clusters())
def test_one_socket_per_node_and_served_port_without_conflicts(
    drawn: tuple[list[NodeView], list[ServiceView]],
) -> None:
    nodes, services = drawn
    wanted, conflicts = desired_listeners(nodes, services)
    assert conflicts == []
    per_node = 1 + sum(
        sum(p.protocol != "SCTP" for p in s.ports) + (s.health_check_node_port is not None)
        for s in services
    )
    assert len(wanted) == len(nodes) * per_node
    by_name = {n.name: n for n in nodes}
    by_key = {s.key: s for s in services}
    for (address, protocol, port), role in wanted.items():
        assert address in by_name[role.node].addresses  # a socket only on its own node
        if role.kind is RoleKind.HEALTH_CHECK:
            assert role.service is not None
            assert (protocol, port) == ("TCP", by_key[role.service].health_check_node_port)
        elif role.kind is RoleKind.NODE_PORT:
            assert role.service is not None
            served = {(p.protocol, p.node_port, p.port) for p in by_key[role.service].ports}
            assert (protocol, port, role.service_port) in served
        else:
            assert (protocol, port) == ("TCP", 10256)
