"""The fake cloud's state: resources by link, in-flight operations, IP allocation.

One `threading.Condition` (`cond`) guards everything; request handlers hold it while
they read and write, and operation waits sleep on it. Resources are stored as the JSON
GCE would return, keyed by their relative link (`projects/p/regions/r/addresses/x`);
`meta` records which collection each belongs to. A resource whose insert operation is
still running is *reserved* (its name is taken, it is not readable yet); a resource with
any operation in flight is *busy* (other changes get `resourceNotReady`).
"""

from __future__ import annotations

import base64
import ipaddress
import itertools
import os
import threading
from typing import Any

from cloud_lb.testing.fakegce.errors import GCEError, invalid
from cloud_lb.testing.fakegce.links import LINK_BASE, Link, relative
from cloud_lb.testing.fakegce.operations import OperationBook

DEFAULT_EXTERNAL_POOLS = ("203.0.113.0/24", "198.51.100.0/24")

_resource_ids = itertools.count(1_000_000_000_000_000_001)


def new_id() -> str:
    return str(next(_resource_ids))


def new_fingerprint() -> str:
    return base64.b64encode(os.urandom(8)).decode()


class Store:
    def __init__(self, *, external_pools: tuple[str, ...] = DEFAULT_EXTERNAL_POOLS) -> None:
        self.cond = threading.Condition(threading.RLock())
        self.operations = OperationBook(self.cond)
        self.resources: dict[str, dict[str, Any]] = {}
        self.meta: dict[str, str] = {}  # relative link -> collection api name
        self.reserved: dict[str, str] = {}  # relative link -> collection (insert in flight)
        self.busy: set[str] = set()  # relative links with an operation in flight
        self.members: dict[str, list[str]] = {}  # instance group link -> instance URLs
        self.ephemeral_ips: dict[str, str] = {}  # forwarding rule link -> ephemeral IP
        self.external_pools = tuple(ipaddress.ip_network(p) for p in external_pools)

    # -- reads --------------------------------------------------------------------------

    def get(self, link: Link | str) -> dict[str, Any] | None:
        key = link.relative if isinstance(link, Link) else relative(link)
        return self.resources.get(key)

    def collection_items(
        self, api_name: str, scope_path: str | None = None
    ) -> list[dict[str, Any]]:
        out = []
        for key, body in self.resources.items():
            if self.meta[key] != api_name:
                continue
            if scope_path is not None and not key.startswith(scope_path + "/"):
                continue
            out.append(body)
        return sorted(out, key=lambda b: b["name"])

    def count(self, api_name: str, scope_path: str | None = None) -> int:
        pending = sum(
            1
            for key, coll in self.reserved.items()
            if coll == api_name and (scope_path is None or key.startswith(scope_path + "/"))
        )
        return len(self.collection_items(api_name, scope_path)) + pending

    # -- writes (called from operations being applied) ------------------------------------

    def put(self, link: Link, api_name: str, body: dict[str, Any]) -> None:
        self.resources[link.relative] = body
        self.meta[link.relative] = api_name

    def remove(self, link: Link) -> None:
        self.resources.pop(link.relative, None)
        self.meta.pop(link.relative, None)
        self.members.pop(link.relative, None)
        self.ephemeral_ips.pop(link.relative, None)

    # -- references ---------------------------------------------------------------------

    def users_of(self, target_url: str) -> list[str]:
        """selfLinks of resources whose stored body references `target_url`."""
        users = []
        for key, body in self.resources.items():
            if key == relative(target_url):
                continue
            if _mentions(body, target_url, skip=("selfLink", "region", "zone", "selfLinkWithId")):
                users.append(body["selfLink"])
        return sorted(users)

    # -- IP addresses ---------------------------------------------------------------------

    def ips_in_use(self) -> set[str]:
        used = set(self.ephemeral_ips.values())
        for key, body in self.resources.items():
            if self.meta[key] in ("addresses", "globalAddresses") and body.get("address"):
                used.add(body["address"])
        return used

    def allocate_external(self) -> str:
        used = self.ips_in_use()
        for pool in self.external_pools:
            for host in pool.hosts():
                if str(host) not in used:
                    return str(host)
        raise GCEError(
            403,
            "quotaExceeded",
            "No external IP addresses left in the region",
            domain="usageLimits",
        )

    def allocate_internal(self, cidr: str) -> str:
        used = self.ips_in_use()
        network = ipaddress.ip_network(cidr)
        hosts = list(network.hosts())
        # GCE reserves the network, gateway (.1) and the last two addresses of a subnet
        for host in hosts[1:-1]:
            if str(host) not in used:
                return str(host)
        raise invalid(
            f"IP space of subnetwork range {cidr} is exhausted", reason="ipSpaceExhausted"
        )

    def address_for_ip(self, ip: str, scope_path: str) -> dict[str, Any] | None:
        for key, body in self.resources.items():
            if (
                self.meta[key] in ("addresses", "globalAddresses")
                and body.get("address") == ip
                and key.startswith(scope_path + "/")
            ):
                return body
        return None


def _mentions(value: Any, target: str, *, skip: tuple[str, ...]) -> bool:
    if isinstance(value, str):
        return value == target
    if isinstance(value, dict):
        return any(_mentions(v, target, skip=skip) for k, v in value.items() if k not in skip)
    if isinstance(value, list):
        return any(_mentions(v, target, skip=skip) for v in value)
    return False


def self_link(link: Link) -> str:
    return LINK_BASE + link.relative
