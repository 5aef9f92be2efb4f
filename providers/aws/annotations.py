"""Pure parsing of the AWS Service annotations into `NLBOptions`.

The annotations are those of cloud-provider-aws and the aws-load-balancer-controller
that mean the same thing here (see docs/providers/aws.md for the table). Parsing happens
before any AWS call; a bad value raises `InvalidSpecError` whose message and `field`
name the annotation, so the user sees exactly what to fix.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable
from dataclasses import dataclass

from cloud_lb.provider import InvalidSpecError
from providers.aws.naming import CLUSTER_TAG_PREFIX, RESERVED_TAG_KEYS

PREFIX = "service.beta.kubernetes.io/aws-load-balancer-"

TYPE = PREFIX + "type"
NLB_TARGET_TYPE = PREFIX + "nlb-target-type"
INTERNAL = PREFIX + "internal"
SCHEME = PREFIX + "scheme"
SUBNETS = PREFIX + "subnets"
EIP_ALLOCATIONS = PREFIX + "eip-allocations"
PRIVATE_IPV4 = PREFIX + "private-ipv4-addresses"
CROSS_ZONE = PREFIX + "cross-zone-load-balancing-enabled"
PROXY_PROTOCOL = PREFIX + "proxy-protocol"
ADDITIONAL_TAGS = PREFIX + "additional-resource-tags"
SECURITY_GROUPS = PREFIX + "security-groups"
IP_ADDRESS_TYPE = PREFIX + "ip-address-type"
TARGET_GROUP_ATTRIBUTES = PREFIX + "target-group-attributes"
SSL_CERT = PREFIX + "ssl-cert"
HC_PROTOCOL = PREFIX + "healthcheck-protocol"
HC_PORT = PREFIX + "healthcheck-port"
HC_PATH = PREFIX + "healthcheck-path"
HC_INTERVAL = PREFIX + "healthcheck-interval"
HC_TIMEOUT = PREFIX + "healthcheck-timeout"
HC_HEALTHY = PREFIX + "healthcheck-healthy-threshold"
HC_UNHEALTHY = PREFIX + "healthcheck-unhealthy-threshold"
HC_SUCCESS_CODES = PREFIX + "healthcheck-success-codes"

# target group attributes a user may set; the rest are ours or meaningless for NLB
ALLOWED_TARGET_GROUP_ATTRIBUTES = frozenset(
    {
        "deregistration_delay.timeout_seconds",
        "deregistration_delay.connection_termination.enabled",
        "preserve_client_ip.enabled",
        "stickiness.enabled",
        "stickiness.type",
        "target_health_state.unhealthy.connection_termination.enabled",
    }
)

_ALLOCATION = re.compile(r"^eipalloc-[0-9a-f]+$")
_SUBNET_REF = re.compile(r"^[A-Za-z0-9._:/@+=\- ]{1,255}$")
_SUCCESS_CODES = re.compile(r"^\d{3}(-\d{3})?(,\d{3}(-\d{3})?)*$")
_TAG_KEY = re.compile(r"^[\w.:/=+\-@ ]{1,128}$")
_TAG_VALUE = re.compile(r"^[\w.:/=+\-@ ]{0,256}$")


@dataclass(frozen=True)
class HealthCheckOverrides:
    protocol: str | None = None  # TCP | HTTP | HTTPS
    port: str | None = None  # "traffic-port" or a port number
    path: str | None = None
    interval: int | None = None
    timeout: int | None = None
    healthy_threshold: int | None = None
    unhealthy_threshold: int | None = None
    success_codes: str | None = None


@dataclass(frozen=True)
class NLBOptions:
    """What the annotations ask of the NLB. `None` means "not said"."""

    scheme: str | None = None  # "internal" | "internet-facing"
    subnets: tuple[str, ...] = ()  # subnet IDs or Name tags
    eip_allocations: tuple[str, ...] = ()
    private_ipv4_addresses: tuple[str, ...] = ()
    cross_zone: bool = False
    proxy_protocol: bool = False
    additional_tags: tuple[tuple[str, str], ...] = ()
    security_groups: tuple[str, ...] = ()  # IDs or names, replace our own group
    dualstack: bool | None = None
    target_group_attributes: tuple[tuple[str, str], ...] = ()
    health_check: HealthCheckOverrides = HealthCheckOverrides()


def parse(options: Iterable[tuple[str, str]]) -> NLBOptions:
    """Parse the annotations (spec.options). Unknown keys are ignored."""
    ann = {k: v.strip() for k, v in options}
    _check_type(ann)
    if SSL_CERT in ann:
        raise InvalidSpecError(
            f"{SSL_CERT}: TLS listeners are not supported by cloud-lb's "
            "NLBs; terminate TLS in the pods or use an Ingress",
            field=SSL_CERT,
        )
    scheme = _scheme(ann)
    eips = _list(ann, EIP_ALLOCATIONS)
    for alloc in eips:
        if not _ALLOCATION.match(alloc):
            raise InvalidSpecError(
                f"{EIP_ALLOCATIONS}: {alloc!r} is not an allocation ID (eipalloc-...)",
                field=EIP_ALLOCATIONS,
            )
    private = _list(ann, PRIVATE_IPV4)
    for address in private:
        try:
            ipaddress.IPv4Address(address)
        except ValueError:
            raise InvalidSpecError(
                f"{PRIVATE_IPV4}: {address!r} is not an IPv4 address", field=PRIVATE_IPV4
            ) from None
    subnets = _list(ann, SUBNETS)
    for subnet in subnets:
        if not _SUBNET_REF.match(subnet):
            raise InvalidSpecError(
                f"{SUBNETS}: {subnet!r} is not a subnet ID or name", field=SUBNETS
            )
    _check_addresses(scheme, eips, private, subnets)
    proxy = ann.get(PROXY_PROTOCOL)
    if proxy is not None and proxy != "*":
        raise InvalidSpecError(
            f'{PROXY_PROTOCOL}: only "*" (all ports) is supported, got {proxy!r}',
            field=PROXY_PROTOCOL,
        )
    ip_type = ann.get(IP_ADDRESS_TYPE)
    if ip_type is not None and ip_type not in ("ipv4", "dualstack"):
        raise InvalidSpecError(
            f"{IP_ADDRESS_TYPE}: must be ipv4 or dualstack, got {ip_type!r}", field=IP_ADDRESS_TYPE
        )
    return NLBOptions(
        scheme=scheme,
        subnets=subnets,
        eip_allocations=eips,
        private_ipv4_addresses=private,
        cross_zone=_bool(ann, CROSS_ZONE, False),
        proxy_protocol=proxy == "*",
        additional_tags=_tags(ann),
        security_groups=_list(ann, SECURITY_GROUPS),
        dualstack=None if ip_type is None else ip_type == "dualstack",
        target_group_attributes=_target_group_attributes(ann),
        health_check=_health_check(ann),
    )


def _check_type(ann: dict[str, str]) -> None:
    kind = ann.get(TYPE)
    if kind not in (None, "", "nlb", "external", "nlb-ip"):
        raise InvalidSpecError(
            f"{TYPE}: {kind!r} is not served by cloud-lb's AWS provider "
            "(use nlb, or external with nlb-target-type instance)",
            field=TYPE,
        )
    target = ann.get(NLB_TARGET_TYPE)
    if kind == "nlb-ip" or target == "ip":
        raise InvalidSpecError(
            f"{NLB_TARGET_TYPE}: only instance targets are supported (nodes on their node ports)",
            field=NLB_TARGET_TYPE,
        )
    if target not in (None, "instance"):
        raise InvalidSpecError(
            f"{NLB_TARGET_TYPE}: must be instance, got {target!r}", field=NLB_TARGET_TYPE
        )


def _scheme(ann: dict[str, str]) -> str | None:
    scheme = ann.get(SCHEME)
    if scheme is not None:
        if scheme not in ("internal", "internet-facing"):
            raise InvalidSpecError(
                f"{SCHEME}: must be internal or internet-facing, got {scheme!r}", field=SCHEME
            )
        return scheme
    internal = ann.get(INTERNAL)
    if internal is None or internal == "":
        return None
    # cloud-provider-aws: "false" means internet-facing, any other value means internal
    # (old manifests carry "0.0.0.0/0" or "true")
    return "internet-facing" if internal.lower() == "false" else "internal"


def _check_addresses(
    scheme: str | None, eips: tuple[str, ...], private: tuple[str, ...], subnets: tuple[str, ...]
) -> None:
    if eips and private:
        raise InvalidSpecError(
            f"{EIP_ALLOCATIONS} and {PRIVATE_IPV4} cannot be combined", field=EIP_ALLOCATIONS
        )
    if eips and scheme == "internal":
        raise InvalidSpecError(
            f"{EIP_ALLOCATIONS}: Elastic IPs need an internet-facing load balancer",
            field=EIP_ALLOCATIONS,
        )
    if private and scheme != "internal":
        raise InvalidSpecError(
            f"{PRIVATE_IPV4}: private addresses need an internal load "
            f"balancer ({SCHEME}: internal)",
            field=PRIVATE_IPV4,
        )
    for field, values in ((EIP_ALLOCATIONS, eips), (PRIVATE_IPV4, private)):
        if len(set(values)) != len(values):
            raise InvalidSpecError(f"{field}: duplicate value", field=field)
        if values and subnets and len(values) != len(subnets):
            raise InvalidSpecError(
                f"{field}: {len(values)} values for {len(subnets)} subnets "
                f"in {SUBNETS}; give one per subnet",
                field=field,
            )


def _list(ann: dict[str, str], key: str) -> tuple[str, ...]:
    raw = ann.get(key)
    if raw is None:
        return ()
    items = tuple(item.strip() for item in raw.split(",") if item.strip())
    if not items:
        raise InvalidSpecError(f"{key}: empty list", field=key)
    return items


def _bool(ann: dict[str, str], key: str, default: bool) -> bool:
    raw = ann.get(key)
    if raw is None:
        return default
    if raw.lower() in ("true", "false"):
        return raw.lower() == "true"
    raise InvalidSpecError(f"{key}: must be true or false, got {raw!r}", field=key)


def _pairs(ann: dict[str, str], key: str) -> tuple[tuple[str, str], ...]:
    out: dict[str, str] = {}
    for item in _list(ann, key):
        k, sep, v = item.partition("=")
        if not sep or not k.strip():
            raise InvalidSpecError(f"{key}: {item!r} is not key=value", field=key)
        out[k.strip()] = v.strip()
    return tuple(sorted(out.items()))


def _tags(ann: dict[str, str], key: str = ADDITIONAL_TAGS) -> tuple[tuple[str, str], ...]:
    tags = _pairs(ann, key)
    for k, v in tags:
        if (
            k.lower().startswith("aws:")
            or k in RESERVED_TAG_KEYS
            or k.startswith(CLUSTER_TAG_PREFIX)
        ):
            raise InvalidSpecError(f"{key}: tag key {k!r} is reserved", field=key)
        if not _TAG_KEY.match(k) or not _TAG_VALUE.match(v):
            raise InvalidSpecError(
                f"{key}: tag {k!r} has characters or a length AWS rejects", field=key
            )
    if len(tags) > 20:
        raise InvalidSpecError(f"{key}: at most 20 tags", field=key)
    return tags


def _target_group_attributes(ann: dict[str, str]) -> tuple[tuple[str, str], ...]:
    attrs = _pairs(ann, TARGET_GROUP_ATTRIBUTES)
    for k, _ in attrs:
        if k not in ALLOWED_TARGET_GROUP_ATTRIBUTES:
            allowed = ", ".join(sorted(ALLOWED_TARGET_GROUP_ATTRIBUTES))
            raise InvalidSpecError(
                f"{TARGET_GROUP_ATTRIBUTES}: {k!r} is not supported (supported: {allowed})",
                field=TARGET_GROUP_ATTRIBUTES,
            )
    return attrs


def _int(ann: dict[str, str], key: str, low: int, high: int) -> int | None:
    raw = ann.get(key)
    if raw is None:
        return None
    try:
        value = int(raw)
    except ValueError:
        raise InvalidSpecError(f"{key}: {raw!r} is not an integer", field=key) from None
    if not low <= value <= high:
        raise InvalidSpecError(f"{key}: must be in {low}..{high}, got {value}", field=key)
    return value


def _health_check(ann: dict[str, str]) -> HealthCheckOverrides:
    protocol = ann.get(HC_PROTOCOL)
    if protocol is not None:
        protocol = protocol.upper()
        if protocol not in ("TCP", "HTTP", "HTTPS"):
            raise InvalidSpecError(f"{HC_PROTOCOL}: must be TCP, HTTP or HTTPS", field=HC_PROTOCOL)
    port = ann.get(HC_PORT)
    if port is not None and port != "traffic-port":
        _int(ann, HC_PORT, 1, 65535)
    path = ann.get(HC_PATH)
    if path is not None and not path.startswith("/"):
        raise InvalidSpecError(f"{HC_PATH}: must start with '/'", field=HC_PATH)
    codes = ann.get(HC_SUCCESS_CODES)
    if codes is not None and not _SUCCESS_CODES.match(codes):
        raise InvalidSpecError(
            f"{HC_SUCCESS_CODES}: must look like 200, 200-399 or 200,204", field=HC_SUCCESS_CODES
        )
    interval = _int(ann, HC_INTERVAL, 5, 300)
    timeout = _int(ann, HC_TIMEOUT, 2, 120)
    if interval is not None and timeout is not None and timeout >= interval:
        raise InvalidSpecError(f"{HC_TIMEOUT}: must be less than {HC_INTERVAL}", field=HC_TIMEOUT)
    return HealthCheckOverrides(
        protocol=protocol,
        port=port,
        path=path,
        interval=interval,
        timeout=timeout,
        healthy_threshold=_int(ann, HC_HEALTHY, 2, 10),
        unhealthy_threshold=_int(ann, HC_UNHEALTHY, 2, 10),
        success_codes=codes,
    )
