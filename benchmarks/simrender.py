"""Spec → the simulated cloud's objects, and the difference to what the cloud has. Pure.

Both provider models render the same desired tree (one listener per spec listener,
each with one pool of every backend at the node port and one health monitor), so the
two modes build identical load balancers and differ only in how they get there.
Names and tags follow the OpenStack cloud controller's scheme (`kube_service_...`,
cluster and UID tags), so adoption and ownership work as in the real provider.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cloud_lb.model import HealthCheckProtocol, LBRef, LoadBalancerSpec


def cluster_tag(cluster: str) -> str:
    return f"kube_cluster={cluster}"


def lb_name(ref: LBRef) -> str:
    return f"kube_service_{ref.cluster}_{ref.namespace}_{ref.name}"


def lb_tags(ref: LBRef) -> tuple[str, ...]:
    return (cluster_tag(ref.cluster), f"kube_uid={ref.uid}",
            f"kube_service={ref.namespace}/{ref.name}")


def is_ours(lb: dict[str, Any], ref: LBRef) -> bool:
    return cluster_tag(ref.cluster) in lb["tags"] and f"kube_uid={ref.uid}" in lb["tags"]


@dataclass(frozen=True, order=True)
class Member:
    name: str
    address: str
    port: int

    def body(self) -> dict[str, Any]:
        return {"name": self.name, "address": self.address, "protocol_port": self.port}


@dataclass(frozen=True)
class Monitor:
    type: str
    port: int
    url_path: str
    delay: int
    timeout: int
    max_retries: int

    def body(self) -> dict[str, Any]:
        return {"type": self.type, "port": self.port, "url_path": self.url_path,
                "delay": self.delay, "timeout": self.timeout, "max_retries": self.max_retries}


@dataclass(frozen=True)
class DesiredListener:
    name: str
    protocol: str
    port: int
    allowed_cidrs: tuple[str, ...]
    members: tuple[Member, ...]
    monitor: Monitor

    @property
    def key(self) -> tuple[str, int]:
        return (self.protocol, self.port)

    def pool_body(self, *, populated: bool = True) -> dict[str, Any]:
        body: dict[str, Any] = {"name": self.name, "protocol": self.protocol}
        if populated:
            body["members"] = [m.body() for m in self.members]
            body["healthmonitor"] = self.monitor.body()
        return body

    def body(self, *, populated: bool = True) -> dict[str, Any]:
        body: dict[str, Any] = {"name": self.name, "protocol": self.protocol,
                                "protocol_port": self.port,
                                "allowed_cidrs": list(self.allowed_cidrs)}
        if populated:
            body["default_pool"] = self.pool_body()
        return body


@dataclass(frozen=True)
class DesiredLB:
    name: str
    tags: tuple[str, ...]
    listeners: tuple[DesiredListener, ...]

    def create_body(self, *, populated: bool = True) -> dict[str, Any]:
        body: dict[str, Any] = {"name": self.name, "tags": list(self.tags)}
        if populated:
            body["listeners"] = [li.body() for li in self.listeners]
        return body


def render(spec: LoadBalancerSpec) -> DesiredLB:
    listeners = []
    for li in spec.listeners:
        hc = li.health_check
        monitor = Monitor(type="HTTP" if hc.protocol is HealthCheckProtocol.HTTP else "TCP",
                          port=hc.port, url_path=hc.path if hc.protocol is
                          HealthCheckProtocol.HTTP else "", delay=hc.interval_seconds,
                          timeout=hc.timeout_seconds, max_retries=hc.unhealthy_threshold)
        members = tuple(sorted(Member(b.node_name, b.address, li.node_port)
                               for b in spec.backends))
        listeners.append(DesiredListener(
            name=li.name, protocol=li.protocol.value, port=li.port,
            allowed_cidrs=tuple(sorted(spec.effective_source_ranges)), members=members,
            monitor=monitor))
    return DesiredLB(name=lb_name(spec.ref), tags=lb_tags(spec.ref), listeners=tuple(listeners))


# -- what the cloud has, and the difference ----------------------------------------------------
@dataclass(frozen=True)
class ObservedListener:
    id: str
    protocol: str
    port: int
    allowed_cidrs: tuple[str, ...]
    pool_id: str | None
    members: tuple[Member, ...]  # sorted
    member_ids: tuple[tuple[Member, str], ...]
    monitor_id: str | None
    monitor: Monitor | None

    @property
    def key(self) -> tuple[str, int]:
        return (self.protocol, self.port)


def observed_listener(listener: dict[str, Any], pool: dict[str, Any] | None,
                      members: list[dict[str, Any]],
                      monitor: dict[str, Any] | None) -> ObservedListener:
    pairs = tuple(sorted((Member(m["name"], m["address"], m["protocol_port"]), m["id"])
                         for m in members))
    return ObservedListener(
        id=listener["id"], protocol=listener["protocol"], port=listener["protocol_port"],
        allowed_cidrs=tuple(sorted(listener["allowed_cidrs"])),
        pool_id=pool["id"] if pool else None, members=tuple(m for m, _ in pairs),
        member_ids=pairs, monitor_id=monitor["id"] if monitor else None,
        monitor=Monitor(**{k: monitor[k] for k in ("type", "port", "url_path", "delay",
                                                   "timeout", "max_retries")})
        if monitor else None)


@dataclass(frozen=True)
class Step:
    """One write: `op` is the SimCloud method, `target` its first argument."""

    op: str
    target: str
    body: Any = None

    def __str__(self) -> str:
        return f"{self.op} {self.target}"


def diff(observed: tuple[ObservedListener, ...], desired: DesiredLB, lb_id: str) -> list[Step]:
    """The fewest writes of cloud-lb's model: whole listeners created populated, members
    replaced per pool in one batch, extra listeners deleted with their children."""
    have = {li.key: li for li in observed}
    steps: list[Step] = []
    for want in desired.listeners:
        got = have.pop(want.key, None)
        if got is None:
            steps.append(Step("create_listener", lb_id, want.body()))
            continue
        if got.allowed_cidrs != want.allowed_cidrs:
            steps.append(Step("update_listener", got.id, list(want.allowed_cidrs)))
        if got.pool_id is None:
            steps.append(Step("create_pool", got.id, want.pool_body()))
            continue
        if got.members != want.members:
            steps.append(Step("batch_update_members", got.pool_id,
                              [m.body() for m in want.members]))
        if got.monitor_id is None:
            steps.append(Step("create_monitor", got.pool_id, want.monitor.body()))
        elif got.monitor != want.monitor:
            steps.append(Step("update_monitor", got.monitor_id, want.monitor.body()))
    steps.extend(Step("delete_listener", extra.id) for extra in have.values())
    return steps
