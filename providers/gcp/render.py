"""The GCE resources one Service wants, rendered from its spec as plain JSON (pure).

A regional passthrough Network Load Balancer, backend-service based (what
cloud-provider-gcp builds with `cloud.google.com/l4-rbs`):

    address k8s-<h> ──IP──> forwarding rule k8s-<h>-tcp / -udp ──> backend service k8s-<h>
                                                                   │ health check k8s-<h>
                                                                   └ instance group per zone

Bodies use GCE's JSON field names and relative links (`projects/p/regions/r/...`), which
the API accepts; `diff.py` compares them with what the cloud returns. The address of a
load balancer may not exist yet when rendering: forwarding rules and firewalls then carry
`NEW_ADDRESS`, which the provider replaces once the address is reserved.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Any

from cloud_lb.model import HealthCheckProtocol, IPFamily, LoadBalancerSpec, Protocol
from cloud_lb.provider import InvalidSpecError
from providers.gcp import naming
from providers.gcp.annotations import GCPOptions

NEW_ADDRESS = "<new-address>"
MAX_LISTED_PORTS = 5  # GCE: `ports` holds at most five port numbers
SUPPORTED = (Protocol.TCP, Protocol.UDP)

Json = dict[str, Any]


@dataclass(frozen=True)
class Placement:
    """Where and how to build: from the provider config, resolved to links."""

    project: str
    region: str
    network: str  # relative link
    subnetwork: str | None  # relative link; required for internal LBs
    target_tags: tuple[str, ...] = ()
    target_service_accounts: tuple[str, ...] = ()
    hc_interval: int = 8
    hc_timeout: int = 1
    hc_healthy: int = 1
    hc_unhealthy: int = 3

    def regional(self, collection: str, name: str) -> str:
        return f"projects/{self.project}/regions/{self.region}/{collection}/{name}"

    def subnetwork_link(self, name: str) -> str:
        return name if "/" in name else self.regional("subnetworks", name)


def network_link(project: str, network: str) -> str:
    return network if "/" in network else f"projects/{project}/global/networks/{network}"


def validate(spec: LoadBalancerSpec, options: GCPOptions, placement: Placement) -> None:
    """Everything we cannot build, as a user-actionable error, before any cloud call."""
    if spec.is_l7:
        raise InvalidSpecError(
            "host and path rules belong to an Ingress; a Service gets a passthrough "
            "load balancer without them"
        )
    for listener in spec.listeners:
        if listener.protocol not in SUPPORTED:
            raise InvalidSpecError(
                f"port {listener.name!r}: protocol {listener.protocol} is not supported by GCE "
                f"passthrough load balancers here (TCP and UDP are)",
                field="spec.ports",
            )
        if listener.node_port == 0:
            raise InvalidSpecError(
                "allocateLoadBalancerNodePorts: false needs pod targets (NEGs), which the gcp "
                "provider does not support; allocate node ports",
                field="spec.allocateLoadBalancerNodePorts",
            )
    if IPFamily.IPV6 in spec.ip_families:
        raise InvalidSpecError(
            "IPv6 load balancers are not supported by the gcp provider", field="spec.ipFamilies"
        )
    for cidr in spec.source_ranges:
        if ipaddress.ip_network(cidr).version != 4:
            raise InvalidSpecError(
                f"source range {cidr} is IPv6 but the load balancer is IPv4",
                field="spec.loadBalancerSourceRanges",
            )
    if options.internal and placement.subnetwork is None and options.subnetwork is None:
        raise InvalidSpecError(
            "internal load balancers need a subnetwork: set gcp.subnetwork "
            "in the config or the annotation "
            "networking.gke.io/internal-load-balancer-subnet"
        )


def protocols(spec: LoadBalancerSpec) -> list[str]:
    return sorted({listener.protocol.value for listener in spec.listeners})


def backend_protocol(spec: LoadBalancerSpec) -> str:
    found = protocols(spec)
    return found[0] if len(found) == 1 else "UNSPECIFIED"


def port_fields(ports: list[int], *, internal: bool) -> Json:
    """`ports` for up to five ports; beyond, what cloud-provider-gcp does: a port range
    spanning them (external) or all ports (internal, which has no port range)."""
    unique = sorted(set(ports))
    if len(unique) <= MAX_LISTED_PORTS:
        return {"ports": [str(p) for p in unique]}
    if internal:
        return {"allPorts": True}
    return {"portRange": f"{unique[0]}-{unique[-1]}"}


def health_check(spec: LoadBalancerSpec, options: GCPOptions, placement: Placement) -> Json:
    check = spec.listeners[0].health_check
    if options.health_check_overridden:
        timings = (
            check.interval_seconds,
            check.timeout_seconds,
            check.healthy_threshold,
            check.unhealthy_threshold,
        )
    else:
        timings = (
            placement.hc_interval,
            placement.hc_timeout,
            placement.hc_healthy,
            placement.hc_unhealthy,
        )
    body: Json = {
        "name": naming.lb_name(spec.ref),
        "description": naming.describe(spec.ref),
        "checkIntervalSec": timings[0],
        "timeoutSec": timings[1],
        "healthyThreshold": timings[2],
        "unhealthyThreshold": timings[3],
    }
    if check.protocol is HealthCheckProtocol.HTTP:
        body["type"] = "HTTP"
        body["httpHealthCheck"] = {"port": check.port, "requestPath": check.path}
    else:
        body["type"] = "TCP"
        body["tcpHealthCheck"] = {"port": check.port}
    return body


def health_check_port(spec: LoadBalancerSpec) -> int:
    return spec.listeners[0].health_check.port


def backend_service(
    spec: LoadBalancerSpec, options: GCPOptions, placement: Placement, groups: list[str]
) -> Json:
    name = naming.lb_name(spec.ref)
    body: Json = {
        "name": name,
        "description": naming.describe(spec.ref),
        "protocol": backend_protocol(spec),
        "loadBalancingScheme": "INTERNAL" if options.internal else "EXTERNAL",
        "healthChecks": [placement.regional("healthChecks", name)],
        "backends": [{"group": g, "balancingMode": "CONNECTION"} for g in sorted(groups)],
        "sessionAffinity": "NONE",
    }
    if options.internal:
        body["network"] = placement.network
    return body


def address(spec: LoadBalancerSpec, options: GCPOptions, placement: Placement) -> Json:
    body: Json = {"name": naming.lb_name(spec.ref), "description": naming.describe(spec.ref)}
    if options.internal:
        body["addressType"] = "INTERNAL"
        body["subnetwork"] = _subnetwork(options, placement)
    else:
        body["addressType"] = "EXTERNAL"
        body["networkTier"] = options.network_tier
    if spec.static_ip:
        body["address"] = spec.static_ip
    return body


def _subnetwork(options: GCPOptions, placement: Placement) -> str:
    name = options.subnetwork or placement.subnetwork
    assert name is not None  # validate() guarantees it
    return placement.subnetwork_link(name)


def forwarding_rules(
    spec: LoadBalancerSpec, options: GCPOptions, placement: Placement, ip: str | None
) -> dict[str, Json]:
    """One rule per protocol, all on the same IP and backend service."""
    out: dict[str, Json] = {}
    for proto in protocols(spec):
        ports = [li.port for li in spec.listeners if li.protocol.value == proto]
        name = naming.forwarding_rule_name(spec.ref, proto)
        body: Json = {
            "name": name,
            "description": naming.describe(spec.ref),
            "IPAddress": ip or NEW_ADDRESS,
            "IPProtocol": proto,
            "loadBalancingScheme": "INTERNAL" if options.internal else "EXTERNAL",
            "backendService": placement.regional("backendServices", naming.lb_name(spec.ref)),
            **port_fields(ports, internal=options.internal),
        }
        if options.internal:
            body["network"] = placement.network
            body["subnetwork"] = _subnetwork(options, placement)
            body["allowGlobalAccess"] = options.allow_global_access
        else:
            body["networkTier"] = options.network_tier
        out[name] = body
    return out


def fill_address(body: Json, ip: str) -> Json:
    """Replace the NEW_ADDRESS placeholder once the address is known."""

    def fill(value: Any) -> Any:
        if isinstance(value, str) and NEW_ADDRESS in value:
            return value.replace(NEW_ADDRESS, ip)
        if isinstance(value, dict):
            return {k: fill(v) for k, v in value.items()}
        if isinstance(value, list):
            return [fill(v) for v in value]
        return value

    return fill(body)  # type: ignore[no-any-return]
