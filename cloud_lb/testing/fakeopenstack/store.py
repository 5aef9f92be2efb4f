"""The fake OpenStack's state: every resource of every service, under one lock.

Resources are plain dicts shaped exactly as the APIs return them; keys starting with
`_` are private bookkeeping and never rendered. One re-entrant lock guards everything:
the HTTP server is threaded, and a handler's read-check-write must be atomic the way a
database transaction makes it atomic in the real services.

Asynchronous provisioning (Octavia's PENDING_* states) is evaluated lazily against a
`FakeClock`: a load balancer records when its pending operation completes, and every
request first `settle()`s whatever is due. No background thread exists, and tests can
`advance()` the clock instead of sleeping.
"""

from __future__ import annotations

import ipaddress
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

Resource = dict[str, Any]

OCTAVIA_COLLECTIONS = ("loadbalancers", "listeners", "pools", "members", "healthmonitors",
                       "l7policies", "l7rules")
COLLECTIONS = OCTAVIA_COLLECTIONS + (
    "flavors", "flavorprofiles", "availability_zones",
    "networks", "subnets", "ports", "floatingips", "security_groups", "security_group_rules",
    "servers", "secrets", "containers",
)

# Octavia's default quotas are unlimited (-1); tests lower them to provoke 403s.
DEFAULT_QUOTAS: dict[str, int] = {
    "load_balancer": -1, "listener": -1, "pool": -1, "member": -1, "health_monitor": -1,
    "l7policy": -1, "l7rule": -1,
    # Neutron's (a 409 OverQuota when met)
    "floatingip": 50, "port": -1, "security_group": -1, "security_group_rule": -1,
}


class FakeClock:
    """Monotonic time plus an offset that tests move forward."""

    def __init__(self) -> None:
        self._offset = 0.0
        self._lock = threading.Lock()

    def now(self) -> float:
        with self._lock:
            return time.monotonic() + self._offset

    def advance(self, seconds: float) -> None:
        with self._lock:
            self._offset += seconds


def timestamp() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S")


def new_id() -> str:
    return str(uuid.uuid4())


def public(resource: Resource) -> Resource:
    """The resource without private `_` keys, as the API renders it."""
    return {k: v for k, v in resource.items() if not k.startswith("_")}


class Store:
    def __init__(self, *, project_id: str, clock: FakeClock | None = None) -> None:
        self.lock = threading.RLock()
        self.clock = clock or FakeClock()
        self.project_id = project_id
        self.data: dict[str, dict[str, Resource]] = {name: {} for name in COLLECTIONS}
        self.quotas: dict[str, int] = dict(DEFAULT_QUOTAS)
        # seconds an Octavia operation stays PENDING_*; 0 = done at the next request
        self.provisioning_delay = 0.0
        # how many upcoming Octavia operations end in ERROR instead of ACTIVE
        self.fail_next_provisioning = 0
        # hooks run by settle() (Octavia registers its state machine here)
        self._settlers: list[Callable[[float], None]] = []

    @contextmanager
    def transaction(self) -> Iterator[Store]:
        """Hold the lock, with everything that is due settled first."""
        with self.lock:
            self.settle()
            yield self

    def add_settler(self, settler: Callable[[float], None]) -> None:
        self._settlers.append(settler)

    def settle(self) -> None:
        now = self.clock.now()
        with self.lock:
            for settler in self._settlers:
                settler(now)

    # -- generic collection access -------------------------------------------------
    def get(self, collection: str, rid: str) -> Resource | None:
        return self.data[collection].get(rid)

    def put(self, collection: str, resource: Resource) -> Resource:
        self.data[collection][resource["id"]] = resource
        return resource

    def remove(self, collection: str, rid: str) -> Resource | None:
        return self.data[collection].pop(rid, None)

    def all(self, collection: str) -> list[Resource]:
        return list(self.data[collection].values())

    def count(self, collection: str, predicate: Callable[[Resource], bool] | None = None) -> int:
        return sum(1 for r in self.data[collection].values() if predicate is None or predicate(r))

    def quota_left(self, resource: str, collection: str) -> int | None:
        """How many more may be created; None means unlimited."""
        limit = self.quotas.get(resource, -1)
        if limit < 0:
            return None
        return max(0, limit - self.count(collection))

    def snapshot(self) -> dict[str, dict[str, Resource]]:
        """A deep, comparable copy of everything (for 'nothing foreign changed' proofs)."""
        import copy
        with self.transaction():
            return copy.deepcopy(self.data)

    # -- addresses -----------------------------------------------------------------
    def allocate_ip(self, subnet: Resource, wanted: str | None = None) -> str:
        """The next free address of the subnet (or `wanted` if free); ValueError if none."""
        used = {
            ip["ip_address"]
            for port in self.data["ports"].values()
            for ip in port.get("fixed_ips", [])
            if ip.get("subnet_id") == subnet["id"]
        }
        used |= {
            fip["floating_ip_address"] for fip in self.data["floatingips"].values()
            if fip.get("_subnet_id") == subnet["id"]
        }
        network = ipaddress.ip_network(subnet["cidr"])
        if wanted is not None:
            if ipaddress.ip_address(wanted) not in network:
                raise ValueError(f"IP address {wanted} is not a valid IP for the specified subnet.")
            if wanted in used:
                raise LookupError(wanted)
            return wanted
        gateway = subnet.get("gateway_ip")
        for index, host in enumerate(network.hosts()):
            if index < 9:  # like DHCP ranges, keep the first addresses for infrastructure
                continue
            address = str(host)
            if address != gateway and address not in used:
                return address
        raise ValueError(f"No more IP addresses available on subnet {subnet['id']}.")
