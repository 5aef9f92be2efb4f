"""Addresses of a Service: IP families, the static IP, and the source allow-list.

Source ranges are strict CIDRs (`10.0.0.0/8`, not `10.0.0.1/8` nor a bare address):
unlike the API server, which parses sloppily, we refuse host bits because a firewall
rule that silently differs from what the user wrote is a security surprise; the
message suggests the network address. Both `spec.loadBalancerSourceRanges` and the
legacy annotation may be set only if they agree (as sets). Output is normalised
(`ipaddress` canonical text), de-duplicated and keeps the user's order.

IP families follow `spec.ipFamilyPolicy`: SingleStack and RequireDualStack must be
served as written; PreferDualStack keeps what the provider can serve (at least the
primary family, or the other one when the cloud has no IPv6).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from typing import Any

from cloud_lb.model import IPFamily
from cloud_lb.provider import Capabilities
from cloud_lb.translate.errors import TranslationError
from cloud_lb.translate.fields import annotation_field, string, who

SOURCE_RANGES_ANNOTATION = "service.beta.kubernetes.io/load-balancer-source-ranges"
STATIC_IP_ANNOTATION = "cloud-lb.io/load-balancer-ip"

_FAMILIES = {"IPv4": IPFamily.IPV4, "IPv6": IPFamily.IPV6}
_POLICIES = ("SingleStack", "PreferDualStack", "RequireDualStack")


def _family(version: int) -> IPFamily:
    return IPFamily.IPV4 if version == 4 else IPFamily.IPV6


def normalise_cidr(value: Any, field: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise TranslationError(f"must be a CIDR such as 10.0.0.0/8, got {value!r}", field=field)
    text = value.strip()
    if "/" not in text:
        try:
            addr = ipaddress.ip_address(text)
        except ValueError:
            pass
        else:
            raise TranslationError(
                f"{text!r} is an address, not a CIDR; write {addr}/{addr.max_prefixlen}",
                field=field,
            )
    try:
        return str(ipaddress.ip_network(text, strict=True))
    except ValueError:
        pass
    try:
        loose = ipaddress.ip_network(text, strict=False)
    except ValueError:
        raise TranslationError(
            f"{text!r} is not a CIDR; write a network such as 10.0.0.0/8 or 2001:db8::/32",
            field=field,
        ) from None
    raise TranslationError(
        f"{text!r} has host bits set; did you mean {loose}?", field=field
    )


def _dedupe(items: list[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(items))


def source_ranges(spec: Mapping[str, Any], annotations: Mapping[str, str]) -> tuple[str, ...]:
    raw = spec.get("loadBalancerSourceRanges")
    if raw is None:
        raw = []
    if not isinstance(raw, list):
        raise TranslationError(
            "must be a list of CIDRs such as [10.0.0.0/8]", field="spec.loadBalancerSourceRanges"
        )
    from_spec = _dedupe([
        normalise_cidr(item, f"spec.loadBalancerSourceRanges[{i}]") for i, item in enumerate(raw)
    ])
    from_annotation: tuple[str, ...] = ()
    if SOURCE_RANGES_ANNOTATION in annotations:
        field = annotation_field(SOURCE_RANGES_ANNOTATION)
        # empty items (a trailing comma) carry no meaning; skip them
        items = [s for s in annotations[SOURCE_RANGES_ANNOTATION].split(",") if s.strip()]
        from_annotation = _dedupe([normalise_cidr(item, field) for item in items])
    if from_spec and from_annotation and set(from_spec) != set(from_annotation):
        raise TranslationError(
            f"spec.loadBalancerSourceRanges ({', '.join(from_spec)}) and the annotation "
            f"{SOURCE_RANGES_ANNOTATION} ({', '.join(from_annotation)}) disagree; "
            "remove the annotation or make both list the same CIDRs",
            field="spec.loadBalancerSourceRanges",
        )
    return from_spec or from_annotation


def ip_families(spec: Mapping[str, Any], capabilities: Capabilities,
                provider_name: str | None) -> tuple[IPFamily, ...]:
    raw = spec.get("ipFamilies")
    if raw is None or raw == []:
        raw = ["IPv4"]  # the API server always fills it; an older object means IPv4
    if not isinstance(raw, list) or len(raw) > 2:
        raise TranslationError("must list one or two of IPv4, IPv6", field="spec.ipFamilies")
    families: list[IPFamily] = []
    for i, item in enumerate(raw):
        if item not in _FAMILIES:
            raise TranslationError(
                f"{item!r} is not an IP family; use IPv4 or IPv6", field=f"spec.ipFamilies[{i}]"
            )
        if _FAMILIES[item] in families:
            raise TranslationError(f"{item} is listed twice", field=f"spec.ipFamilies[{i}]")
        families.append(_FAMILIES[item])
    policy = string(spec.get("ipFamilyPolicy"), "spec.ipFamilyPolicy")
    if policy is not None and policy not in _POLICIES:
        raise TranslationError(
            f"{policy!r} is not one of {', '.join(_POLICIES)}", field="spec.ipFamilyPolicy"
        )
    if policy is None:
        policy = "SingleStack" if len(families) == 1 else "RequireDualStack"

    def servable(f: IPFamily) -> bool:
        return f is IPFamily.IPV4 or capabilities.ipv6

    if policy == "PreferDualStack":
        kept = [f for f in families if servable(f)]
        if len(kept) == 2 and not capabilities.dual_stack:
            kept = kept[:1]
        if not kept and servable(IPFamily.IPV4):
            kept = [IPFamily.IPV4]
        return tuple(kept)
    for i, f in enumerate(families):
        if not servable(f):
            raise TranslationError(
                f"IPv6 is not supported by {who(provider_name)} (capability 'ipv6' is missing); "
                "use ipFamilies: [IPv4] or ipFamilyPolicy: PreferDualStack",
                field=f"spec.ipFamilies[{i}]",
            )
    if len(families) == 2 and not capabilities.dual_stack:
        raise TranslationError(
            f"a dual-stack load balancer is not supported by {who(provider_name)} "
            "(capability 'dual_stack' is missing); use ipFamilyPolicy: PreferDualStack or SingleStack",
            field="spec.ipFamilyPolicy",
        )
    return tuple(families)


def static_ip(spec: Mapping[str, Any], annotations: Mapping[str, str],
              families: tuple[IPFamily, ...], capabilities: Capabilities,
              provider_name: str | None) -> str | None:
    """`spec.loadBalancerIP` (deprecated upstream) or our annotation; they must agree."""
    candidates: list[tuple[str, str]] = []
    spec_ip = string(spec.get("loadBalancerIP"), "spec.loadBalancerIP")
    if spec_ip:
        candidates.append(("spec.loadBalancerIP", spec_ip.strip()))
    if annotations.get(STATIC_IP_ANNOTATION, "").strip():
        candidates.append((annotation_field(STATIC_IP_ANNOTATION),
                           annotations[STATIC_IP_ANNOTATION].strip()))
    if not candidates:
        return None
    parsed: list[tuple[str, ipaddress.IPv4Address | ipaddress.IPv6Address]] = []
    for field, text in candidates:
        try:
            parsed.append((field, ipaddress.ip_address(text)))
        except ValueError:
            hint = " (a single address, not a CIDR)" if "/" in text else ""
            raise TranslationError(f"{text!r} is not an IP address{hint}", field=field) from None
    if len({addr for _, addr in parsed}) > 1:
        raise TranslationError(
            f"{parsed[0][1]} differs from {parsed[1][0]} ({parsed[1][1]}); set only one of them",
            field=parsed[0][0],
        )
    field, addr = parsed[0]
    if not capabilities.static_ip:
        raise TranslationError(
            f"a static load balancer address is not supported by {who(provider_name)} "
            "(capability 'static_ip' is missing); remove it to get an allocated address",
            field=field,
        )
    family = _family(addr.version)
    if family not in families:
        served = ", ".join(f.value for f in families)
        raise TranslationError(
            f"{addr} is {family.value} but the load balancer serves {served}; "
            f"choose an address of that family or set spec.ipFamilies to include {family.value}",
            field=field,
        )
    return str(addr)
