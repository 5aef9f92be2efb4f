"""The Service annotations the OpenStack provider honours, parsed into `ServiceOptions`.

Pure: takes `LoadBalancerSpec.options` (the object's annotations) and returns a frozen
value, or raises `InvalidSpecError` naming the annotation, before any cloud call.
OCCM's `loadbalancer.openstack.org/*` names are kept where they mean the same here, so
a Service moves from the openstack-cloud-controller-manager unchanged; OVHcloud's
`loadbalancer.ovhcloud.com/flavor` picks an Octavia flavor by its size name.
See docs/providers/openstack.md for the table and the differences from OCCM.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from cloud_lb.model import LoadBalancerSpec, ObjectKind
from cloud_lb.provider import InvalidSpecError

P = "loadbalancer.openstack.org/"
INTERNAL = "service.beta.kubernetes.io/openstack-internal-load-balancer"
FLOATING_NETWORK_ID = P + "floating-network-id"
FLOATING_SUBNET_ID = P + "floating-subnet-id"
SUBNET_ID = P + "subnet-id"
NETWORK_ID = P + "network-id"
PORT_ID = P + "port-id"
MEMBER_SUBNET_ID = P + "member-subnet-id"
KEEP_FLOATINGIP = P + "keep-floatingip"
PROXY_PROTOCOL = P + "proxy-protocol"
TIMEOUT_CLIENT_DATA = P + "timeout-client-data"
TIMEOUT_MEMBER_CONNECT = P + "timeout-member-connect"
TIMEOUT_MEMBER_DATA = P + "timeout-member-data"
TIMEOUT_TCP_INSPECT = P + "timeout-tcp-inspect"
CONNECTION_LIMIT = P + "connection-limit"
FLAVOR_ID = P + "flavor-id"
AVAILABILITY_ZONE = P + "availability-zone"
ENABLE_HEALTH_MONITOR = P + "enable-health-monitor"
HM_DELAY = P + "health-monitor-delay"
HM_TIMEOUT = P + "health-monitor-timeout"
HM_MAX_RETRIES = P + "health-monitor-max-retries"
HM_MAX_RETRIES_DOWN = P + "health-monitor-max-retries-down"
X_FORWARDED_FOR = P + "x-forwarded-for"
HOSTNAME = P + "hostname"
LOAD_BALANCER_ID = P + "load-balancer-id"
LB_METHOD = P + "lb-method"
OVH_FLAVOR = "loadbalancer.ovhcloud.com/flavor"

OVH_FLAVORS = ("small", "medium", "large", "xl")
LB_METHODS = ("ROUND_ROBIN", "LEAST_CONNECTIONS", "SOURCE_IP", "SOURCE_IP_PORT")
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,254}$")
_HOSTNAME = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)*"
                       r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")
_MAX_TIMEOUT_MS = 31_536_000  # Octavia's limit: one year

T = TypeVar("T")


@dataclass(frozen=True)
class ServiceOptions:
    """Everything the annotations ask for; None means "not set, use the config"."""

    internal: bool = False
    floating_network_id: str | None = None
    floating_subnet_id: str | None = None
    subnet_id: str | None = None
    network_id: str | None = None
    port_id: str | None = None
    member_subnet_id: str | None = None
    keep_floating_ip: bool = False
    proxy_protocol: str | None = None  # None, "PROXY" or "PROXYV2"
    timeout_client_data: int | None = None
    timeout_member_connect: int | None = None
    timeout_member_data: int | None = None
    timeout_tcp_inspect: int | None = None
    connection_limit: int | None = None
    flavor_id: str | None = None
    ovh_flavor: str | None = None
    availability_zone: str | None = None
    health_monitor: bool | None = None
    hm_delay: int | None = None
    hm_timeout: int | None = None
    hm_max_retries: int | None = None
    hm_max_retries_down: int | None = None
    x_forwarded_for: bool = False
    hostname: str | None = None
    load_balancer_id: str | None = None
    lb_method: str | None = None


def _fail(key: str, value: str, expected: str) -> InvalidSpecError:
    return InvalidSpecError(f"annotation {key}: {expected}, got {value!r}", field=key)


def _bool(key: str, value: str) -> bool:
    lowered = value.strip().lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    raise _fail(key, value, 'must be "true" or "false"')


def _int_in(low: int, high: int, *, seconds: bool = False) -> Callable[[str, str], int]:
    def parse(key: str, value: str) -> int:
        text = value.strip()
        if seconds and text.endswith("s"):
            text = text[:-1]
        try:
            number = int(text)
        except ValueError:
            raise _fail(key, value, f"must be an integer from {low} to {high}") from None
        if not low <= number <= high:
            raise _fail(key, value, f"must be an integer from {low} to {high}")
        return number
    return parse


def _identifier(key: str, value: str) -> str:
    text = value.strip()
    if not _ID.match(text):
        raise _fail(key, value, "must be an OpenStack ID (letters, digits, '-', '_', '.')")
    return text


def _hostname(key: str, value: str) -> str:
    text = value.strip().lower()
    if not _HOSTNAME.match(text):
        raise _fail(key, value, "must be a DNS name")
    return text


def _proxy(key: str, value: str) -> str | None:
    lowered = value.strip().lower()
    if lowered in ("true", "v1"):
        return "PROXY"
    if lowered == "v2":
        return "PROXYV2"
    if lowered == "false":
        return None
    raise _fail(key, value, 'must be "true", "v1", "v2" or "false"')


def _choice(choices: tuple[str, ...], *, upper: bool = False) -> Callable[[str, str], str]:
    def parse(key: str, value: str) -> str:
        text = value.strip().upper() if upper else value.strip().lower()
        if text not in choices:
            raise _fail(key, value, f"must be one of {', '.join(choices)}")
        return text
    return parse


# annotation -> (ServiceOptions field, parser)
_PARSERS: dict[str, tuple[str, Callable[[str, str], Any]]] = {
    INTERNAL: ("internal", _bool),
    FLOATING_NETWORK_ID: ("floating_network_id", _identifier),
    FLOATING_SUBNET_ID: ("floating_subnet_id", _identifier),
    SUBNET_ID: ("subnet_id", _identifier),
    NETWORK_ID: ("network_id", _identifier),
    PORT_ID: ("port_id", _identifier),
    MEMBER_SUBNET_ID: ("member_subnet_id", _identifier),
    KEEP_FLOATINGIP: ("keep_floating_ip", _bool),
    PROXY_PROTOCOL: ("proxy_protocol", _proxy),
    TIMEOUT_CLIENT_DATA: ("timeout_client_data", _int_in(0, _MAX_TIMEOUT_MS)),
    TIMEOUT_MEMBER_CONNECT: ("timeout_member_connect", _int_in(0, _MAX_TIMEOUT_MS)),
    TIMEOUT_MEMBER_DATA: ("timeout_member_data", _int_in(0, _MAX_TIMEOUT_MS)),
    TIMEOUT_TCP_INSPECT: ("timeout_tcp_inspect", _int_in(0, _MAX_TIMEOUT_MS)),
    CONNECTION_LIMIT: ("connection_limit", _int_in(-1, 2**31 - 1)),
    FLAVOR_ID: ("flavor_id", _identifier),
    OVH_FLAVOR: ("ovh_flavor", _choice(OVH_FLAVORS)),
    AVAILABILITY_ZONE: ("availability_zone", _identifier),
    ENABLE_HEALTH_MONITOR: ("health_monitor", _bool),
    HM_DELAY: ("hm_delay", _int_in(1, 3600, seconds=True)),
    HM_TIMEOUT: ("hm_timeout", _int_in(1, 3600, seconds=True)),
    HM_MAX_RETRIES: ("hm_max_retries", _int_in(1, 10)),
    HM_MAX_RETRIES_DOWN: ("hm_max_retries_down", _int_in(1, 10)),
    X_FORWARDED_FOR: ("x_forwarded_for", _bool),
    HOSTNAME: ("hostname", _hostname),
    LOAD_BALANCER_ID: ("load_balancer_id", _identifier),
    LB_METHOD: ("lb_method", _choice(LB_METHODS, upper=True)),
}

SUPPORTED = frozenset(_PARSERS)


def parse(spec: LoadBalancerSpec) -> ServiceOptions:
    """The spec's OpenStack options; `InvalidSpecError` (field = the annotation) if bad."""
    values: dict[str, Any] = {}
    for key, raw in spec.options:
        if key in _PARSERS:
            attr, parser = _PARSERS[key]
            values[attr] = parser(key, raw)
    options = ServiceOptions(**values)
    _check_combinations(spec, options)
    return options


