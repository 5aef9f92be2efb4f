"""The GCE resources one Ingress wants, rendered from its spec as plain JSON (pure).

A global external Application Load Balancer (`EXTERNAL_MANAGED`), as ingress-gce builds
one per Ingress:

    global address k8s-<h>-ip ──> forwarding rule -fr :80 ──> target HTTP proxy -tp ─┐
                              └─> forwarding rule -fs :443 ─> target HTTPS proxy -ts ─┤
                                                           (SSL certificates -cr-*)   │
    URL map -um (hosts, paths) <──────────────────────────────────────────────────────┘
      (or the redirect map -rm on the HTTP proxy when HTTPS is forced)
      └─> backend service -be-<svc port> per backend Service port ──> instance groups
          (named port `port<nodePort>`), health check -be-<svc port> (HTTP, its path);
          -be-404 when there is no default backend (see `url_map.py`)
    firewall -fw: Google's front ends and probers to the node ports and check ports

Bodies use GCE's JSON field names and relative links; `ingress_diff.py` compares them
with what the cloud returns. The address may not exist yet when rendering: forwarding
rules then carry `NEW_ADDRESS` until it is reserved. Certificates are rendered without
their private key, which is added only to the insert request (`ingress.py`), so no
plan, step or log line can carry it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from cloud_lb.model import IPFamily, L7Backend, LoadBalancerSpec, Protocol, TLSCert
from cloud_lb.provider import InvalidSpecError
from providers.gcp import naming, url_map
from providers.gcp.ingress_options import IngressOptions
from providers.gcp.render import NEW_ADDRESS, Placement

Json = dict[str, Any]
SCHEME = "EXTERNAL_MANAGED"
# Google Front Ends and health-check probers, which reach the nodes of an Application
# Load Balancer (https://cloud.google.com/load-balancing/docs/firewall-rules)
FRONT_END_RANGES = ("130.211.0.0/22", "35.191.0.0/16")

# dependency order: each kind only references kinds before it
ORDER = (
    "globalAddress",
    "globalHealthCheck",
    "globalBackendService",
    "sslCertificate",
    "urlMap",
    "targetHttpProxy",
    "targetHttpsProxy",
    "globalForwardingRule",
    "firewall",
)


@dataclass(frozen=True)
class IngressDesired:
    resources: dict[str, dict[str, Json]]  # kind -> name -> body, every kind of ORDER
    certificates: dict[str, TLSCert] = field(repr=False, default_factory=dict)  # name -> cert
    user_address: str | None = None  # the annotation's address name (never ours)


def global_link(project: str, collection: str, name: str) -> str:
    return f"projects/{project}/global/{collection}/{name}"


def validate(spec: LoadBalancerSpec, options: IngressOptions) -> None:
    """Everything we cannot build, as a user-actionable error, before any cloud call."""
    for listener in spec.listeners:
        if listener.protocol not in (Protocol.HTTP, Protocol.HTTPS):
            raise InvalidSpecError(
                f"listener {listener.name!r}: an Application Load Balancer serves HTTP and "
                f"HTTPS, not {listener.protocol}"
            )
    if spec.internal:
        raise InvalidSpecError(
            "internal Ingress load balancers (regional internal Application Load Balancers) "
            "are not supported by the gcp provider; remove the internal annotation"
        )
    if IPFamily.IPV6 in spec.ip_families:
        raise InvalidSpecError("IPv6 Ingress load balancers are not supported by the gcp provider")
    if spec.source_ranges:
        raise InvalidSpecError(
            "source ranges on a global Application Load Balancer need Cloud Armor, which the "
            "gcp provider does not manage"
        )
    if spec.static_ip is not None:
        raise InvalidSpecError(
            "name a reserved global address with the annotation "
            "kubernetes.io/ingress.global-static-ip-name instead of an IP"
        )
    if any(li.protocol is Protocol.HTTPS for li in spec.listeners) and not spec.tls:
        raise InvalidSpecError("an HTTPS listener needs at least one TLS certificate")
    if not _front_ends(spec, options):
        raise InvalidSpecError(
            'kubernetes.io/ingress.allow-http is "false" and no TLS certificate is usable: '
            "nothing would be served"
        )
    url_map.validate(spec)


def _front_ends(spec: LoadBalancerSpec, options: IngressOptions) -> dict[str, int]:
    """`fr` -> HTTP port, `fs` -> HTTPS port, for the listeners to serve."""
    out = {}
    for listener in spec.listeners:
        if listener.protocol is Protocol.HTTP and options.allow_http:
            out["fr"] = listener.port
        elif listener.protocol is Protocol.HTTPS and spec.tls:
            out["fs"] = listener.port
    return out


def node_ports(spec: LoadBalancerSpec) -> set[int]:
    return {b.node_port for b in url_map.used_backends(spec) if b is not None}


def _health_check(spec: LoadBalancerSpec, backend: L7Backend, name: str) -> Json:
    check = backend.health_check
    return {
        "name": name,
        "description": naming.describe(spec.ref),
        "type": "HTTP",
        "httpHealthCheck": {"port": check.port, "requestPath": check.path},
        "checkIntervalSec": check.interval_seconds,
        "timeoutSec": check.timeout_seconds,
        "healthyThreshold": check.healthy_threshold,
        "unhealthyThreshold": check.unhealthy_threshold,
    }


def _backend_service(
    spec: LoadBalancerSpec, backend: L7Backend | None, name: str, project: str, groups: list[str]
) -> Json:
    body: Json = {
        "name": name,
        "description": naming.describe(spec.ref),
        "protocol": "HTTP",
        "loadBalancingScheme": SCHEME,
    }
    if backend is None:  # the 404 backend: every request is aborted before reaching it
        return {**body, "backends": [], "healthChecks": []}
    return {
        **body,
        "portName": naming.named_port(backend.node_port),
        "healthChecks": [global_link(project, "healthChecks", name)],
        "backends": [{"group": g, "balancingMode": "UTILIZATION"} for g in sorted(groups)],
    }


def _firewall(spec: LoadBalancerSpec, placement: Placement) -> Json | None:
    ports = set()
    for backend in url_map.used_backends(spec):
        if backend is not None:
            ports |= {backend.node_port, backend.health_check.port}
    if not ports:
        return None  # a firewall rule without ports would open every port
    body: Json = {
        "name": naming.ingress_name(spec.ref, "fw"),
        "description": naming.describe(spec.ref),
        "network": placement.network,
        "direction": "INGRESS",
        "priority": 1000,
        "sourceRanges": list(FRONT_END_RANGES),
        "allowed": [{"IPProtocol": "tcp", "ports": [str(p) for p in sorted(ports)]}],
    }
    if placement.target_tags:
        body["targetTags"] = sorted(placement.target_tags)
    elif placement.target_service_accounts:
        body["targetServiceAccounts"] = sorted(placement.target_service_accounts)
    return body


def render(
    spec: LoadBalancerSpec,
    options: IngressOptions,
    placement: Placement,
    groups: list[str],
    ip: str | None,
) -> IngressDesired:
    """What the cloud should hold for `spec`; `ip` is the address if known."""
    ref, project = spec.ref, placement.project
    out: dict[str, dict[str, Json]] = {kind: {} for kind in ORDER}

    def put(kind: str, body: Json) -> None:
        out[kind][body["name"]] = body

    if options.static_ip_name is None:
        put(
            "globalAddress",
            {
                "name": naming.ingress_name(ref, "ip"),
                "description": naming.describe(ref),
                "ipVersion": "IPV4",
            },
        )

    def service_link(backend: L7Backend | None) -> str:
        name = naming.ingress_backend_name(ref, *_identity(backend))
        return global_link(project, "backendServices", name)

    for backend in url_map.used_backends(spec):
        name = naming.ingress_backend_name(ref, *_identity(backend))
        if name in out["globalBackendService"]:
            continue
        if backend is not None:
            put("globalHealthCheck", _health_check(spec, backend, name))
        put("globalBackendService", _backend_service(spec, backend, name, project, groups))

    main = url_map.url_map(spec, service_link)
    put("urlMap", main)
    main_link = global_link(project, "urlMaps", main["name"])
    front = _front_ends(spec, options)
    certificates: dict[str, TLSCert] = {}
    if "fs" in front:
        for cert in spec.tls:
            name = naming.ingress_certificate_name(ref, cert.fingerprint)
            certificates.setdefault(name, cert)
        for name, cert in certificates.items():
            put(
                "sslCertificate",
                {
                    "name": name,
                    "description": naming.describe(ref),
                    "type": "SELF_MANAGED",
                    "certificate": cert.cert_pem,
                },
            )
        put(
            "targetHttpsProxy",
            {
                "name": naming.ingress_name(ref, "ts"),
                "description": naming.describe(ref),
                "urlMap": main_link,
                "sslCertificates": [
                    global_link(project, "sslCertificates", n) for n in certificates
                ],
            },
        )
    if "fr" in front:
        http_map = main_link
        if spec.https_redirect and "fs" in front:
            redirect = url_map.redirect_map(spec)
            put("urlMap", redirect)
            http_map = global_link(project, "urlMaps", redirect["name"])
        put(
            "targetHttpProxy",
            {
                "name": naming.ingress_name(ref, "tp"),
                "description": naming.describe(ref),
                "urlMap": http_map,
            },
        )
    proxies = {"fr": ("targetHttpProxies", "tp"), "fs": ("targetHttpsProxies", "ts")}
    for part, port in sorted(front.items()):
        collection, proxy = proxies[part]
        put(
            "globalForwardingRule",
            {
                "name": naming.ingress_name(ref, part),
                "description": naming.describe(ref),
                "IPAddress": ip or NEW_ADDRESS,
                "IPProtocol": "TCP",
                "portRange": f"{port}-{port}",
                "target": global_link(project, collection, naming.ingress_name(ref, proxy)),
                "loadBalancingScheme": SCHEME,
            },
        )
    firewall = _firewall(spec, placement)
    if firewall is not None:
        put("firewall", firewall)
    return IngressDesired(out, certificates, options.static_ip_name)


def _identity(backend: L7Backend | None) -> tuple[str | None, int]:
    return (None, 0) if backend is None else (backend.service, backend.port)
