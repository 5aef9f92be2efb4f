"""Per-collection rules: what GCE rejects, and the defaults it fills in.

Each `prepare_<collection>(ctx, body, old)` validates a request body whose references
are already resolved to existing resources (see `collections.py`), fills in the
server-side defaults GCE returns (so clients see the same shapes), and may register
`ctx.on_apply` callbacks (e.g. to hold an ephemeral IP). `old` is the stored body on
update/patch, None on insert. Only the rules a load-balancer controller can trip over
are modelled; the messages follow GCE's wording closely enough to be recognisable.
"""

from __future__ import annotations

import ipaddress
from typing import Any

from cloud_lb.testing.fakegce import fields as f
from cloud_lb.testing.fakegce.context import Ctx
from cloud_lb.testing.fakegce.errors import invalid, invalid_field
from cloud_lb.testing.fakegce.links import LINK_BASE, check_name, relative
from cloud_lb.testing.fakegce.validation_l7 import check_proxy_rule

PASSTHROUGH = ("EXTERNAL", "INTERNAL")
HC_TYPES = {
    "TCP": "tcpHealthCheck",
    "SSL": "sslHealthCheck",
    "HTTP": "httpHealthCheck",
    "HTTPS": "httpsHealthCheck",
    "HTTP2": "http2HealthCheck",
    "GRPC": "grpcHealthCheck",
}
FW_PROTOCOLS = ("tcp", "udp", "icmp", "esp", "ah", "sctp", "ipip", "all")


def _default_network(ctx: Ctx) -> str:
    return f"{LINK_BASE}projects/{ctx.scope.project}/global/networks/default"


def _subnet_cidr(ctx: Ctx, subnetwork: str) -> str:
    subnet = ctx.resolve(subnetwork)
    assert subnet is not None  # references were resolved before prepare
    return str(subnet["ipCidrRange"])


# -- addresses --------------------------------------------------------------------------


def prepare_address(ctx: Ctx, body: dict[str, Any], old: dict[str, Any] | None) -> None:
    kind = f.enum(body, "addressType", ("EXTERNAL", "INTERNAL"), "EXTERNAL")
    in_use = ctx.store.ips_in_use()
    if kind == "INTERNAL":
        if ctx.scope.kind == "global":
            raise invalid(
                "Global INTERNAL addresses need purpose VPC_PEERING, which the fake lacks"
            )
        subnet = f.require(body, "subnetwork")
        cidr = _subnet_cidr(ctx, subnet)
        body.setdefault("purpose", "GCE_ENDPOINT")
        if "address" in body:
            ip = f.ip(body["address"], "resource.address")
            if ipaddress.ip_address(ip) not in ipaddress.ip_network(cidr):
                raise invalid(
                    f"Requested internal IP address '{ip}' is outside the subnetwork's range {cidr}"
                )
        else:
            body["address"] = ctx.store.allocate_internal(cidr)
        body.pop("networkTier", None)
    else:
        if body.get("subnetwork"):
            raise invalid_field("resource.subnetwork", "only INTERNAL addresses have a subnetwork")
        if ctx.scope.kind == "global":
            f.enum(body, "ipVersion", ("IPV4", "IPV6"), "IPV4")
        else:
            f.enum(body, "networkTier", ("PREMIUM", "STANDARD"), "PREMIUM")
        if "address" in body:
            body["address"] = f.ip(body["address"], "resource.address")
        else:
            body["address"] = ctx.store.allocate_external()
    if body["address"] in in_use:
        raise invalid(
            f"IP address '{body['address']}' is already being used by another resource.",
            reason="ipInUseByAnotherResource",
        )
    body["status"] = "RESERVED"
    body.setdefault("labelFingerprint", "42WmSpB8rSM=")


# -- forwarding rules ---------------------------------------------------------------------


def _port_ranges(body: dict[str, Any]) -> list[tuple[int, int]]:
    if body.get("allPorts"):
        return [(1, 65535)]
    if body.get("portRange"):
        return [f.port_spec(body["portRange"], "resource.portRange")]
    return [f.port_spec(p, "resource.ports") for p in body.get("ports", [])]


