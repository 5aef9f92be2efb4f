"""Spec -> the Octavia load balancer we want, as plain frozen data. Pure.

`render()` decides everything: one listener per Service port and protocol, its default
pool (method from the annotation or config; PROXY/PROXYV2 with the proxy-protocol
annotation; HTTP with X-Forwarded-For), the members (every backend node at the node
port, on the member subnet), and the health monitor:

- externalTrafficPolicy Local: HTTP GET <path> on the Service's healthCheckNodePort
  (Octavia checks a port other than the member's through the member's `monitor_port`);
- Cluster: per config, HTTP on kube-proxy's 10256 (the spec's check) or a connect check
  on the node port (TCP, UDP-CONNECT for UDP pools, SCTP for SCTP pools).

`DesiredLB.create_body()` is the fully-populated create body: the whole tree in one call.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from typing import Any

from cloud_lb.model import (
    HealthCheckProtocol,
    IPFamily,
    Listener,
    LoadBalancerSpec,
    Protocol,
    TrafficPolicy,
)
from cloud_lb.provider import InvalidSpecError
from providers.openstack import naming
from providers.openstack.annotations import ServiceOptions
from providers.openstack.config import OpenStackConfig

OCTAVIA_DEFAULT_TIMEOUTS = {"timeout_client_data": 50000, "timeout_member_connect": 5000,
                            "timeout_member_data": 50000, "timeout_tcp_inspect": 0}


@dataclass(frozen=True)
class Placement:
    """Where the load balancer lives, resolved from annotations and config."""

    vip_subnet_id: str | None = None
    vip_network_id: str | None = None
    vip_port_id: str | None = None
    member_subnet_id: str | None = None
    flavor_id: str | None = None
    availability_zone: str | None = None
    provider: str | None = None


@dataclass(frozen=True)
class DesiredMember:
    name: str
    address: str
    protocol_port: int
    monitor_port: int | None
    subnet_id: str | None

    @property
    def key(self) -> tuple[str, int]:
        return (self.address, self.protocol_port)

    def body(self, tags: list[str]) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "address": self.address,
                               "protocol_port": self.protocol_port, "tags": tags}
        if self.monitor_port is not None:
            out["monitor_port"] = self.monitor_port
        if self.subnet_id:
            out["subnet_id"] = self.subnet_id
        return out


@dataclass(frozen=True)
class DesiredMonitor:
    name: str
    type: str
    delay: int
    timeout: int
    max_retries: int
    max_retries_down: int
    url_path: str | None = None
    http_method: str | None = None
    expected_codes: str | None = None

    def body(self, tags: list[str]) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "type": self.type, "delay": self.delay,
                               "timeout": self.timeout, "max_retries": self.max_retries,
                               "max_retries_down": self.max_retries_down, "tags": tags}
        if self.type in ("HTTP", "HTTPS"):
            out.update(url_path=self.url_path, http_method=self.http_method,
                       expected_codes=self.expected_codes)
        return out

    def updatable(self) -> dict[str, Any]:
        """What a PUT may change (the type is immutable)."""
        body = self.body([])
        for key in ("type", "tags"):
            body.pop(key)
        return body


@dataclass(frozen=True)
class DesiredPool:
    name: str
    protocol: str
    lb_algorithm: str
    members: tuple[DesiredMember, ...]
    monitor: DesiredMonitor | None

    def body(self, tags: list[str], *, with_children: bool = True) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "protocol": self.protocol,
                               "lb_algorithm": self.lb_algorithm, "tags": tags}
        if with_children:
            out["members"] = [m.body(tags) for m in self.members]
            if self.monitor is not None:
                out["healthmonitor"] = self.monitor.body(tags)
        return out


@dataclass(frozen=True)
class DesiredListener:
    name: str
    protocol: str  # the Octavia listener protocol (TCP, UDP, SCTP, HTTP)
    protocol_port: int
    allowed_cidrs: tuple[str, ...] | None
    connection_limit: int
    timeouts: tuple[tuple[str, int], ...]
    insert_headers: tuple[tuple[str, str], ...]
    pool: DesiredPool

    @property
    def key(self) -> tuple[str, int]:
        """Octavia allows one listener per L4 protocol and port."""
        return (l4(self.protocol), self.protocol_port)

    def updatable(self) -> dict[str, Any]:
        return {"name": self.name,
                "allowed_cidrs": list(self.allowed_cidrs) if self.allowed_cidrs else None,
                "connection_limit": self.connection_limit, **dict(self.timeouts),
                "insert_headers": dict(self.insert_headers)}

    def body(self, tags: list[str]) -> dict[str, Any]:
        out = {"protocol": self.protocol, "protocol_port": self.protocol_port, "tags": tags,
               **self.updatable()}
        if out["allowed_cidrs"] is None:
            del out["allowed_cidrs"]
        if not out["insert_headers"]:
            del out["insert_headers"]
        out["default_pool"] = self.pool.body(tags)
        return out


@dataclass(frozen=True)
class DesiredLB:
    name: str
    description: str
    tags: tuple[str, ...]
    child_tags: tuple[str, ...]
    placement: Placement
    listeners: tuple[DesiredListener, ...] = field(default=())

    def create_body(self) -> dict[str, Any]:
        return {"name": self.name, "description": self.description, "tags": list(self.tags),
                "listeners": [li.body(list(self.child_tags)) for li in self.listeners],
                **placement_fields(self.placement)}


def placement_fields(p: Placement) -> dict[str, Any]:
    """The VIP and placement part of a load balancer create body."""
    body: dict[str, Any] = {}
    for key, value in (("vip_port_id", p.vip_port_id), ("vip_subnet_id", p.vip_subnet_id),
                       ("vip_network_id", p.vip_network_id), ("flavor_id", p.flavor_id),
                       ("availability_zone", p.availability_zone),
                       ("provider", p.provider)):
        if value:
            body[key] = value
    if p.vip_port_id:
        body.pop("vip_subnet_id", None)
        body.pop("vip_network_id", None)
    elif p.vip_subnet_id:
        body.pop("vip_network_id", None)
    return body


def l4(protocol: str) -> str:
    return {"UDP": "UDP", "SCTP": "SCTP"}.get(protocol, "TCP")


def render(spec: LoadBalancerSpec, options: ServiceOptions, config: OpenStackConfig,
           placement: Placement) -> DesiredLB:
    ref = spec.ref
    allowed = allowed_cidrs(spec)
    listeners = tuple(_listener(spec, li, options, config, placement, allowed)
                      for li in spec.listeners)
    return DesiredLB(name=naming.lb_name(ref), description=naming.description(ref),
                     tags=tuple(naming.lb_tags(ref)), child_tags=tuple(naming.child_tags(ref)),
                     placement=placement, listeners=listeners)


def allowed_cidrs(spec: LoadBalancerSpec) -> tuple[str, ...] | None:
    if not spec.source_ranges:
        return None
    vip_v6 = spec.ip_families[0] is IPFamily.IPV6
    kept = tuple(c for c in spec.source_ranges
                 if (ipaddress.ip_network(c).version == 6) == vip_v6)
    if not kept:
        # dropping every range would open the load balancer to everyone
        raise InvalidSpecError(
            f"loadBalancerSourceRanges has no {'IPv6' if vip_v6 else 'IPv4'} range for an "
            f"{'IPv6' if vip_v6 else 'IPv4'} load balancer", field="spec.loadBalancerSourceRanges")
    return tuple(sorted(kept))


def _listener(spec: LoadBalancerSpec, listener: Listener, options: ServiceOptions,
              config: OpenStackConfig, placement: Placement,
              allowed: tuple[str, ...] | None) -> DesiredListener:
    if listener.protocol not in (Protocol.TCP, Protocol.UDP, Protocol.SCTP):
        raise InvalidSpecError(f"port {listener.name}: protocol {listener.protocol} is not "
                               f"an L4 protocol Octavia serves for a Service",
                               field="spec.ports")
    if listener.node_port == 0:
        raise InvalidSpecError("the openstack provider needs node ports "
                               "(allocateLoadBalancerNodePorts: false is not supported)",
                               field="spec.allocateLoadBalancerNodePorts")
    protocol = listener.protocol.value
    listener_protocol, pool_protocol, headers = protocol, protocol, ()
    if options.x_forwarded_for:
        listener_protocol, pool_protocol = "HTTP", "HTTP"
        headers = (("X-Forwarded-For", "true"),)
    elif options.proxy_protocol:
        pool_protocol = options.proxy_protocol
    ref = spec.ref
    monitor, monitor_port = _monitor(spec, listener, options, config)
    members = tuple(
        DesiredMember(name=b.node_name, address=b.address, protocol_port=listener.node_port,
                      monitor_port=monitor_port, subnet_id=placement.member_subnet_id)
        for b in sorted(spec.backends, key=lambda b: b.node_name))
    pool = DesiredPool(
        name=naming.child_name("pool", protocol, listener.port, ref), protocol=pool_protocol,
        lb_algorithm=options.lb_method or config.lb_method, members=members, monitor=monitor)
    timeouts = {key: getattr(options, key) if getattr(options, key) is not None else default
                for key, default in OCTAVIA_DEFAULT_TIMEOUTS.items()}
    return DesiredListener(
        name=naming.child_name("listener", protocol, listener.port, ref),
        protocol=listener_protocol, protocol_port=listener.port, allowed_cidrs=allowed,
        connection_limit=options.connection_limit if options.connection_limit is not None
        else -1, timeouts=tuple(sorted(timeouts.items())), insert_headers=headers, pool=pool)


def _monitor(spec: LoadBalancerSpec, listener: Listener, options: ServiceOptions,
             config: OpenStackConfig) -> tuple[DesiredMonitor | None, int | None]:
    """(monitor, member monitor_port): None monitor when disabled."""
    hm_config = config.health_monitor
    enabled = options.health_monitor if options.health_monitor is not None else (
        hm_config.enabled)
    if not enabled:
        return None, None
    check = listener.health_check
    protocol = listener.protocol.value
    http = check.protocol is HealthCheckProtocol.HTTP
    if spec.traffic_policy is TrafficPolicy.CLUSTER and hm_config.cluster_policy == "tcp":
        http = False
        port = listener.node_port
    else:
        port = check.port
    if http:
        kind = "HTTP"
    else:
        kind = {"UDP": "UDP-CONNECT", "SCTP": "SCTP"}.get(protocol, "TCP")
    delay = first(options.hm_delay, hm_config.delay, check.interval_seconds)
    timeout = min(first(options.hm_timeout, hm_config.timeout, check.timeout_seconds), delay)
    retries = first(options.hm_max_retries, hm_config.max_retries, check.healthy_threshold)
    retries_down = first(options.hm_max_retries_down, hm_config.max_retries_down,
                          check.unhealthy_threshold)
    monitor = DesiredMonitor(
        name=naming.child_name("monitor", protocol, listener.port, spec.ref), type=kind,
        delay=delay, timeout=timeout, max_retries=max(1, min(10, retries)),
        max_retries_down=max(1, min(10, retries_down)),
        url_path=check.path if http else None, http_method="GET" if http else None,
        expected_codes="200" if http else None)
    return monitor, (port if port != listener.node_port else None)


def first(*values: int | None) -> int:
    return next(v for v in values if v is not None)