def _check_combinations(spec: LoadBalancerSpec, options: ServiceOptions) -> None:
    if options.flavor_id and options.ovh_flavor:
        raise InvalidSpecError(f"annotations {FLAVOR_ID} and {OVH_FLAVOR} both choose a "
                               f"flavor; keep one", field=OVH_FLAVOR)
    if spec.ref.kind is ObjectKind.INGRESS:
        # L7 listeners always insert X-Forwarded-For; the PROXY protocol is refused by
        # the Ingress rendering, which knows why
        non_tcp: list[str] = []
    else:
        non_tcp = sorted({str(li.protocol) for li in spec.listeners
                          if str(li.protocol) != "TCP"})
    if options.proxy_protocol and non_tcp:
        raise InvalidSpecError(f"annotation {PROXY_PROTOCOL}: the PROXY protocol needs TCP "
                               f"ports, this Service has {', '.join(non_tcp)}",
                               field=PROXY_PROTOCOL)
    if options.x_forwarded_for and non_tcp:
        raise InvalidSpecError(f"annotation {X_FORWARDED_FOR}: X-Forwarded-For needs HTTP "
                               f"listeners on TCP ports, this Service has "
                               f"{', '.join(non_tcp)}", field=X_FORWARDED_FOR)
    if options.x_forwarded_for and options.proxy_protocol:
        raise InvalidSpecError(f"annotations {X_FORWARDED_FOR} and {PROXY_PROTOCOL} "
                               f"exclude each other", field=X_FORWARDED_FOR)
    if (options.hm_delay is not None and options.hm_timeout is not None
            and options.hm_timeout > options.hm_delay):
        raise InvalidSpecError(f"annotation {HM_TIMEOUT} ({options.hm_timeout}) must not "
                               f"exceed {HM_DELAY} ({options.hm_delay})", field=HM_TIMEOUT)
    if options.port_id and (options.subnet_id or options.network_id):
        raise InvalidSpecError(f"annotation {PORT_ID} fixes the VIP port; drop "
                               f"{SUBNET_ID}/{NETWORK_ID}", field=PORT_ID)