def prepare_forwarding_rule(ctx: Ctx, body: dict[str, Any], old: dict[str, Any] | None) -> None:
    regional = ctx.scope.kind == "regions"
    protocol = f.enum(
        body, "IPProtocol", ("TCP", "UDP", "ESP", "AH", "SCTP", "ICMP", "L3_DEFAULT"), "TCP"
    )
    scheme = f.enum(
        body,
        "loadBalancingScheme",
        ("EXTERNAL", "EXTERNAL_MANAGED", "INTERNAL", "INTERNAL_MANAGED"),
        "EXTERNAL",
    )
    if bool(body.get("backendService")) == bool(body.get("target")):
        raise invalid("Exactly one of 'backendService' or 'target' must be specified.")
    if not regional and body.get("backendService"):
        raise invalid_field(
            "resource.backendService", "global forwarding rules need a target proxy"
        )
    given = [k for k in ("portRange", "ports", "allPorts") if body.get(k)]
    if len(given) > 1:
        raise invalid(f"Only one of {given} may be specified.")
    if not given:
        raise invalid("One of 'portRange', 'ports' or 'allPorts' must be specified.")
    if len(body.get("ports", [])) > 5:
        raise invalid_field("resource.ports", "at most 5 ports or port ranges may be specified")
    if body.get("ports"):
        body["ports"] = [str(p) for p in body["ports"]]
        for port in body["ports"]:
            # `ports` lists port numbers; ranges go in `portRange`
            if not port.isdigit():
                raise invalid_field("resource.ports", f"'{port}'. Must be a port number")
    if body.get("portRange"):
        low, high = f.port_spec(body["portRange"], "resource.portRange")
        body["portRange"] = f"{low}-{high}"  # GCE answers a single port as "80-80"
    ranges = _port_ranges(body)
    if body.get("target") and "/targetHttp" in str(body["target"]):
        assert scheme is not None and protocol is not None  # enum() applied defaults
        check_proxy_rule(ctx, body, scheme, protocol)
    if protocol == "L3_DEFAULT" and not body.get("allPorts"):
        raise invalid("Forwarding rules with IPProtocol L3_DEFAULT must set allPorts.")
    if body.get("backendService"):
        service = ctx.resolve(body["backendService"])
        assert service is not None
        if service.get("loadBalancingScheme") != scheme:
            raise invalid(
                f"The loadBalancingScheme of the forwarding rule ({scheme}) must match "
                f"that of backend service '{service['name']}' "
                f"({service.get('loadBalancingScheme')})."
            )
        bs_protocol = service.get("protocol")
        if bs_protocol != "UNSPECIFIED" and bs_protocol != protocol:
            raise invalid(
                f"Forwarding rule protocol {protocol} does not match backend service "
                f"'{service['name']}' protocol {bs_protocol}."
            )
        if bs_protocol == "UNSPECIFIED" and protocol not in ("TCP", "UDP", "L3_DEFAULT"):
            raise invalid(
                f"Protocol {protocol} cannot use a backend service of protocol UNSPECIFIED."
            )
    if scheme == "INTERNAL":
        subnet = f.require(body, "subnetwork")
        sub = ctx.resolve(subnet)
        assert sub is not None
        body.setdefault("network", sub["network"])
        body.pop("networkTier", None)
    else:
        if body.get("allowGlobalAccess"):
            raise invalid_field(
                "resource.allowGlobalAccess", "only INTERNAL forwarding rules have it"
            )
        f.enum(body, "networkTier", ("PREMIUM", "STANDARD"), "PREMIUM")
    assert scheme is not None and protocol is not None  # enum() applied defaults
    _assign_ip(ctx, body, scheme, protocol, ranges)
    body.setdefault("labelFingerprint", "42WmSpB8rSM=")


def _assign_ip(
    ctx: Ctx, body: dict[str, Any], scheme: str, protocol: str, ranges: list[tuple[int, int]]
) -> None:
    value = body.get("IPAddress")
    coll = "addresses" if ctx.scope.kind == "regions" else "globalAddresses"
    if value and "/" in str(value):
        address = ctx.resolve(str(value))
        if address is None:
            raise invalid(f"The resource '{relative(str(value))}' was not found", reason="notFound")
        body["IPAddress"] = address["address"]
    elif value:
        ip = f.ip(value, "resource.IPAddress")
        address = ctx.store.address_for_ip(ip, ctx.scope.path)
        if address is None:
            raise invalid(
                f"Specified IP address '{ip}' is not reserved in {ctx.scope.path}; "
                f"reserve it as a static address first."
            )
        body["IPAddress"] = ip
    else:
        address = None
        internal = scheme.startswith("INTERNAL")
        ip = (
            ctx.store.allocate_internal(_subnet_cidr(ctx, body["subnetwork"]))
            if internal
            else ctx.store.allocate_external()
        )
        body["IPAddress"] = ip
        link_key = ctx.link.relative
        ctx.on_apply.append(lambda: ctx.store.ephemeral_ips.__setitem__(link_key, ip))
    if address is not None:
        wants = "INTERNAL" if scheme.startswith("INTERNAL") else "EXTERNAL"
        if address.get("addressType", "EXTERNAL") != wants:
            raise invalid(
                f"Address '{address['name']}' is {address.get('addressType')}, "
                f"the forwarding rule needs an {wants} address."
            )
        if (
            wants == "EXTERNAL"
            and ctx.scope.kind == "regions"
            and address.get("networkTier", "PREMIUM") != body.get("networkTier", "PREMIUM")
        ):
            raise invalid(
                f"Address '{address['name']}' is in network tier "
                f"{address.get('networkTier')}, the forwarding rule asks for "
                f"{body.get('networkTier')}."
            )
    for other in ctx.store.collection_items(
        "forwardingRules" if coll == "addresses" else "globalForwardingRules", ctx.scope.path
    ):
        if other["name"] == body["name"] or other.get("IPAddress") != body["IPAddress"]:
            continue
        if other.get("IPProtocol") == protocol and f.ranges_overlap(_port_ranges(other), ranges):
            raise invalid(
                f"Forwarding rule '{other['name']}' already uses IP "
                f"{body['IPAddress']} for {protocol} on overlapping ports."
            )


