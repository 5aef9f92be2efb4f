"""Spec -> desired NLB, target groups, listeners, targets and security group rules.

Pure: the AWS facts it needs (chosen subnets, resolved group IDs, the VPC CIDRs) come in
as a `Placement`. `check_spec` runs first, before any AWS call, and rejects what an NLB
cannot serve with an `InvalidSpecError` naming the field or annotation.

Decisions worth knowing:
- one target group per Service port, `instance` targets on the node port; a TCP and a
  UDP port with the same number become one TCP_UDP listener and group (Kubernetes gives
  both the same node port; if it didn't, one NLB listener could not serve both);
- health checks come from the spec (HTTP /healthz on the healthCheckNodePort for
  `Local`, kube-proxy for `Cluster`, or TCP on the traffic port), then the annotations
  override field by field; a UDP group cannot be checked over TCP on its own (UDP) port,
  so such a check goes to kube-proxy's HTTP health port instead;
- proxy protocol v2 is set on TCP groups only: AWS has no proxy protocol for UDP.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from cloud_lb.model import (
    KUBE_PROXY_HEALTH_PORT,
    HealthCheck,
    HealthCheckProtocol,
    IPFamily,
    LoadBalancerSpec,
    Protocol,
)
from cloud_lb.provider import InvalidSpecError
from providers.aws import annotations as ann
from providers.aws.annotations import NLBOptions
from providers.aws.config import SecurityGroupMode
from providers.aws.naming import (
    STATIC_ADDRESSES_TAG,
    backend_security_group_name,
    backend_tags,
    load_balancer_name,
    ownership_tags,
    rule_description,
    security_group_name,
    shared_rule_description,
    target_group_name,
)
from providers.aws.security_groups import (
    BACKEND,
    FRONTEND,
    PortNeed,
    Rule,
    frontend_rules,
    node_rules_from_backend,
    node_rules_from_cidrs,
)
from providers.aws.state import (
    Desired,
    DesiredListener,
    DesiredLoadBalancer,
    DesiredSecurityGroup,
    DesiredTargetGroup,
    HealthCheckSpec,
    SubnetMapping,
)
from providers.aws.subnets import SubnetInfo

SHARED_PORTS = frozenset({KUBE_PROXY_HEALTH_PORT})
CROSS_ZONE_ATTRIBUTE = "load_balancing.cross_zone.enabled"
PROXY_PROTOCOL_ATTRIBUTE = "proxy_protocol_v2.enabled"
_PROVIDER_ID = re.compile(r"^aws://[^/]*/(?:[^/]*/)?(i-[0-9a-fA-F]+)$")


@dataclass(frozen=True)
class PortGroup:
    """One NLB listener and its target group."""

    port: int
    protocol: str  # TCP | UDP | TCP_UDP
    node_port: int
    health_check: HealthCheck


@dataclass(frozen=True)
class Placement:
    """AWS facts resolved by the provider before rendering."""

    subnets: tuple[SubnetInfo, ...]
    allocation_ids: tuple[str, ...] = ()  # aligned with subnets, or empty
    private_ipv4: tuple[str, ...] = ()  # aligned with subnets, or empty
    frontend_sg_id: str | None = None  # our NLB group if it exists already
    backend_sg_id: str | None = None  # the cluster's shared backend group if it exists
    user_security_groups: tuple[str, ...] = ()  # resolved IDs from the annotation
    node_security_groups: tuple[str, ...] = ()
    vpc_cidrs: tuple[str, ...] = ()


@dataclass(frozen=True)
class Settings:
    """The parts of the provider config that shape the rendering."""

    mode: SecurityGroupMode = SecurityGroupMode.LOAD_BALANCER
    manage_node_rules: bool = True
    extra_tags: tuple[tuple[str, str], ...] = ()
    node_port_range: tuple[int, int] = (30000, 32767)


def check_spec(spec: LoadBalancerSpec, opts: NLBOptions) -> tuple[PortGroup, ...]:
    """Reject what an NLB cannot serve; return the listener groups. No I/O."""
    if spec.is_l7:
        raise InvalidSpecError(
            "the AWS provider serves Services (NLB); Ingress is not supported here",
            field="spec.rules",
        )
    if opts.security_groups and spec.source_ranges:
        raise InvalidSpecError(
            f"{ann.SECURITY_GROUPS}: loadBalancerSourceRanges cannot be enforced on security "
            "groups cloud-lb does not own; drop one of the two",
            field=ann.SECURITY_GROUPS,
        )
    if opts.dualstack is False and IPFamily.IPV6 in spec.ip_families:
        raise InvalidSpecError(
            f"{ann.IP_ADDRESS_TYPE}: ipv4 contradicts spec.ipFamilies with IPv6",
            field=ann.IP_ADDRESS_TYPE,
        )
    by_port: dict[int, list] = {}  # type: ignore[type-arg]
    for listener in spec.listeners:
        if listener.protocol not in (Protocol.TCP, Protocol.UDP):
            raise InvalidSpecError(
                f"port {listener.name}: protocol {listener.protocol} is not "
                "supported by a Network Load Balancer (TCP, UDP)",
                field="spec.ports.protocol",
            )
        if listener.node_port == 0:
            raise InvalidSpecError(
                f"port {listener.name}: no node port (allocateLoadBalancer"
                "NodePorts: false); the AWS provider targets node ports",
                field="spec.allocateLoadBalancerNodePorts",
            )
        by_port.setdefault(listener.port, []).append(listener)
    groups: list[PortGroup] = []
    for port, listeners in sorted(by_port.items()):
        if len(listeners) == 1:
            only = listeners[0]
            groups.append(PortGroup(port, only.protocol.value, only.node_port, only.health_check))
            continue
        tcp = next(li for li in listeners if li.protocol is Protocol.TCP)
        udp = next(li for li in listeners if li.protocol is Protocol.UDP)
        if tcp.node_port != udp.node_port:
            raise InvalidSpecError(
                f"port {port}: TCP and UDP need the same node port to share "
                f"one NLB listener (got {tcp.node_port} and {udp.node_port})",
                field="spec.ports.nodePort",
            )
        groups.append(PortGroup(port, "TCP_UDP", tcp.node_port, tcp.health_check))
    return tuple(groups)


def scheme_of(spec: LoadBalancerSpec, opts: NLBOptions) -> str:
    if opts.scheme is not None:
        return opts.scheme
    return "internal" if spec.internal else "internet-facing"


def is_dualstack(spec: LoadBalancerSpec, opts: NLBOptions) -> bool:
    return opts.dualstack if opts.dualstack is not None else IPFamily.IPV6 in spec.ip_families


def instance_id(provider_id: str) -> str | None:
    """`aws:///<az>/i-0123` -> `i-0123`; None for anything else."""
    match = _PROVIDER_ID.match(provider_id)
    return match.group(1) if match else None


def health_check(group: PortGroup, opts: NLBOptions) -> HealthCheckSpec:
    base = group.health_check
    protocol = base.protocol.value
    port = base.port
    path: str | None = base.path if base.protocol is HealthCheckProtocol.HTTP else None
    if protocol == "TCP" and group.protocol == "UDP" and port == group.node_port:
        # a UDP node port cannot answer a TCP probe: ask kube-proxy instead
        protocol, port, path = "HTTP", KUBE_PROXY_HEALTH_PORT, "/healthz"
    o = opts.health_check
    protocol = o.protocol or protocol
    port_str = o.port or ("traffic-port" if port == group.node_port else str(port))
    if port_str == str(group.node_port):
        port_str = "traffic-port"
    if protocol in ("HTTP", "HTTPS"):
        path = o.path or path or "/healthz"
    else:
        path = None
    if group.protocol == "UDP" and protocol == "TCP" and port_str == "traffic-port":
        raise InvalidSpecError(
            f"{ann.HC_PORT}: a UDP port cannot be health-checked over TCP on "
            "its own port; set a TCP or HTTP health-check port",
            field=ann.HC_PORT,
        )
    interval = o.interval or _clamp(base.interval_seconds, 5, 300)
    timeout = o.timeout or _clamp(base.timeout_seconds, 2, 120)
    if timeout >= interval:
        if o.timeout is not None:
            raise InvalidSpecError(
                f"{ann.HC_TIMEOUT}: must be less than the interval ({interval}s)",
                field=ann.HC_TIMEOUT,
            )
        timeout = interval - 1
    return HealthCheckSpec(
        protocol=protocol,
        port=port_str,
        path=path,
        interval=interval,
        timeout=timeout,
        healthy=o.healthy_threshold or _clamp(base.healthy_threshold, 2, 10),
        unhealthy=o.unhealthy_threshold or _clamp(base.unhealthy_threshold, 2, 10),
        matcher=(o.success_codes or "200-399") if protocol in ("HTTP", "HTTPS") else None,
    )


def render(
    spec: LoadBalancerSpec, opts: NLBOptions, *, placement: Placement, settings: Settings
) -> Desired:
    ref = spec.ref
    groups = check_spec(spec, opts)
    tags = {**ownership_tags(ref), **dict(settings.extra_tags), **dict(opts.additional_tags)}
    # ownership tags always win over extra/additional ones
    tags.update(ownership_tags(ref))
    dualstack = is_dualstack(spec, opts)
    cidrs = spec.source_ranges or (("0.0.0.0/0", "::/0") if dualstack else ("0.0.0.0/0",))

    mappings = tuple(
        SubnetMapping(
            subnet.id,
            allocation_id=placement.allocation_ids[i] if placement.allocation_ids else None,
            private_ipv4=placement.private_ipv4[i] if placement.private_ipv4 else None,
        )
        for i, subnet in enumerate(placement.subnets)
    )
    static = _static_fingerprint(mappings)
    lb_tags = dict(tags)
    if static:
        lb_tags[STATIC_ADDRESSES_TAG] = static

    own_frontend = (
        settings.mode is SecurityGroupMode.LOAD_BALANCER and not placement.user_security_groups
    )
    frontend = placement.frontend_sg_id or FRONTEND
    backend = placement.backend_sg_id or BACKEND
    if placement.user_security_groups:
        lb_groups: tuple[str, ...] = (*placement.user_security_groups, backend)
    elif own_frontend:
        lb_groups = (frontend, backend)
    else:
        lb_groups = ()  # nodes mode: no group on the NLB at all
    with_backend = bool(lb_groups)

    target_groups: list[DesiredTargetGroup] = []
    listeners: list[DesiredListener] = []
    needs: list[PortNeed] = []
    for group in groups:
        name = target_group_name(ref, protocol=group.protocol, node_port=group.node_port)
        hc = health_check(group, opts)
        attributes = dict(opts.target_group_attributes)
        if group.protocol == "TCP":
            attributes[PROXY_PROTOCOL_ATTRIBUTE] = "true" if opts.proxy_protocol else "false"
        target_groups.append(
            DesiredTargetGroup(
                name=name,
                protocol=group.protocol,
                port=group.node_port,
                health=hc,
                attributes=tuple(sorted(attributes.items())),
                tags=tuple(sorted(tags.items())),
            )
        )
        listeners.append(
            DesiredListener(port=group.port, protocol=group.protocol, target_group=name)
        )
        needs.append(
            PortNeed(
                protocols=("tcp", "udp")
                if group.protocol == "TCP_UDP"
                else (group.protocol.lower(),),
                listener_port=group.port,
                node_port=group.node_port,
                health_port=None if hc.port == "traffic-port" else int(hc.port),
            )
        )

    description = rule_description(ref)
    shared = shared_rule_description(ref.cluster)
    rules: list[Rule] = []
    managed: list[str] = []
    if own_frontend:
        rules += frontend_rules(needs, cidrs, description=description)
        managed.append(frontend)
    if settings.manage_node_rules and placement.node_security_groups:
        managed += placement.node_security_groups
        if with_backend:
            rules += [
                r.resolve({BACKEND: backend})
                for r in node_rules_from_backend(
                    needs,
                    placement.node_security_groups,
                    node_port_range=settings.node_port_range,
                    description=shared,
                )
            ]
        else:
            # no group on the NLB: clients arrive with their own address (instance
            # targets); IPv6 clients of a dual-stack NLB arrive from the NLB's IPv4s
            client_cidrs = tuple(c for c in cidrs if ":" not in c)
            if dualstack:
                client_cidrs += placement.vpc_cidrs
            rules += node_rules_from_cidrs(
                needs,
                placement.node_security_groups,
                client_cidrs,
                placement.vpc_cidrs,
                description=description,
                shared_description=shared,
                shared_ports=SHARED_PORTS,
            )

    targets: set[str] = set()
    skipped: list[str] = []
    for node in spec.backends:
        iid = instance_id(node.provider_id)
        if iid is None:
            skipped.append(node.node_name)
        else:
            targets.add(iid)

    return Desired(
        lb=DesiredLoadBalancer(
            name=load_balancer_name(ref),
            scheme=scheme_of(spec, opts),
            ip_address_type="dualstack" if dualstack else "ipv4",
            subnets=mappings,
            security_groups=lb_groups,
            attributes=((CROSS_ZONE_ATTRIBUTE, "true" if opts.cross_zone else "false"),),
            tags=tuple(sorted(lb_tags.items())),
            static_addresses=static,
        ),
        target_groups=tuple(target_groups),
        listeners=tuple(listeners),
        targets=frozenset(targets),
        frontend_sg=DesiredSecurityGroup(
            name=security_group_name(ref),
            description=f"cloud-lb NLB {ref.key} (cluster {ref.cluster})",
            tags=tuple(sorted(tags.items())),
        )
        if own_frontend
        else None,
        backend_sg=DesiredSecurityGroup(
            name=backend_security_group_name(ref.cluster),
            description=f"cloud-lb load balancers of cluster {ref.cluster}: admitted on the nodes",
            tags=tuple(sorted(backend_tags(ref.cluster).items())),
        )
        if with_backend
        else None,
        rules=tuple(sorted(rules)),
        managed_groups=tuple(managed),
        skipped_backends=tuple(skipped),
    )


def _static_fingerprint(mappings: tuple[SubnetMapping, ...]) -> str:
    pinned = [m for m in mappings if m.allocation_id or m.private_ipv4]
    if not pinned:
        return ""
    text = ",".join(f"{m.subnet_id}={m.allocation_id or m.private_ipv4}" for m in mappings)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _clamp(value: int, low: int, high: int) -> int:
    return max(low, min(high, value))
