"""Addresses for local load balancers: which to try (pure) and how to hold one.

Allocation is "first free host address of the pool". Free means: no state file in
`stateDir` records it (any cluster), no other process on this host holds it (the
lease, below), and every listener port binds on it (an unrelated program may listen
there; EADDRINUSE moves on to the next address, so parallel test runs on one host
never collide).

The lease: a loopback address cannot be reserved by itself, only `address:port`
pairs can, so two cloud-lb processes with different state dirs could otherwise put
load balancers on the same address with different ports. Each served address is
therefore leased by binding a Linux *abstract* unix socket named after it: the name
is unique per network namespace (the same scope as the loopback addresses), binding
fails with EADDRINUSE while another process holds it, and the kernel frees it when
the holder dies — no stale lock files. Nothing in the standard library or a common
package does this, hence the few lines here. On other systems the lease is a no-op.
"""

from __future__ import annotations

import errno
import ipaddress
import socket
import sys
from collections.abc import Collection, Iterator

from cloud_lb.model import Protocol

LEASE_PREFIX = "\0cloud-lb-local/"


def candidates(pool: ipaddress.IPv4Network, taken: Collection[str]) -> Iterator[str]:
    """Host addresses of `pool` in order, without those in `taken`."""
    for host in pool.hosts():
        address = str(host)
        if address not in taken:
            yield address


def in_pool(pool: ipaddress.IPv4Network, address: str) -> bool:
    try:
        return ipaddress.ip_address(address) in pool
    except ValueError:
        return False


class AddressLease:
    """Holds one address for this process until `release()`."""

    def __init__(self, address: str, sock: socket.socket | None) -> None:
        self.address = address
        self._sock = sock

    def release(self) -> None:
        if self._sock is not None:
            self._sock.close()
            self._sock = None

    def __repr__(self) -> str:
        return f"AddressLease({self.address!r}, held={self._sock is not None})"


def try_lease(address: str) -> AddressLease | None:
    """The lease on `address`, or None when another process holds it."""
    if not sys.platform.startswith("linux"):
        return AddressLease(address, None)
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.bind(LEASE_PREFIX + address)
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            return None
        raise
    return AddressLease(address, sock)


def ports_bindable(address: str, ports: Collection[tuple[Protocol, int]]) -> OSError | None:
    """Whether every (protocol, port) binds on `address` right now: None, or the error.

    A bind without listen is enough: Linux refuses it with EADDRINUSE while another
    socket listens on the pair or on the wildcard address with that port.
    """
    opened: list[socket.socket] = []
    try:
        for protocol, port in ports:
            kind = socket.SOCK_DGRAM if protocol is Protocol.UDP else socket.SOCK_STREAM
            sock = socket.socket(socket.AF_INET, kind)
            opened.append(sock)
            if kind == socket.SOCK_STREAM:
                # as the real listener will (asyncio sets it), so TIME_WAIT does not block
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((address, port))
    except OSError as exc:
        return exc
    finally:
        for sock in opened:
            sock.close()
    return None
