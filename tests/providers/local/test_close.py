"""close() stops the loop thread and closes every socket, live connections included."""

from __future__ import annotations

import os
import socket
import threading

import pytest

from cloud_lb.model import Protocol
from providers.local.addresses import try_lease
from tests.providers.local.conftest import http_check, listener, make_ref, spec_for
from tests.providers.local.nodes import free_port


def _socket_fds() -> set[str]:
    """The socket inodes this process has open."""
    out = set()
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            continue
        if target.startswith("socket:"):
            out.add(target)
    return out


def test_close_leaves_no_thread_and_no_socket(make_provider, make_nodes) -> None:
    nodes = make_nodes(1)
    before = _socket_fds()
    lb = make_provider()
    port = free_port()
    check = http_check(nodes)
    spec = spec_for(make_ref(lb.cluster), nodes,
                    listener(Protocol.TCP, port, nodes.tcp_ports[0], check),
                    listener(Protocol.UDP, port, nodes.udp_port, check))
    address = lb.provider.ensure(spec).ingress[0].ip
    client = socket.create_connection((address, port), timeout=5)  # a live proxied connection
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        udp.sendto(b"x", (address, port))
        udp.settimeout(5)
        udp.recvfrom(100)  # a live UDP flow
        assert any(t.name.startswith("cloud-lb-local") for t in threading.enumerate())

        lb.provider.close()

        assert not any(t.name.startswith("cloud-lb-local") for t in threading.enumerate())
        client.settimeout(5)
        try:
            assert client.recv(100) == b""
        except ConnectionResetError:
            pass
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection((address, port), timeout=5).close()
        lease = try_lease(address)
        assert lease is not None, "the address lease outlived close()"
        lease.release()
    finally:
        client.close()
        udp.close()
    nodes.close()
    assert _socket_fds() <= before
    lb.provider.close()  # idempotent
