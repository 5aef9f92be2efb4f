"""Adding, removing and retargeting ports touches only those listeners."""

from __future__ import annotations

import dataclasses

import pytest

from cloud_lb.model import Protocol
from tests.providers.local.conftest import Harness, http_check, listener, make_ref, spec_for
from tests.providers.local.nodes import free_port, tcp_request


def _delta(lb: Harness, before: dict[str, int]) -> dict[str, int]:
    after = lb.ops()
    return {op: n - before.get(op, 0) for op, n in after.items() if n != before.get(op, 0)}


def test_add_remove_and_retarget_a_port(make_provider, make_nodes) -> None:
    nodes = make_nodes(1, tcp_ports=2)
    lb = make_provider()
    check = http_check(nodes)
    port_a, port_b = free_port(), free_port()
    a = listener(Protocol.TCP, port_a, nodes.tcp_ports[0], check)
    b = listener(Protocol.TCP, port_b, nodes.tcp_ports[0], check)
    spec = spec_for(make_ref(lb.cluster), nodes, a)
    address = lb.provider.ensure(spec).ingress[0].ip

    before = lb.ops()
    status = lb.provider.ensure(dataclasses.replace(spec, listeners=(a, b)))
    assert _delta(lb, before) == {"bind_listener": 1}
    assert sorted(status.listeners) == sorted([f"TCP/{port_a}", f"TCP/{port_b}"])
    assert tcp_request(address, port_a, b"a") == b"node-0/0:a"
    assert tcp_request(address, port_b, b"b") == b"node-0/0:b"

    before = lb.ops()
    status = lb.provider.ensure(dataclasses.replace(spec, listeners=(b,)))
    assert _delta(lb, before) == {"unbind_listener": 1}
    assert status.listeners == (f"TCP/{port_b}",)
    with pytest.raises(ConnectionRefusedError):
        tcp_request(address, port_a)
    assert tcp_request(address, port_b, b"b") == b"node-0/0:b"

    # a new node port on the same front-end port is retargeted in place
    moved = dataclasses.replace(b, node_port=nodes.tcp_ports[1])
    before = lb.ops()
    lb.provider.ensure(dataclasses.replace(spec, listeners=(moved,)))
    assert _delta(lb, before) == {"update_listener": 1}
    assert tcp_request(address, port_b, b"b") == b"node-0/1:b"


def test_backends_change_without_listener_churn(make_provider, make_nodes) -> None:
    """update_backends from three nodes to one: one set_backends call, traffic follows."""
    nodes = make_nodes(3)
    lb = make_provider()
    port = free_port()
    spec = spec_for(make_ref(lb.cluster), nodes,
                    listener(Protocol.TCP, port, nodes.tcp_ports[0], http_check(nodes)))
    address = lb.provider.ensure(spec).ingress[0].ip
    before = lb.ops()
    lb.provider.update_backends(dataclasses.replace(spec, backends=spec.backends[2:]))
    assert _delta(lb, before) == {"set_backends": 1}
    assert {tcp_request(address, port).split(b"/")[0] for _ in range(3)} == {b"node-2"}
