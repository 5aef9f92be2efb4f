"""Health checks: failing backends get no new traffic; none healthy means all (fail-open)."""

from __future__ import annotations

from collections import Counter

from cloud_lb.model import HealthCheck, HealthCheckProtocol, Protocol
from tests.providers.local.conftest import (
    healthy_count,
    http_check,
    listener,
    make_ref,
    spec_for,
    wait_until,
)
from tests.providers.local.nodes import answered_by, free_port, tcp_request


def _spread(address: str, port: int, n: int) -> Counter[str]:
    return Counter(answered_by(tcp_request(address, port)) for _ in range(n))


def test_http_503_takes_a_backend_out_until_it_answers_200(make_provider, make_nodes) -> None:
    nodes = make_nodes(3)
    lb = make_provider()
    ref = make_ref(lb.cluster)
    port = free_port()
    spec = spec_for(ref, nodes, listener(Protocol.TCP, port, nodes.tcp_ports[0], http_check(nodes)))
    address = lb.provider.ensure(spec).ingress[0].ip
    wait_until(lambda: healthy_count(lb, ref) == 3, "three healthy backends")

    nodes.nodes[1].health_code = 503
    wait_until(lambda: healthy_count(lb, ref) == 2, "node-1 marked unhealthy")
    assert _spread(address, port, 6) == {"node-0": 3, "node-2": 3}

    nodes.nodes[1].health_code = 200
    wait_until(lambda: healthy_count(lb, ref) == 3, "node-1 healthy again")
    assert _spread(address, port, 6) == {"node-0": 2, "node-1": 2, "node-2": 2}


def test_a_closed_health_port_takes_a_backend_out_until_it_reopens(make_provider, make_nodes) -> None:
    """TCP check on the health port: the node still serves its node port, yet gets
    nothing while the check's port is closed."""
    nodes = make_nodes(2)
    lb = make_provider()
    ref = make_ref(lb.cluster)
    port = free_port()
    check = HealthCheck(protocol=HealthCheckProtocol.TCP, port=nodes.health_port)
    spec = spec_for(ref, nodes, listener(Protocol.TCP, port, nodes.tcp_ports[0], check))
    address = lb.provider.ensure(spec).ingress[0].ip
    wait_until(lambda: healthy_count(lb, ref) == 2, "two healthy backends")

    nodes.stop(0, "health")
    wait_until(lambda: healthy_count(lb, ref) == 1, "node-0 marked unhealthy")
    served_before = len(nodes.nodes[0].tcp_hits)
    assert _spread(address, port, 4) == {"node-1": 4}
    assert len(nodes.nodes[0].tcp_hits) == served_before

    nodes.restart_health(0)
    wait_until(lambda: healthy_count(lb, ref) == 2, "node-0 healthy again")
    assert _spread(address, port, 4) == {"node-0": 2, "node-1": 2}


def test_no_healthy_backend_means_all_take_traffic(make_provider, make_nodes) -> None:
    """Fail-open, like Octavia and NLB: a broken health endpoint does not black-hole."""
    nodes = make_nodes(2)
    for node in nodes.nodes:
        node.health_code = 503
    lb = make_provider()
    ref = make_ref(lb.cluster)
    port = free_port()
    spec = spec_for(ref, nodes, listener(Protocol.TCP, port, nodes.tcp_ports[0], http_check(nodes)))
    address = lb.provider.ensure(spec).ingress[0].ip
    # probes of one check are sequential: a second request means the first was judged
    wait_until(lambda: all(n.health_requests >= 2 for n in nodes.nodes), "both nodes checked")
    assert healthy_count(lb, ref) == 0
    assert _spread(address, port, 4) == {"node-0": 2, "node-1": 2}
