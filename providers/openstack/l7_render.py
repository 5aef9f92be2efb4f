"""Ingress spec -> the Octavia L7 load balancer we want, as plain frozen data. Pure.

- one pool per backend Service port (`L7Backend`), named after it, shared by the HTTP
  and HTTPS listeners and the policies: HTTP, members = every backend node at the
  backend's node port, an HTTP (or TCP) health monitor from the backend's health check
  (its own port through the members' `monitor_port` when it is not the node port), the
  `loadbalancer.openstack.org/health-monitor-*` annotations and config applying;
- an HTTP listener, and a TERMINATED_HTTPS one when the spec has certificates: the
  default certificate is the one without hosts (else the first by Secret name), the
  others go to `sni_container_refs`; both insert X-Forwarded-For/-Port/-Proto;
- the default pool of each listener is the default backend's; without one there is no
  default pool and Octavia answers 503 to what no policy matches (Kubernetes says 404,
  which Octavia cannot produce: a REJECT policy would answer 403; documented);
- the L7 policies of `l7_policies`, in order;
- certificates: one Barbican certificate container per TLS Secret content, named by
  `naming.container_name` (listeners refer to them by that name until the provider
  resolves the names to references).

`create_body(refs)` is the fully-populated create: pools, listeners and their policies
with rules, in one body, pools referred to by name.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cloud_lb.model import (
    HealthCheckProtocol,
    L7Backend,
    LoadBalancerSpec,
    Protocol,
    TLSCert,
)
from cloud_lb.provider import InvalidSpecError
from providers.openstack import naming
from providers.openstack.annotations import PROXY_PROTOCOL, ServiceOptions
from providers.openstack.config import OpenStackConfig
from providers.openstack.l7_policies import DesiredPolicy, listener_policies
from providers.openstack.render import (
    OCTAVIA_DEFAULT_TIMEOUTS,
    DesiredMember,
    DesiredMonitor,
    DesiredPool,
    Placement,
    allowed_cidrs,
    first,
    placement_fields,
)

FORWARDED_HEADERS = (("X-Forwarded-For", "true"), ("X-Forwarded-Port", "true"),
                     ("X-Forwarded-Proto", "true"))


@dataclass(frozen=True)
class DesiredCert:
    container: str  # the container's name
    cert: TLSCert  # its repr never shows the key

    @property
    def hosts(self) -> str:
        return ", ".join(self.cert.hosts) or "default"


@dataclass(frozen=True)
class DesiredL7Listener:
    name: str
    protocol: str  # HTTP | TERMINATED_HTTPS
    protocol_port: int
    allowed_cidrs: tuple[str, ...] | None
    connection_limit: int
    timeouts: tuple[tuple[str, int], ...]
    insert_headers: tuple[tuple[str, str], ...]
    default_pool: str | None  # pool name
    default_tls: str | None  # container name
    sni: tuple[str, ...]  # container names
    policies: tuple[DesiredPolicy, ...]

    @property
    def key(self) -> tuple[str, int]:
        return ("TCP", self.protocol_port)

    def updatable(self, refs: Mapping[str, str]) -> dict[str, Any]:
        """The fields a PUT may change; certificates as references (names unresolved
        stay names: only `plan` sees those)."""
        return {"name": self.name,
                "allowed_cidrs": list(self.allowed_cidrs) if self.allowed_cidrs else None,
                "connection_limit": self.connection_limit, **dict(self.timeouts),
                "insert_headers": dict(self.insert_headers),
                "default_tls_container_ref": refs.get(self.default_tls, self.default_tls)
                if self.default_tls else None,
                "sni_container_refs": [refs.get(n, n) for n in self.sni]}

    def body(self, tags: list[str], refs: Mapping[str, str]) -> dict[str, Any]:
        out = {"protocol": self.protocol, "protocol_port": self.protocol_port, "tags": tags,
               **self.updatable(refs)}
        for key in ("allowed_cidrs", "default_tls_container_ref"):
            if out[key] is None:
                del out[key]
        if not out["sni_container_refs"]:
            del out["sni_container_refs"]
        return out


@dataclass(frozen=True)
class DesiredIngressLB:
    name: str
    description: str
    tags: tuple[str, ...]
    child_tags: tuple[str, ...]
    placement: Placement
    listeners: tuple[DesiredL7Listener, ...]
    pools: tuple[DesiredPool, ...]
    certs: tuple[DesiredCert, ...]

    def create_body(self, refs: Mapping[str, str]) -> dict[str, Any]:
        tags = list(self.child_tags)
        listeners = []
        for li in self.listeners:
            body = li.body(tags, refs)
            if li.default_pool:
                body["default_pool"] = {"name": li.default_pool}
            if li.policies:
                body["l7policies"] = [policy_body(p, tags, position=i)
                                      for i, p in enumerate(li.policies, start=1)]
            listeners.append(body)
        return {"name": self.name, "description": self.description, "tags": list(self.tags),
                "listeners": listeners, "pools": [p.body(tags) for p in self.pools],
                **placement_fields(self.placement)}


def policy_body(policy: DesiredPolicy, tags: list[str], *, position: int) -> dict[str, Any]:
    """A policy as the fully-populated create takes it (pool by name)."""
    out: dict[str, Any] = {"name": policy.name, "action": policy.action,
                           "position": position, "tags": tags,
                           "rules": [r.body(tags) for r in policy.rules]}
    if policy.redirect_pool:
        out["redirect_pool"] = {"name": policy.redirect_pool}
    if policy.redirect_prefix:
        out["redirect_prefix"] = policy.redirect_prefix
        out["redirect_http_code"] = policy.redirect_http_code
    return out


def render_ingress(spec: LoadBalancerSpec, options: ServiceOptions, config: OpenStackConfig,
                   placement: Placement) -> DesiredIngressLB:
    ref = spec.ref
    if options.proxy_protocol:
        raise InvalidSpecError(f"annotation {PROXY_PROTOCOL}: an Ingress load balancer "
                               f"speaks HTTP to its backends; remove it", field=PROXY_PROTOCOL)
    backends: dict[str, L7Backend] = {}
    for backend in ([spec.default_backend] if spec.default_backend else []) + [
            r.backend for r in spec.rules]:
        backends.setdefault(backend.name, backend)
    pools = {name: _pool(spec, b, options, config, placement) for name, b in backends.items()}
    pool_names = {name: pool.name for name, pool in pools.items()}
    https_port = next((li.port for li in spec.listeners if li.protocol is Protocol.HTTPS),
                      None)
    # certificates are stored only for an HTTPS listener to serve them
    certs = tuple(DesiredCert(naming.container_name(ref, c.name, c.fingerprint), c)
                  for c in spec.tls) if https_port is not None else ()
    default_cert = next((c for c in certs if not c.cert.hosts), certs[0] if certs else None)
    timeouts = tuple(sorted(
        (key, getattr(options, key) if getattr(options, key) is not None else default)
        for key, default in OCTAVIA_DEFAULT_TIMEOUTS.items()))
    listeners = []
    for li in spec.listeners:
        if li.protocol not in (Protocol.HTTP, Protocol.HTTPS):
            raise InvalidSpecError(f"listener {li.name}: an Ingress load balancer serves "
                                   f"HTTP and HTTPS, not {li.protocol}", field="spec")
        https = li.protocol is Protocol.HTTPS
        if https and default_cert is None:
            raise InvalidSpecError("an HTTPS listener needs a certificate (spec.tls)",
                                   field="spec.tls")
        listeners.append(DesiredL7Listener(
            name=naming.child_name("listener", "HTTPS" if https else "HTTP", li.port, ref),
            protocol="TERMINATED_HTTPS" if https else "HTTP", protocol_port=li.port,
            allowed_cidrs=allowed_cidrs(spec),
            connection_limit=options.connection_limit
            if options.connection_limit is not None else -1,
            timeouts=timeouts, insert_headers=FORWARDED_HEADERS,
            default_pool=pool_names[spec.default_backend.name] if spec.default_backend
            else None,
            default_tls=default_cert.container if https and default_cert else None,
            sni=tuple(c.container for c in certs if c is not default_cert) if https else (),
            policies=listener_policies(spec, pool_names, https=https,
                                       https_port=https_port)))
    return DesiredIngressLB(
        name=naming.lb_name(ref), description=naming.description(ref),
        tags=tuple(naming.lb_tags(ref)), child_tags=tuple(naming.child_tags(ref)),
        placement=placement, listeners=tuple(listeners), pools=tuple(pools.values()),
        certs=certs)


def _pool(spec: LoadBalancerSpec, backend: L7Backend, options: ServiceOptions,
          config: OpenStackConfig, placement: Placement) -> DesiredPool:
    monitor, monitor_port = _monitor(spec, backend, options, config)
    members = tuple(
        DesiredMember(name=b.node_name, address=b.address, protocol_port=backend.node_port,
                      monitor_port=monitor_port, subnet_id=placement.member_subnet_id)
        for b in sorted(spec.backends, key=lambda b: b.node_name))
    return DesiredPool(name=naming.backend_child_name("pool", backend.name, spec.ref),
                       protocol="HTTP", lb_algorithm=options.lb_method or config.lb_method,
                       members=members, monitor=monitor)


def _monitor(spec: LoadBalancerSpec, backend: L7Backend, options: ServiceOptions,
             config: OpenStackConfig) -> tuple[DesiredMonitor | None, int | None]:
    hm = config.health_monitor
    if not (options.health_monitor if options.health_monitor is not None else hm.enabled):
        return None, None
    check = backend.health_check
    http = check.protocol is HealthCheckProtocol.HTTP
    delay = first(options.hm_delay, hm.delay, check.interval_seconds)
    monitor = DesiredMonitor(
        name=naming.backend_child_name("monitor", backend.name, spec.ref),
        type="HTTP" if http else "TCP", delay=delay,
        timeout=min(first(options.hm_timeout, hm.timeout, check.timeout_seconds), delay),
        max_retries=max(1, min(10, first(options.hm_max_retries, hm.max_retries,
                                         check.healthy_threshold))),
        max_retries_down=max(1, min(10, first(options.hm_max_retries_down,
                                              hm.max_retries_down,
                                              check.unhealthy_threshold))),
        url_path=check.path if http else None, http_method="GET" if http else None,
        expected_codes="200" if http else None)
    return monitor, (check.port if check.port != backend.node_port else None)