# -- backend services and health checks ----------------------------------------------------


def prepare_region_backend_service(
    ctx: Ctx, body: dict[str, Any], old: dict[str, Any] | None
) -> None:
    scheme = f.enum(
        body,
        "loadBalancingScheme",
        ("EXTERNAL", "INTERNAL", "INTERNAL_MANAGED", "EXTERNAL_MANAGED"),
        "INTERNAL",
    )
    if scheme in PASSTHROUGH:
        f.enum(body, "protocol", ("TCP", "UDP", "UNSPECIFIED"), "TCP")
        checks = body.get("healthChecks", [])
        if len(checks) != 1:
            raise invalid(
                f"A backend service with loadBalancingScheme {scheme} must have "
                f"exactly one health check, got {len(checks)}."
            )
        if scheme == "EXTERNAL" and "/regions/" not in checks[0]:
            raise invalid(
                "Backend services of external passthrough load balancers need a "
                "regional health check."
            )
    else:
        f.enum(body, "protocol", ("HTTP", "HTTPS", "HTTP2", "TCP"), "HTTP")
    _backends(
        ctx,
        body,
        "CONNECTION" if scheme in PASSTHROUGH else "UTILIZATION",
        passthrough=scheme in PASSTHROUGH,
    )
    f.enum(
        body,
        "sessionAffinity",
        (
            "NONE",
            "CLIENT_IP",
            "CLIENT_IP_PROTO",
            "CLIENT_IP_PORT_PROTO",
            "CLIENT_IP_NO_DESTINATION",
            "GENERATED_COOKIE",
        ),
        "NONE",
    )
    f.integer(body, "timeoutSec", 30, 1, 86400)
    body.setdefault("connectionDraining", {"drainingTimeoutSec": 0})


def prepare_backend_service(ctx: Ctx, body: dict[str, Any], old: dict[str, Any] | None) -> None:
    f.enum(
        body,
        "loadBalancingScheme",
        ("EXTERNAL", "EXTERNAL_MANAGED", "INTERNAL_SELF_MANAGED"),
        "EXTERNAL",
    )
    f.enum(body, "protocol", ("HTTP", "HTTPS", "HTTP2", "TCP", "SSL"), "HTTP")
    body.setdefault("portName", "http")
    f.integer(body, "port", 80, 1, 65535)
    f.integer(body, "timeoutSec", 30, 1, 86400)
    if len(body.get("healthChecks", [])) > 1:
        raise invalid("A backend service may have at most one health check.")
    if any("/regions/" in hc for hc in body.get("healthChecks", [])):
        raise invalid("Global backend services need global health checks.")
    if body.get("backends") and not body.get("healthChecks"):
        raise invalid("A backend service with instance group backends needs a health check.")
    _backends(ctx, body, "UTILIZATION", passthrough=False)
    if body["protocol"] in ("HTTP", "HTTPS", "HTTP2") and any(
        b["balancingMode"] == "CONNECTION" for b in body.get("backends", [])
    ):
        raise invalid(
            f"Balancing mode CONNECTION is not supported for protocol {body['protocol']}; "
            f"use UTILIZATION or RATE."
        )
    f.enum(body, "sessionAffinity", ("NONE", "CLIENT_IP", "GENERATED_COOKIE"), "NONE")
    body.setdefault("connectionDraining", {"drainingTimeoutSec": 300})
    body.setdefault("enableCDN", False)


def _backends(ctx: Ctx, body: dict[str, Any], default_mode: str, *, passthrough: bool) -> None:
    seen: set[str] = set()
    for i, backend in enumerate(body.get("backends", [])):
        where = f"resource.backends[{i}]"
        group = f.require(backend, "group", where=where)
        if group in seen:
            raise invalid(f"Duplicate backend group '{relative(group)}'.")
        seen.add(group)
        if ctx.scope.kind == "regions":
            zone = relative(group).split("/")[3]
            if zone not in ctx.regions.get(ctx.scope.location, ()):
                raise invalid(
                    f"Backend group '{relative(group)}' is not in region {ctx.scope.location}."
                )
        modes = ("CONNECTION",) if passthrough else ("UTILIZATION", "RATE", "CONNECTION")
        f.enum(backend, "balancingMode", modes, default_mode, where=where)
        if not passthrough:
            backend.setdefault("capacityScaler", 1.0)
            if backend["balancingMode"] == "UTILIZATION":
                backend.setdefault("maxUtilization", 0.8)


