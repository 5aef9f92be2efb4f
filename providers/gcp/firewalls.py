"""The two firewall rules of a load balancer (pure rendering).

A passthrough load balancer delivers packets to the nodes unchanged: destination the
load balancer's IP, destination port the Service port (kube-proxy then DNATs to a pod).
So, like cloud-provider-gcp:

- `k8s-fw-<hash>` allows `loadBalancerSourceRanges` (default 0.0.0.0/0) to the load
  balancer's IP on the Service ports, per protocol, to the nodes;
- `k8s-fw-<hash>-hc` allows Google's health checkers to the health-check port
  (healthCheckNodePort for `externalTrafficPolicy: Local`, else kube-proxy's 10256).

"The nodes" are the instances with the configured network tags or service accounts
(every instance of the network when neither is configured).
"""

from __future__ import annotations

from typing import Any

from cloud_lb.model import LoadBalancerSpec
from providers.gcp import naming
from providers.gcp.render import NEW_ADDRESS, Placement, health_check_port, protocols

# Google's health-check probers: 35.191.0.0/16 and 130.211.0.0/22 for backend services,
# 209.85.152.0/22 and 209.85.204.0/22 for network load balancers' legacy checks.
HEALTH_CHECK_RANGES = ("130.211.0.0/22", "209.85.152.0/22", "209.85.204.0/22", "35.191.0.0/16")

Json = dict[str, Any]


def _targets(placement: Placement) -> Json:
    if placement.target_tags:
        return {"targetTags": sorted(placement.target_tags)}
    if placement.target_service_accounts:
        return {"targetServiceAccounts": sorted(placement.target_service_accounts)}
    return {}


def firewall_rules(spec: LoadBalancerSpec, placement: Placement, ip: str | None) -> dict[str, Json]:
    traffic_name = naming.firewall_name(spec.ref)
    allowed = []
    for proto in protocols(spec):
        ports = sorted({li.port for li in spec.listeners if li.protocol.value == proto})
        allowed.append({"IPProtocol": proto.lower(), "ports": [str(p) for p in ports]})
    traffic: Json = {
        "name": traffic_name,
        "description": naming.describe(spec.ref),
        "network": placement.network,
        "direction": "INGRESS",
        "priority": 1000,
        "sourceRanges": sorted(spec.effective_source_ranges),
        "destinationRanges": [f"{ip or NEW_ADDRESS}/32"],
        "allowed": allowed,
        **_targets(placement),
    }
    checks_name = naming.health_check_firewall_name(spec.ref)
    checks: Json = {
        "name": checks_name,
        "description": naming.describe(spec.ref),
        "network": placement.network,
        "direction": "INGRESS",
        "priority": 1000,
        "sourceRanges": list(HEALTH_CHECK_RANGES),
        "allowed": [{"IPProtocol": "tcp", "ports": [str(health_check_port(spec))]}],
        **_targets(placement),
    }
    return {traffic_name: traffic, checks_name: checks}
