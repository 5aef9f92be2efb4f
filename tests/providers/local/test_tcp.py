"""TCP through a local load balancer reaches the backends, round robin."""

from __future__ import annotations

import os
from collections import Counter

from cloud_lb.model import Protocol
from tests.providers.local.conftest import (
    healthy_count,
    http_check,
    listener,
    make_ref,
    spec_for,
    wait_until,
)
from tests.providers.local.nodes import answered_by, free_port, tcp_request


def test_connections_are_spread_round_robin(make_provider, make_nodes) -> None:
    """Six connections over three healthy nodes: each node twice, in a fixed cycle."""
    nodes = make_nodes(3)
    lb = make_provider()
    ref = make_ref(lb.cluster)
    port = free_port()
    spec = spec_for(ref, nodes, listener(Protocol.TCP, port, nodes.tcp_ports[0], http_check(nodes)))
    status = lb.provider.ensure(spec)
    address = status.ingress[0].ip
    assert address is not None
    assert status.ingress[0].ip_mode is not None and status.ingress[0].ip_mode.value == "Proxy"
    assert status.listeners == (f"TCP/{port}",)
    wait_until(lambda: healthy_count(lb, ref) == 3, "three healthy backends")

    replies = [tcp_request(address, port, f"req-{i}".encode()) for i in range(6)]
    names = [answered_by(r) for r in replies]
    assert Counter(names) == {"node-0": 2, "node-1": 2, "node-2": 2}
    assert names[3:] == names[:3]
    assert all(r.endswith(f":req-{i}".encode()) for i, r in enumerate(replies))


def test_large_payload_and_half_close_pass_through(make_provider, make_nodes) -> None:
    """A megabyte sent, then the client's write side closed: all of it comes back."""
    nodes = make_nodes(1)
    lb = make_provider()
    port = free_port()
    spec = spec_for(make_ref(lb.cluster), nodes,
                    listener(Protocol.TCP, port, nodes.tcp_ports[0], http_check(nodes)))
    address = lb.provider.ensure(spec).ingress[0].ip
    payload = os.urandom(1 << 20)
    reply = tcp_request(address, port, payload)
    assert reply == b"node-0/0:" + payload


def test_a_refused_backend_is_skipped_for_the_next(make_provider, make_nodes) -> None:
    """A node whose node port is closed (before any health check notices) costs the
    client nothing: the connection goes to the next backend."""
    nodes = make_nodes(2)
    nodes.stop(0, "tcp0")
    lb = make_provider(healthCheck={"intervalSeconds": 3600})  # only the first probe runs
    port = free_port()
    spec = spec_for(make_ref(lb.cluster), nodes,
                    listener(Protocol.TCP, port, nodes.tcp_ports[0], http_check(nodes)))
    address = lb.provider.ensure(spec).ingress[0].ip
    assert {answered_by(tcp_request(address, port)) for _ in range(4)} == {"node-1"}
