"""The cluster's nodes as unmanaged instance groups: one per zone, shared by every
Service of the cluster (as cloud-provider-gcp's `k8s-ig--<cluster>`).

Membership comes from the nodes' `spec.providerID` (`gce://<project>/<zone>/<name>`);
a node without one cannot be a GCE backend and is skipped with a warning. Sync is
read, diff, then at most one `addInstances` and one `removeInstances` per zone, however
many nodes changed. A group is created when its zone first has nodes and is never
deleted by a Service's deletion (others share it); an emptied group stays, empty.

Ingress backend services reach a node port through a *named port* of the groups
(`port<nodePort>`, ingress-gce's names). `setNamedPorts` replaces a group's whole list,
so ours are merged into what the group has (other Ingresses', anyone's), never dropping
one, and guarded by the group's fingerprint (412 on a concurrent change: requeue).
Named ports are never removed (they are harmless and possibly shared), as in
ingress-gce.

Because every Service's reconcile asks for the same membership, a membership confirmed
within `cache_seconds` is trusted without re-reading: a node change on 100 Services
costs one sync, not 100. Syncs are serialized in-process so two workers never race
each other on the same group.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from cloud_lb.model import Backend
from cloud_lb.provider import Change, OwnershipError
from providers.gcp import naming
from providers.gcp.clients import Compute
from providers.gcp.errors import cloud_errors

log = logging.getLogger(__name__)


def instance_link(provider_id: str) -> tuple[str, str] | None:
    """`gce://p/zone/name` -> (zone, `projects/p/zones/zone/instances/name`)."""
    if not provider_id.startswith("gce://"):
        return None
    parts = provider_id[len("gce://") :].split("/")
    if len(parts) != 3 or not all(parts):
        return None
    project, zone, name = parts
    return zone, f"projects/{project}/zones/{zone}/instances/{name}"


def desired_members(backends: tuple[Backend, ...]) -> dict[str, frozenset[str]]:
    out: dict[str, set[str]] = {}
    for backend in backends:
        found = instance_link(backend.provider_id)
        if found is None:
            log.warning(
                "gcp_backend_skipped node=%s provider_id=%r reason=not_a_gce_instance",
                backend.node_name,
                backend.provider_id,
            )
            continue
        zone, link = found
        out.setdefault(zone, set()).add(link)
    return {zone: frozenset(links) for zone, links in out.items()}


@dataclass(frozen=True)
class ZoneChange:
    zone: str
    create: bool
    add: tuple[str, ...]
    remove: tuple[str, ...]

    @property
    def empty(self) -> bool:
        return not (self.create or self.add or self.remove)


class InstanceGroups:
    def __init__(
        self,
        compute: Compute,
        *,
        cluster: str,
        network: str,
        zones: Callable[[], list[str]],
        cache_seconds: float,
    ) -> None:
        self._compute = compute
        self._cluster = cluster
        self._network = network
        self._zones = zones
        self._cache_seconds = cache_seconds
        self.name = naming.instance_group_name(cluster)
        self._lock = threading.Lock()
        self._confirmed: dict[str, tuple[frozenset[str], float]] = {}
        self._named: dict[str, tuple[dict[str, int], float]] = {}  # zone -> named ports seen

    def link(self, zone: str) -> str:
        return f"projects/{self._compute.project}/zones/{zone}/instanceGroups/{self.name}"

    def groups_for(self, backends: tuple[Backend, ...]) -> list[str]:
        """Instance-group links a backend service should list for these nodes."""
        return sorted(self.link(z) for z, members in desired_members(backends).items() if members)

    def _fresh(self, zone: str, wanted: frozenset[str]) -> bool:
        confirmed = self._confirmed.get(zone)
        return (
            confirmed is not None
            and confirmed[0] == wanted
            and time.monotonic() - confirmed[1] < self._cache_seconds
        )

    def _read(self, zone: str, wanted: frozenset[str]) -> ZoneChange:
        with cloud_errors(f"read instance group {zone}/{self.name}"):
            group = self._compute.get("instanceGroup", self.name, zone=zone)
            if group is None:
                return ZoneChange(zone, bool(wanted), tuple(sorted(wanted)), ())
            if not naming.shared_owned_by(group.get("description"), self._cluster):
                raise OwnershipError(
                    f"instance group {zone}/{self.name} exists but is not "
                    f"cluster {self._cluster!r}'s; not touching it"
                )
            have = {naming.relative(u) for u in self._compute.list_instances(zone, self.name)}
        return ZoneChange(zone, False, tuple(sorted(wanted - have)), tuple(sorted(have - wanted)))

    def _changes(self, backends: tuple[Backend, ...]) -> list[ZoneChange]:
        wanted = desired_members(backends)
        zones = sorted(set(self._zones()) | set(wanted))
        out = []
        for zone in zones:
            members = wanted.get(zone, frozenset())
            if self._fresh(zone, members):
                continue
            out.append(self._read(zone, members))
        return out

    def plan(self, backends: tuple[Backend, ...]) -> list[Change]:
        out = []
        for change in self._changes(backends):
            target = f"{change.zone}/{self.name}"
            if change.create:
                out.append(Change("create", "instance-group", target))
            if change.add or change.remove:
                out.append(
                    Change(
                        "update",
                        "instance-group",
                        target,
                        f"add {len(change.add)}, remove {len(change.remove)} instances",
                    )
                )
        return out

    def sync(self, backends: tuple[Backend, ...], *, deadline: float) -> list[str]:
        """Make every zone's group hold exactly the nodes there; return the group links."""
        with self._lock:
            wanted = desired_members(backends)
            for change in self._changes(backends):
                self._apply(change, deadline)
                self._confirmed[change.zone] = (
                    wanted.get(change.zone, frozenset()),
                    time.monotonic(),
                )
        return self.groups_for(backends)

    def _apply(self, change: ZoneChange, deadline: float) -> None:
        zone = change.zone
        with cloud_errors(f"sync instance group {zone}/{self.name}"):
            if change.create:
                self._compute.insert(
                    "instanceGroup",
                    {
                        "name": self.name,
                        "description": naming.describe_shared(self._cluster, "instance-group"),
                        "network": self._network,
                    },
                    zone=zone,
                    deadline=deadline,
                )
                log.info("gcp_instance_group_created zone=%s name=%s", zone, self.name)
            if change.add:
                self._compute.change_members(
                    zone, self.name, list(change.add), add=True, deadline=deadline
                )
            if change.remove:
                self._compute.change_members(
                    zone, self.name, list(change.remove), add=False, deadline=deadline
                )
        if change.add or change.remove:
            log.info(
                "gcp_instance_group_synced zone=%s name=%s added=%d removed=%d",
                zone,
                self.name,
                len(change.add),
                len(change.remove),
            )

    # -- named ports (Ingress backend services) ---------------------------------------------

    def _named_missing(
        self, zone: str, wanted: dict[str, int]
    ) -> tuple[dict[str, Any] | None, dict[str, int]]:
        """(the group, the named ports it lacks); cached while fresh."""
        seen = self._named.get(zone)
        fresh = seen is not None and time.monotonic() - seen[1] < self._cache_seconds
        if fresh and all(seen[0].get(k) == v for k, v in wanted.items()):  # type: ignore[index]
            return None, {}
        with cloud_errors(f"read instance group {zone}/{self.name}"):
            group = self._compute.get("instanceGroup", self.name, zone=zone)
        if group is None:
            return None, dict(wanted)  # sync() creates it first (plan: it will be named)
        if not naming.shared_owned_by(group.get("description"), self._cluster):
            raise OwnershipError(
                f"instance group {zone}/{self.name} exists but is not "
                f"cluster {self._cluster!r}'s; not touching it"
            )
        have = {p["name"]: int(p["port"]) for p in group.get("namedPorts", [])}
        self._named[zone] = (have, time.monotonic())
        return group, {k: v for k, v in wanted.items() if have.get(k) != v}

    def plan_named_ports(self, backends: tuple[Backend, ...], node_ports: set[int]) -> list[Change]:
        wanted = {naming.named_port(p): p for p in node_ports}
        out = []
        for zone in sorted(desired_members(backends)):
            _, missing = self._named_missing(zone, wanted)
            if missing:
                out.append(
                    Change(
                        "update",
                        "instance-group",
                        f"{zone}/{self.name}",
                        "named ports + " + ", ".join(sorted(missing)),
                    )
                )
        return out

    def ensure_named_ports(
        self, backends: tuple[Backend, ...], node_ports: set[int], *, deadline: float
    ) -> None:
        """Every group holding these nodes names every node port (merged, never dropped)."""
        wanted = {naming.named_port(p): p for p in node_ports}
        with self._lock:
            for zone in sorted(desired_members(backends)):
                group, missing = self._named_missing(zone, wanted)
                if group is None or not missing:
                    continue
                have = self._named[zone][0]
                merged = {**have, **missing}
                with cloud_errors(f"set named ports of instance group {zone}/{self.name}"):
                    self._compute.set_named_ports(
                        zone, self.name, merged, fingerprint=group["fingerprint"], deadline=deadline
                    )
                self._named[zone] = (merged, time.monotonic())
                log.info(
                    "gcp_named_ports_set zone=%s group=%s added=%s",
                    zone,
                    self.name,
                    ",".join(sorted(missing)),
                )

    def forget(self) -> None:
        """Drop cached confirmations (tests, and after errors that may have left drift)."""
        with self._lock:
            self._confirmed.clear()
            self._named.clear()
