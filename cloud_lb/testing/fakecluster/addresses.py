"""Choosing the loopback addresses that the simulated nodes live on.

Every fake cluster allocates the same node ports (30000 upwards) and every simulated node
serves kube-proxy's health port 10256, so two clusters on one host (pytest-xdist runs
several at once) must put their nodes on different addresses. Linux answers on the whole
127.0.0.0/8 on the loopback interface, so each cluster gets its own /24 in there:

- the CLI default is 127.0.1.0/24 (nodes 127.0.1.1, 127.0.1.2, ...), easy to type;
- in-process clusters pick a /24 derived from the process id and a counter, outside
  127.0.0.0/16 (which holds 127.0.0.1 and the CLI default) and outside 127.240.0.0/12
  (127.240.0.0/16 is the local load balancer's address pool; the rest is kept clear).

A subnet is *claimed* by binding a TCP socket to its network address (`.0`) on port
10256 without SO_REUSEADDR: the kernel refuses a second bind of that address and port,
so two clusters — in one process or in two — never get the same /24, and the claim goes
away with the socket (or the process). Node addresses are the hosts `.1` to `.254`.
"""

from __future__ import annotations

import ipaddress
import itertools
import logging
import os
import socket
import threading
from dataclasses import dataclass, field
from typing import Self

log = logging.getLogger(__name__)

CLI_DEFAULT_SUBNET = ipaddress.IPv4Network("127.0.1.0/24")
LOOPBACK = ipaddress.IPv4Network("127.0.0.0/8")
# never hand these out automatically: 127.0.0.1 and the CLI default, and the local load
# balancer pool (with some room around it)
RESERVED = (ipaddress.IPv4Network("127.0.0.0/16"), ipaddress.IPv4Network("127.240.0.0/12"))
CLAIM_PORT = 10256
# /24s available for automatic choice: second octet 1..239, third octet 0..255
_AUTO_SECOND_OCTETS = range(1, 240)
_AUTO_COUNT = len(_AUTO_SECOND_OCTETS) * 256

_counter = itertools.count()
_counter_lock = threading.Lock()


class SubnetUnavailableError(RuntimeError):
    """The requested node subnet is in use (by another fake cluster) or not usable."""


@dataclass
class SubnetClaim:
    """A /24 of loopback addresses held by one fake cluster until `release()`."""

    network: ipaddress.IPv4Network
    _sock: socket.socket | None = field(repr=False, default=None)

    def host(self, index: int) -> str:
        """The address of node number `index` (1-based): `.1`, `.2`, ... `.254`."""
        if not 1 <= index <= 254:
            raise ValueError(f"node index {index} is outside 1..254 of {self.network}")
        return str(self.network.network_address + index)

    def release(self) -> None:
        if self._sock is not None:
            self._sock.close()
            self._sock = None
            log.debug("event=subnet_released subnet=%s", self.network)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def parse_subnet(value: str | ipaddress.IPv4Network) -> ipaddress.IPv4Network:
    """Validate a user-given node subnet: a /24 inside 127.0.0.0/8 that avoids 127.0.0.1."""
    try:
        network = ipaddress.IPv4Network(value)
    except ValueError as exc:
        raise SubnetUnavailableError(f"node subnet {value!r} is not an IPv4 /24: {exc}") from exc
    if network.prefixlen != 24 or not network.subnet_of(LOOPBACK):
        raise SubnetUnavailableError(
            f"node subnet {network} must be a /24 inside {LOOPBACK} (e.g. {CLI_DEFAULT_SUBNET})"
        )
    if network == ipaddress.IPv4Network("127.0.0.0/24"):
        raise SubnetUnavailableError(f"node subnet {network} holds 127.0.0.1; pick another /24")
    return network


def claim_subnet(value: str | ipaddress.IPv4Network) -> SubnetClaim:
    """Claim exactly this subnet, or raise SubnetUnavailableError saying who may hold it."""
    network = parse_subnet(value)
    sock = _try_claim(network)
    if sock is None:
        raise SubnetUnavailableError(
            f"node subnet {network} is in use ({network.network_address}:{CLAIM_PORT} is bound,"
            " probably by another fake cluster); choose another subnet"
        )
    log.debug("event=subnet_claimed subnet=%s", network)
    return SubnetClaim(network, sock)


def claim_free_subnet() -> SubnetClaim:
    """Claim a /24 no other fake cluster on this host holds, starting from a spot derived
    from the pid and a per-process counter so that parallel workers rarely even probe."""
    with _counter_lock:
        serial = next(_counter)
    start = (os.getpid() * 7919 + serial * 104729) % _AUTO_COUNT
    for offset in range(_AUTO_COUNT):
        network = _auto_subnet((start + offset) % _AUTO_COUNT)
        sock = _try_claim(network)
        if sock is not None:
            log.debug("event=subnet_claimed subnet=%s probes=%d", network, offset + 1)
            return SubnetClaim(network, sock)
    raise SubnetUnavailableError("every automatic node subnet in 127.0.0.0/8 is in use")


def _auto_subnet(index: int) -> ipaddress.IPv4Network:
    second = _AUTO_SECOND_OCTETS[index // 256]
    third = index % 256
    return ipaddress.IPv4Network(f"127.{second}.{third}.0/24")


def _try_claim(network: ipaddress.IPv4Network) -> socket.socket | None:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        # deliberately no SO_REUSEADDR: a second bind of the same address must fail
        sock.bind((str(network.network_address), CLAIM_PORT))
    except OSError:
        sock.close()
        return None
    return sock
