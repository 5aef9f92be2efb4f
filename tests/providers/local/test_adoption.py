"""Restart and adoption: the state file keeps each load balancer's address and owner."""

from __future__ import annotations

import dataclasses
import ipaddress
import socket

import pytest

from cloud_lb.model import Protocol
from cloud_lb.provider import CloudError, InvalidSpecError, OwnershipError
from providers.local.addresses import try_lease
from tests.providers.local.conftest import http_check, listener, make_ref, spec_for
from tests.providers.local.nodes import free_port, tcp_request


def _hosts(pool: str) -> list[str]:
    return [str(h) for h in ipaddress.IPv4Network(pool).hosts()]


def test_a_restarted_provider_adopts_the_same_address(make_provider, make_nodes) -> None:
    nodes = make_nodes(2)
    first = make_provider()
    ref = make_ref(first.cluster)
    port = free_port()
    spec = spec_for(ref, nodes, listener(Protocol.TCP, port, nodes.tcp_ports[0], http_check(nodes)))
    address = first.provider.ensure(spec).ingress[0].ip
    first.provider.close()
    with pytest.raises(ConnectionRefusedError):  # the listeners died with their process
        tcp_request(address, port)

    second = make_provider()
    assert second.provider.list_owned() == [ref]
    recorded = second.provider.get(ref)
    assert recorded is not None and recorded.ingress[0].ip == address
    assert recorded.listeners == ()  # recorded, not yet served
    assert second.provider.plan(spec)[0].action == "create"

    status = second.provider.ensure(spec)
    assert status.ingress[0].ip == address
    assert second.ops() == {"adopt_address": 1, "set_source_ranges": 1, "set_backends": 1,
                            "bind_listener": 1}
    assert tcp_request(address, port, b"again").endswith(b":again")
    mutations = second.recorder.mutations()
    second.provider.ensure(spec)
    assert second.recorder.mutations() == mutations


def test_a_second_process_sees_but_cannot_change_a_served_cluster(make_provider, make_nodes) -> None:
    """While one provider serves the cluster (holding the state lock), another - like
    `cloud-lb plan` or `status` - reads the recorded state and is refused changes."""
    nodes = make_nodes(1)
    serving = make_provider()
    ref = make_ref(serving.cluster)
    port = free_port()
    spec = spec_for(ref, nodes, listener(Protocol.TCP, port, nodes.tcp_ports[0], http_check(nodes)))
    serving.provider.ensure(spec)

    reader = make_provider()
    status = reader.provider.get(ref)
    assert status is not None and status.listeners == (f"TCP/{port}",)
    assert reader.provider.plan(spec) == []
    changed = dataclasses.replace(spec, source_ranges=("10.0.0.0/8",))
    assert [c.resource for c in reader.provider.plan(changed)] == ["source-ranges"]
    with pytest.raises(CloudError, match="another process serves"):
        reader.provider.ensure(changed)
    with pytest.raises(CloudError, match="another process serves"):
        reader.provider.delete(ref)
    assert reader.recorder.mutations() == 0


def test_addresses_held_elsewhere_are_skipped(make_provider, make_nodes, pool) -> None:
    """The first pool address is leased by another cloud-lb process, the second has an
    unrelated program on the listener port: the load balancer gets the third."""
    nodes = make_nodes(1)
    first, second, third = _hosts(pool)[:3]
    port = free_port()
    lease = try_lease(first)
    assert lease is not None
    squatter = socket.socket()
    try:
        squatter.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        squatter.bind((second, port))
        squatter.listen()
        lb = make_provider()
        spec = spec_for(make_ref(lb.cluster), nodes,
                        listener(Protocol.TCP, port, nodes.tcp_ports[0], http_check(nodes)))
        assert lb.provider.ensure(spec).ingress[0].ip == third
    finally:
        squatter.close()
        lease.release()


def test_static_ip_inside_the_pool_and_moving_it(make_provider, make_nodes, pool) -> None:
    nodes = make_nodes(1)
    lb = make_provider()
    hosts = _hosts(pool)
    port = free_port()
    spec = spec_for(make_ref(lb.cluster), nodes,
                    listener(Protocol.TCP, port, nodes.tcp_ports[0], http_check(nodes)),
                    static_ip=hosts[9])
    assert lb.provider.ensure(spec).ingress[0].ip == hosts[9]
    before = lb.ops()
    moved = lb.provider.ensure(dataclasses.replace(spec, static_ip=hosts[19]))
    assert moved.ingress[0].ip == hosts[19]
    delta = {op: n - before.get(op, 0) for op, n in lb.ops().items() if n != before.get(op, 0)}
    assert delta == {"unbind_listener": 1, "release_address": 1, "allocate_address": 1,
                     "bind_listener": 1}
    assert tcp_request(hosts[19], port, b"m") == b"node-0/0:m"
    with pytest.raises(ConnectionRefusedError):
        tcp_request(hosts[9], port)
    with pytest.raises(InvalidSpecError) as info:
        lb.provider.ensure(dataclasses.replace(spec, static_ip="10.1.2.3"))
    assert info.value.field == "spec.loadBalancerIP"


def test_another_clusters_spec_is_refused(make_provider, make_nodes) -> None:
    nodes = make_nodes(1)
    lb = make_provider()
    foreign = make_ref("some-other-cluster")
    spec = spec_for(foreign, nodes,
                    listener(Protocol.TCP, free_port(), nodes.tcp_ports[0], http_check(nodes)))
    with pytest.raises(OwnershipError):
        lb.provider.ensure(spec)
    with pytest.raises(OwnershipError):
        lb.provider.delete(foreign)
    assert lb.provider.get(foreign) is None
    assert lb.recorder.mutations() == 0