def prepare_health_check(ctx: Ctx, body: dict[str, Any], old: dict[str, Any] | None) -> None:
    kind = f.require(body, "type")
    if kind not in HC_TYPES:
        raise invalid_field("resource.type", f"'{kind}'. Must be one of {list(HC_TYPES)}")
    sub_key = HC_TYPES[kind]
    for other in HC_TYPES.values():
        if other != sub_key and other in body:
            raise invalid(f"Health check of type {kind} cannot carry '{other}'.")
    sub = body.setdefault(sub_key, {})
    where = f"resource.{sub_key}"
    spec = sub.setdefault("portSpecification", "USE_FIXED_PORT")
    if spec == "USE_FIXED_PORT":
        f.integer(sub, "port", 443 if kind == "HTTPS" else 80, 1, 65535, where=where)
    f.enum(sub, "proxyHeader", ("NONE", "PROXY_V1"), "NONE", where=where)
    if kind in ("HTTP", "HTTPS", "HTTP2"):
        path = sub.setdefault("requestPath", "/")
        if not str(path).startswith("/"):
            raise invalid_field(f"{where}.requestPath", f"'{path}'. Must start with '/'")
    interval = f.integer(body, "checkIntervalSec", 5, 1, 300)
    timeout = f.integer(body, "timeoutSec", 5, 1, 300)
    if timeout > interval:
        raise invalid("timeoutSec must be less than or equal to checkIntervalSec.")
    f.integer(body, "healthyThreshold", 2, 1, 10)
    f.integer(body, "unhealthyThreshold", 2, 1, 10)


# -- firewalls ----------------------------------------------------------------------------


def prepare_firewall(ctx: Ctx, body: dict[str, Any], old: dict[str, Any] | None) -> None:
    body.setdefault("network", _default_network(ctx))
    direction = f.enum(body, "direction", ("INGRESS", "EGRESS"), "INGRESS")
    f.integer(body, "priority", 1000, 0, 65535)
    if bool(body.get("allowed")) == bool(body.get("denied")):
        raise invalid("Exactly one of 'allowed' or 'denied' must be specified.")
    for key in ("allowed", "denied"):
        for i, rule in enumerate(body.get(key, [])):
            where = f"resource.{key}[{i}]"
            proto = str(f.require(rule, "IPProtocol", where=where)).lower()
            if proto not in FW_PROTOCOLS and not proto.isdigit():
                raise invalid_field(f"{where}.IPProtocol", f"'{proto}'")
            rule["IPProtocol"] = proto
            if rule.get("ports"):
                if proto not in ("tcp", "udp", "sctp", "all"):
                    raise invalid_field(
                        f"{where}.ports", f"ports need tcp, udp or sctp, not {proto}"
                    )
                rule["ports"] = [str(p) for p in rule["ports"]]
                for p in rule["ports"]:
                    f.port_spec(p, f"{where}.ports")
    for key in ("sourceRanges", "destinationRanges"):
        if key in body:
            body[key] = [f.cidr(c, f"resource.{key}") for c in body[key]]
    if body.get("targetTags") and body.get("targetServiceAccounts"):
        raise invalid("targetTags and targetServiceAccounts cannot both be set.")
    if body.get("sourceTags") and body.get("sourceServiceAccounts"):
        raise invalid("sourceTags and sourceServiceAccounts cannot both be set.")
    if direction == "INGRESS" and not any(
        body.get(k) for k in ("sourceRanges", "sourceTags", "sourceServiceAccounts")
    ):
        body["sourceRanges"] = ["0.0.0.0/0"]
    body.setdefault("disabled", False)
    body.setdefault("logConfig", {"enable": False})


# -- instance groups ----------------------------------------------------------------------


def prepare_instance_group(ctx: Ctx, body: dict[str, Any], old: dict[str, Any] | None) -> None:
    body.setdefault("network", _default_network(ctx))
    check_named_ports(body.get("namedPorts", []))
    body["size"] = 0


def check_named_ports(named_ports: list[dict[str, Any]]) -> None:
    for i, named in enumerate(named_ports):
        check_name(named.get("name"), f"resource.namedPorts[{i}].name")
        f.integer(named, "port", 0, 1, 65535, where=f"resource.namedPorts[{i}]")
