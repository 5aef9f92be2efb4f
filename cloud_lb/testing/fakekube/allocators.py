"""Cluster IP and node port allocation, pure and in memory.

The store calls these under its lock, so they are not thread-safe on their own. Both
allocate at random (as the apiserver does, so tests cannot rely on sequential values)
and refuse a value that is taken or outside the range. Allocation inside one request is
made atomic by `Reservation`: whatever a failed request took is given back.
"""

from __future__ import annotations

import ipaddress
import random
from dataclasses import dataclass, field


class AllocationError(Exception):
    """A requested value is taken or out of range; the message is the apiserver's."""


class PortAllocator:
    def __init__(self, first: int = 30000, last: int = 32767, *, seed: int | None = None) -> None:
        self.first, self.last = first, last
        self.used: set[int] = set()
        self._random = random.Random(seed)

    def range_text(self) -> str:
        return f"{self.first}-{self.last}"

    def allocate(self, port: int) -> None:
        if not self.first <= port <= self.last:
            raise AllocationError(
                f"provided port is not in the valid range. The range of valid ports is "
                f"{self.range_text()}")
        if port in self.used:
            raise AllocationError("provided port is already allocated")
        self.used.add(port)

    def allocate_next(self) -> int:
        size = self.last - self.first + 1
        if len(self.used) >= size:
            raise AllocationError("range is full")
        start = self._random.randrange(size)
        for offset in range(size):
            port = self.first + (start + offset) % size
            if port not in self.used:
                self.used.add(port)
                return port
        raise AllocationError("range is full")  # unreachable: counted above

    def release(self, port: int) -> None:
        self.used.discard(port)


class IPAllocator:
    """Addresses of one service CIDR; the network address and `.1`-style first host are
    kept out of random allocation (the first host is the `kubernetes` Service's)."""

    def __init__(self, cidr: str, *, seed: int | None = None) -> None:
        self.network = ipaddress.ip_network(cidr)
        self.used: set[str] = set()
        self._random = random.Random(seed)
        # random picks come from a bounded window so huge IPv6 ranges stay cheap
        self._size = min(self.network.num_addresses - 2, 1 << 16)

    def allocate(self, ip: str) -> None:
        address = ipaddress.ip_address(ip)
        if address not in self.network:
            raise AllocationError(
                f"failed to allocate IP {ip}: the provided IP ({ip}) is not in the valid "
                f"range. The range of valid IPs is {self.network}")
        if str(address) in self.used:
            raise AllocationError(f"failed to allocate IP {ip}: provided IP is already allocated")
        self.used.add(str(address))

    def allocate_next(self) -> str:
        base = int(self.network.network_address)
        start = self._random.randrange(self._size)
        for offset in range(self._size):
            # skip offset 0 (network) and 1 (first host, reserved for `kubernetes`)
            ip = str(ipaddress.ip_address(base + 2 + (start + offset) % self._size))
            if ip not in self.used:
                self.used.add(ip)
                return ip
        raise AllocationError("range is full")

    def release(self, ip: str) -> None:
        self.used.discard(str(ipaddress.ip_address(ip)))


@dataclass
class Reservation:
    """What one request allocated, to give back if the request fails."""

    ports: PortAllocator
    ips: dict[str, IPAllocator]
    taken_ports: list[int] = field(default_factory=list)
    taken_ips: list[str] = field(default_factory=list)

    def port(self, requested: int | None) -> int:
        if requested:
            self.ports.allocate(requested)
            port = requested
        else:
            port = self.ports.allocate_next()
        self.taken_ports.append(port)
        return port

    def ip(self, family: str, requested: str | None) -> str:
        allocator = self.ips[family]
        if requested:
            allocator.allocate(requested)
            ip = requested
        else:
            ip = allocator.allocate_next()
        self.taken_ips.append(ip)
        return ip

    def rollback(self) -> None:
        for port in self.taken_ports:
            self.ports.release(port)
        for ip in self.taken_ips:
            family = "IPv6" if ":" in ip else "IPv4"
            self.ips[family].release(ip)
        self.taken_ports.clear()
        self.taken_ips.clear()
