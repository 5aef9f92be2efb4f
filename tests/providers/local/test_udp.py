"""UDP through a local load balancer: one flow per client address, round robin."""

from __future__ import annotations

import socket
import time

from cloud_lb.model import Protocol
from tests.providers.local.conftest import (
    healthy_count,
    http_check,
    listener,
    make_ref,
    spec_for,
    wait_until,
)
from tests.providers.local.nodes import answered_by, free_port, udp_exchange


def test_flows_go_round_robin_and_stick_to_their_backend(make_provider, make_nodes) -> None:
    """Three clients land on three nodes; each client's datagrams stay on its node."""
    nodes = make_nodes(3)
    lb = make_provider()
    ref = make_ref(lb.cluster)
    port = free_port()
    spec = spec_for(ref, nodes, listener(Protocol.UDP, port, nodes.udp_port, http_check(nodes)))
    address = lb.provider.ensure(spec).ingress[0].ip
    wait_until(lambda: healthy_count(lb, ref) == 3, "three healthy backends")

    clients = [socket.socket(socket.AF_INET, socket.SOCK_DGRAM) for _ in range(3)]
    try:
        for c in clients:
            c.bind(("127.0.0.1", 0))
        first = [udp_exchange(c, address, port, b"one") for c in clients]
        second = [udp_exchange(c, address, port, b"two") for c in clients]
    finally:
        for c in clients:
            c.close()
    got_first = [r for r in first if r is not None]
    got_second = [r for r in second if r is not None]
    assert len(got_first) == len(got_second) == 3, (first, second)
    assert sorted(answered_by(r) for r in got_first) == ["node-0", "node-1", "node-2"]
    assert [answered_by(r) for r in got_second] == [answered_by(r) for r in got_first]
    assert all(r.endswith(b":two") for r in got_second)


def test_an_idle_flow_expires_and_the_next_datagram_opens_a_new_one(
    make_provider, make_nodes
) -> None:
    nodes = make_nodes(2)
    lb = make_provider(udpIdleTimeoutSeconds=0.1)
    ref = make_ref(lb.cluster)
    port = free_port()
    spec = spec_for(ref, nodes, listener(Protocol.UDP, port, nodes.udp_port, http_check(nodes)))
    address = lb.provider.ensure(spec).ingress[0].ip
    wait_until(lambda: healthy_count(lb, ref) == 2, "two healthy backends")
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as client:
        client.bind(("127.0.0.1", 0))
        reply = udp_exchange(client, address, port)
        assert reply is not None
        first = answered_by(reply)
        seen = {first}
        deadline = time.monotonic() + 20
        gap = 0.2
        while len(seen) < 2 and time.monotonic() < deadline:
            time.sleep(gap)  # silence longer than the idle timeout ends the flow
            gap = min(gap * 2, 2.0)
            reply = udp_exchange(client, address, port)
            assert reply is not None
            seen.add(answered_by(reply))
    assert seen == {"node-0", "node-1"}


def test_tcp_and_udp_share_a_port_number(make_provider, make_nodes) -> None:
    """Mixed protocols on one load balancer: TCP/p and UDP/p are two listeners."""
    from tests.providers.local.nodes import tcp_request

    nodes = make_nodes(1)
    lb = make_provider()
    port = free_port()
    check = http_check(nodes)
    spec = spec_for(make_ref(lb.cluster), nodes,
                    listener(Protocol.TCP, port, nodes.tcp_ports[0], check),
                    listener(Protocol.UDP, port, nodes.udp_port, check))
    status = lb.provider.ensure(spec)
    address = status.ingress[0].ip
    assert sorted(status.listeners) == [f"TCP/{port}", f"UDP/{port}"]
    assert tcp_request(address, port, b"t") == b"node-0/0:t"
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as client:
        assert udp_exchange(client, address, port, b"u") == b"node-0:u"
