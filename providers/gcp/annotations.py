"""The Service annotations the gcp provider reads, with cloud-provider-gcp's names.

    networking.gke.io/load-balancer-type: Internal          internal passthrough LB
    cloud.google.com/load-balancer-type: Internal           (legacy spelling, same)
    networking.gke.io/internal-load-balancer-allow-global-access: "true"
    networking.gke.io/internal-load-balancer-subnet: <subnetwork name>
    cloud.google.com/network-tier: Standard | Premium       external LBs
    cloud.google.com/l4-rbs: enabled                        accepted; we always build
                                                            backend-service based LBs
    cloud-lb.io/health-check-*                              (translate) per-Service timings

A value we cannot honour is an `InvalidSpecError` naming the annotation, raised before
any cloud call.
"""

from __future__ import annotations

from dataclasses import dataclass

from cloud_lb.model import LoadBalancerSpec
from cloud_lb.provider import InvalidSpecError

LB_TYPE = "networking.gke.io/load-balancer-type"
LB_TYPE_LEGACY = "cloud.google.com/load-balancer-type"
GLOBAL_ACCESS = "networking.gke.io/internal-load-balancer-allow-global-access"
ILB_SUBNET = "networking.gke.io/internal-load-balancer-subnet"
NETWORK_TIER = "cloud.google.com/network-tier"
RBS = "cloud.google.com/l4-rbs"
HC_OVERRIDE_PREFIX = "cloud-lb.io/health-check-"


@dataclass(frozen=True)
class GCPOptions:
    internal: bool
    allow_global_access: bool
    subnetwork: str | None
    network_tier: str
    health_check_overridden: bool


def _field(key: str) -> str:
    return f"metadata.annotations[{key}]"


def _bool(spec: LoadBalancerSpec, key: str) -> bool:
    raw = spec.option(key)
    if raw is None:
        return False
    lowered = raw.strip().lower()
    if lowered not in ("true", "false"):
        raise InvalidSpecError(f'{key} must be "true" or "false", got {raw!r}', field=_field(key))
    return lowered == "true"


def parse(spec: LoadBalancerSpec, *, default_tier: str) -> GCPOptions:
    internal = spec.internal
    for key in (LB_TYPE, LB_TYPE_LEGACY):
        raw = spec.option(key)
        if raw is None:
            continue
        lowered = raw.strip().lower()
        if lowered not in ("internal", "external"):
            raise InvalidSpecError(
                f'{key} must be "Internal" or "External", got {raw!r}', field=_field(key)
            )
        internal = internal or lowered == "internal"
    global_access = _bool(spec, GLOBAL_ACCESS)
    subnet = spec.option(ILB_SUBNET)
    if (global_access or subnet) and not internal:
        key = GLOBAL_ACCESS if global_access else ILB_SUBNET
        raise InvalidSpecError(
            f"{key} applies to internal load balancers only; add {LB_TYPE}: Internal or remove it",
            field=_field(key),
        )
    tier_raw = spec.option(NETWORK_TIER)
    tier = default_tier
    if tier_raw is not None:
        tier = tier_raw.strip().upper()
        if tier not in ("PREMIUM", "STANDARD"):
            raise InvalidSpecError(
                f'{NETWORK_TIER} must be "Premium" or "Standard", got {tier_raw!r}',
                field=_field(NETWORK_TIER),
            )
    rbs = spec.option(RBS)
    if rbs is not None and rbs.strip().lower() != "enabled":
        raise InvalidSpecError(
            f"{RBS}: cloud-lb always builds backend-service based load "
            f'balancers; only "enabled" is accepted, got {rbs!r}',
            field=_field(RBS),
        )
    overridden = any(k.startswith(HC_OVERRIDE_PREFIX) for k, _ in spec.options)
    return GCPOptions(
        internal=internal,
        allow_global_access=global_access,
        subnetwork=subnet.strip() if subnet else None,
        network_tier=tier,
        health_check_overridden=overridden,
    )
