"""The AWS objects of one NLB (or the shared parts of an ALB) as plain frozen values: what we want and what AWS has.

`render` produces `Desired` from a spec; `observe` reads `Observed` from AWS; `diff`
compares the two. Keeping both sides in the same shapes (e.g. `HealthCheckSpec`) is
what makes the comparison a simple equality, and the diff a pure function.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from providers.aws.security_groups import Rule


@dataclass(frozen=True)
class HealthCheckSpec:
    protocol: str  # TCP | HTTP | HTTPS
    port: str  # "traffic-port" or a number
    path: str | None = None  # HTTP(S) only
    interval: int = 10
    timeout: int = 6
    healthy: int = 3
    unhealthy: int = 3
    matcher: str | None = None  # HTTP(S) only, e.g. "200-399"

    def __str__(self) -> str:
        where = f"{self.port}{self.path or ''}"
        return f"{self.protocol}:{where} every {self.interval}s"

    def to_params(self) -> dict[str, object]:
        """The health-check arguments of CreateTargetGroup / ModifyTargetGroup."""
        params: dict[str, object] = {
            "HealthCheckProtocol": self.protocol,
            "HealthCheckPort": self.port,
            "HealthCheckEnabled": True,
            "HealthCheckIntervalSeconds": self.interval,
            "HealthCheckTimeoutSeconds": self.timeout,
            "HealthyThresholdCount": self.healthy,
            "UnhealthyThresholdCount": self.unhealthy,
        }
        if self.protocol in ("HTTP", "HTTPS"):
            params["HealthCheckPath"] = self.path or "/"
            params["Matcher"] = {"HttpCode": self.matcher or "200-399"}
        return params


@dataclass(frozen=True)
class SubnetMapping:
    subnet_id: str
    allocation_id: str | None = None
    private_ipv4: str | None = None

    def to_params(self) -> dict[str, str]:
        params = {"SubnetId": self.subnet_id}
        if self.allocation_id:
            params["AllocationId"] = self.allocation_id
        if self.private_ipv4:
            params["PrivateIPv4Address"] = self.private_ipv4
        return params


@dataclass(frozen=True)
class DesiredLoadBalancer:
    name: str
    scheme: str  # internal | internet-facing
    ip_address_type: str  # ipv4 | dualstack
    subnets: tuple[SubnetMapping, ...]
    security_groups: tuple[str, ...]  # may hold FRONTEND and BACKEND
    attributes: tuple[tuple[str, str], ...]
    tags: tuple[tuple[str, str], ...]
    # fingerprint of the static addresses (EIPs / private IPs); "" when none
    static_addresses: str = ""
    type: str = "network"  # network (Services) | application (Ingresses)

    @property
    def subnet_ids(self) -> tuple[str, ...]:
        return tuple(m.subnet_id for m in self.subnets)


@dataclass(frozen=True)
class DesiredTargetGroup:
    name: str
    protocol: str  # TCP | UDP | TCP_UDP
    port: int  # the node port
    health: HealthCheckSpec
    attributes: tuple[tuple[str, str], ...]
    tags: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class DesiredListener:
    port: int
    protocol: str
    target_group: str  # name of a DesiredTargetGroup


@dataclass(frozen=True)
class DesiredSecurityGroup:
    name: str
    description: str
    tags: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Desired:
    lb: DesiredLoadBalancer
    target_groups: tuple[DesiredTargetGroup, ...]
    listeners: tuple[DesiredListener, ...]
    targets: frozenset[str]  # instance IDs
    frontend_sg: DesiredSecurityGroup | None
    rules: tuple[Rule, ...]  # frontend and node group rules (placeholders or real IDs)
    backend_sg: DesiredSecurityGroup | None = None  # the cluster's shared group
    # node groups whose rules we manage: revocation only happens inside these
    managed_groups: tuple[str, ...] = ()
    skipped_backends: tuple[str, ...] = ()  # node names without a usable providerID


@dataclass(frozen=True)
class ObservedLoadBalancer:
    arn: str
    name: str
    dns_name: str
    scheme: str
    ip_address_type: str
    subnets: tuple[str, ...]
    security_groups: tuple[str, ...]
    tags: tuple[tuple[str, str], ...]
    state: str = "active"

    @property
    def tag_map(self) -> dict[str, str]:
        return dict(self.tags)


@dataclass(frozen=True)
class ObservedTargetGroup:
    arn: str
    name: str
    protocol: str
    port: int
    health: HealthCheckSpec
    attributes: tuple[tuple[str, str], ...]
    tags: tuple[tuple[str, str], ...]
    targets: frozenset[str] = frozenset()
    healthy: int = 0


@dataclass(frozen=True)
class ObservedListener:
    arn: str
    port: int
    protocol: str
    target_group_arn: str


@dataclass(frozen=True)
class Observed:
    lb: ObservedLoadBalancer | None = None
    attributes: tuple[tuple[str, str], ...] = ()
    listeners: tuple[ObservedListener, ...] = ()
    target_groups: tuple[ObservedTargetGroup, ...] = ()  # ours only
    frontend_sg_id: str | None = None
    backend_sg_id: str | None = None
    rules: tuple[Rule, ...] = field(default=())  # every rule of the frontend and node groups
