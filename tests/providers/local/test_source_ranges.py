"""loadBalancerSourceRanges: sources outside the allow-list are refused (TCP reset) or
dropped (UDP), checked against the client's real source address."""

from __future__ import annotations

import dataclasses
import errno
import socket

import pytest

from cloud_lb.model import Protocol
from tests.providers.local.conftest import http_check, listener, make_ref, spec_for
from tests.providers.local.nodes import free_port, tcp_request, udp_exchange

ALLOWED, OTHER = "127.0.0.1", "127.0.0.2"


def _tcp_refused(address: str, port: int, source: str) -> bool:
    try:
        reply = tcp_request(address, port, b"x", source=source)
    except (ConnectionResetError, BrokenPipeError):
        return True
    except OSError as exc:
        # reset before our half-close: shutdown() reports the connection as gone
        if exc.errno == errno.ENOTCONN:
            return True
        raise
    return reply == b""


def _udp(address: str, port: int, source: str, payload: bytes = b"x", *,
         timeout: float) -> bytes | None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as client:
        client.bind((source, 0))
        return udp_exchange(client, address, port, payload, timeout=timeout)


def test_only_allowed_sources_reach_the_backends(make_provider, make_nodes) -> None:
    nodes = make_nodes(1)
    lb = make_provider()
    port = free_port()
    check = http_check(nodes)
    spec = spec_for(make_ref(lb.cluster), nodes,
                    listener(Protocol.TCP, port, nodes.tcp_ports[0], check),
                    listener(Protocol.UDP, port, nodes.udp_port, check),
                    source_ranges=(f"{ALLOWED}/32",))
    address = lb.provider.ensure(spec).ingress[0].ip
    node = nodes.nodes[0]

    assert tcp_request(address, port, b"x", source=ALLOWED) == b"node-0/0:x"
    assert _udp(address, port, ALLOWED, timeout=5) == b"node-0:x"
    tcp_hits, udp_hits = len(node.tcp_hits), node.udp_hits
    assert _tcp_refused(address, port, OTHER)
    assert _udp(address, port, OTHER, timeout=0.5) is None
    assert (len(node.tcp_hits), node.udp_hits) == (tcp_hits, udp_hits)

    # a new allow-list is one call, and applies to the next connection
    before = lb.ops()
    lb.provider.ensure(dataclasses.replace(spec, source_ranges=(f"{OTHER}/32",)))
    after = lb.ops()
    assert {op: n - before.get(op, 0) for op, n in after.items() if n != before.get(op, 0)} == {
        "set_source_ranges": 1
    }
    assert tcp_request(address, port, b"y", source=OTHER) == b"node-0/0:y"
    assert _udp(address, port, OTHER, b"y", timeout=5) == b"node-0:y"
    assert _tcp_refused(address, port, ALLOWED)


@pytest.mark.parametrize("ranges, allowed", [
    ((), True),                                     # empty means everyone
    (("127.0.0.0/8",), True),
    (("10.0.0.0/8", "127.0.0.1/32"), True),
    (("10.0.0.0/8",), False),
])
def test_allow_list_semantics(make_provider, make_nodes, ranges, allowed) -> None:
    nodes = make_nodes(1)
    lb = make_provider()
    port = free_port()
    spec = spec_for(make_ref(lb.cluster), nodes,
                    listener(Protocol.TCP, port, nodes.tcp_ports[0], http_check(nodes)),
                    source_ranges=ranges)
    address = lb.provider.ensure(spec).ingress[0].ip
    assert (not _tcp_refused(address, port, ALLOWED)) is allowed
