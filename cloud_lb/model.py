"""The provider-neutral desired and observed state of one load balancer.

Everything here is a frozen dataclass of plain values: no I/O, no Kubernetes objects,
no cloud objects. `translate` produces a `LoadBalancerSpec` from Kubernetes objects;
providers render their cloud resources from it and report a `LoadBalancerStatus`.
Invariants are checked in `__post_init__`, so a spec that exists is a valid spec.
"""

from __future__ import annotations

import enum
import hashlib
import ipaddress
from dataclasses import dataclass, field


class Protocol(str, enum.Enum):
    TCP = "TCP"
    UDP = "UDP"
    SCTP = "SCTP"
    HTTP = "HTTP"
    HTTPS = "HTTPS"

    def __str__(self) -> str:
        return self.value


class HealthCheckProtocol(str, enum.Enum):
    HTTP = "HTTP"
    TCP = "TCP"

    def __str__(self) -> str:
        return self.value


class IPFamily(str, enum.Enum):
    IPV4 = "IPv4"
    IPV6 = "IPv6"

    def __str__(self) -> str:
        return self.value


class TrafficPolicy(str, enum.Enum):
    CLUSTER = "Cluster"
    LOCAL = "Local"

    def __str__(self) -> str:
        return self.value


class ObjectKind(str, enum.Enum):
    SERVICE = "Service"
    INGRESS = "Ingress"

    def __str__(self) -> str:
        return self.value


KUBE_PROXY_HEALTH_PORT = 10256


@dataclass(frozen=True)
class LBRef:
    """Identity of one managed load balancer: which cluster's object it serves.

    The cloud name of every resource derives from (cluster, uid); tags carry all four
    fields so that ownership can be checked and orphans found.
    """

    cluster: str
    kind: ObjectKind
    namespace: str
    name: str
    uid: str

    def __post_init__(self) -> None:
        for attr in ("cluster", "namespace", "name", "uid"):
            if not getattr(self, attr):
                raise ValueError(f"LBRef.{attr} must not be empty")

    @property
    def key(self) -> str:
        """`namespace/name`, the work-queue key of the Kubernetes object."""
        return f"{self.namespace}/{self.name}"

    def short_hash(self, length: int = 10) -> str:
        """A stable hash of cluster and uid, for clouds with short name limits."""
        digest = hashlib.sha256(f"{self.cluster}/{self.uid}".encode()).hexdigest()
        return digest[:length]

    def __str__(self) -> str:
        return f"{self.kind}/{self.namespace}/{self.name}"


@dataclass(frozen=True)
class HealthCheck:
    """How the load balancer decides that a backend node may take traffic.

    `port` is an absolute port on the node: the Service's healthCheckNodePort
    (externalTrafficPolicy Local), kube-proxy's 10256 (Cluster), or the listener's node
    port for a TCP check.
    """

    protocol: HealthCheckProtocol
    port: int
    path: str = "/healthz"
    interval_seconds: int = 5
    timeout_seconds: int = 3
    healthy_threshold: int = 2
    unhealthy_threshold: int = 3

    def __post_init__(self) -> None:
        _check_port("HealthCheck.port", self.port)
        if self.protocol is HealthCheckProtocol.HTTP and not self.path.startswith("/"):
            raise ValueError(f"HealthCheck.path must start with '/': {self.path!r}")
        if self.interval_seconds < 1 or self.timeout_seconds < 1:
            raise ValueError("HealthCheck interval and timeout must be >= 1 second")
        if self.timeout_seconds > self.interval_seconds:
            raise ValueError("HealthCheck.timeout_seconds must not exceed interval_seconds")
        if self.healthy_threshold < 1 or self.unhealthy_threshold < 1:
            raise ValueError("HealthCheck thresholds must be >= 1")


@dataclass(frozen=True)
class Listener:
    """One front-end port of the load balancer and where it sends traffic.

    `node_port` is the port on every backend node; 0 when the Service has no node
    ports (`allocateLoadBalancerNodePorts: false`) and targets are pod IPs.
    """

    name: str
    protocol: Protocol
    port: int
    node_port: int
    health_check: HealthCheck

    def __post_init__(self) -> None:
        _check_port("Listener.port", self.port)
        if self.node_port != 0:
            _check_port("Listener.node_port", self.node_port)
        if not self.name:
            raise ValueError("Listener.name must not be empty")


@dataclass(frozen=True)
class Backend:
    """One node that receives traffic. `provider_id` is the node's spec.providerID."""

    node_name: str
    address: str
    provider_id: str = ""
    zone: str = ""

    def __post_init__(self) -> None:
        ipaddress.ip_address(self.address)
        if not self.node_name:
            raise ValueError("Backend.node_name must not be empty")


@dataclass(frozen=True)
class PodTarget:
    """A pod endpoint, used instead of node ports when the Service allocates none."""

    address: str
    port: int
    listener: str

    def __post_init__(self) -> None:
        ipaddress.ip_address(self.address)
        _check_port("PodTarget.port", self.port)


@dataclass(frozen=True)
class TLSCert:
    """A certificate from a `kubernetes.io/tls` Secret. The key never prints."""

    name: str
    hosts: tuple[str, ...]
    cert_pem: str
    key_pem: str = field(repr=False)

    @property
    def fingerprint(self) -> str:
        """A digest of certificate and key, to detect rotation without showing either."""
        return hashlib.sha256((self.cert_pem + self.key_pem).encode()).hexdigest()[:16]


@dataclass(frozen=True)
class L7Backend:
    """A backend Service port of an Ingress, resolved to its node port."""

    service: str  # namespace/name
    port: int  # the Service port
    node_port: int
    health_check: HealthCheck

    @property
    def name(self) -> str:
        return f"{self.service.replace('/', '-')}-{self.port}"


class PathType(str, enum.Enum):
    EXACT = "Exact"
    PREFIX = "Prefix"

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True)
class L7Rule:
    """One routing rule: host ('' = any, '*.x' = wildcard), path, and backend."""

    host: str
    path: str
    path_type: PathType
    backend: L7Backend


@dataclass(frozen=True)
class LoadBalancerSpec:
    """Everything a provider needs to build one load balancer, and nothing else.

    `options` holds the object's annotations that a provider may interpret
    (`loadbalancer.openstack.org/...`, `service.beta.kubernetes.io/aws-...`); the
    provider validates its own and raises `InvalidSpecError` before any cloud call.
    """

    ref: LBRef
    listeners: tuple[Listener, ...]
    backends: tuple[Backend, ...] = ()
    pod_targets: tuple[PodTarget, ...] = ()
    source_ranges: tuple[str, ...] = ()
    ip_families: tuple[IPFamily, ...] = (IPFamily.IPV4,)
    internal: bool = False
    static_ip: str | None = None
    traffic_policy: TrafficPolicy = TrafficPolicy.CLUSTER
    options: tuple[tuple[str, str], ...] = ()
    # L7 (Ingress) only
    rules: tuple[L7Rule, ...] = ()
    default_backend: L7Backend | None = None
    tls: tuple[TLSCert, ...] = ()
    https_redirect: bool = False

    def __post_init__(self) -> None:
        if not self.listeners:
            raise ValueError("LoadBalancerSpec needs at least one listener")
        seen: set[tuple[int, Protocol]] = set()
        names: set[str] = set()
        for listener in self.listeners:
            key = (listener.port, listener.protocol)
            if key in seen:
                raise ValueError(f"duplicate listener {listener.protocol}/{listener.port}")
            if listener.name in names:
                raise ValueError(f"duplicate listener name {listener.name!r}")
            seen.add(key)
            names.add(listener.name)
        for cidr in self.source_ranges:
            ipaddress.ip_network(cidr, strict=True)
        if len(set(self.source_ranges)) != len(self.source_ranges):
            raise ValueError("duplicate source range")
        if not self.ip_families or len(set(self.ip_families)) != len(self.ip_families):
            raise ValueError("ip_families must be one or two distinct families")
        if self.static_ip is not None:
            ipaddress.ip_address(self.static_ip)
        if len({b.node_name for b in self.backends}) != len(self.backends):
            raise ValueError("duplicate backend node")

    @property
    def is_l7(self) -> bool:
        return bool(self.rules) or self.default_backend is not None

    def option(self, key: str, default: str | None = None) -> str | None:
        for k, v in self.options:
            if k == key:
                return v
        return default

    @property
    def effective_source_ranges(self) -> tuple[str, ...]:
        """The allow-list to apply: empty means everyone, per family."""
        if self.source_ranges:
            return self.source_ranges
        everyone = {IPFamily.IPV4: "0.0.0.0/0", IPFamily.IPV6: "::/0"}
        return tuple(everyone[f] for f in self.ip_families)


class IPMode(str, enum.Enum):
    VIP = "VIP"
    PROXY = "Proxy"

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True)
class PortStatus:
    port: int
    protocol: Protocol
    error: str | None = None


@dataclass(frozen=True)
class IngressPoint:
    """One entry of `status.loadBalancer.ingress`."""

    ip: str | None = None
    hostname: str | None = None
    ip_mode: IPMode | None = None
    ports: tuple[PortStatus, ...] = ()

    def __post_init__(self) -> None:
        if not self.ip and not self.hostname:
            raise ValueError("IngressPoint needs an ip or a hostname")

    def to_kube(self) -> dict[str, object]:
        out: dict[str, object] = {}
        if self.ip:
            out["ip"] = self.ip
        if self.hostname:
            out["hostname"] = self.hostname
        if self.ip_mode is not None and self.ip:
            out["ipMode"] = self.ip_mode.value
        if self.ports:
            out["ports"] = [
                {"port": p.port, "protocol": p.protocol.value, **({"error": p.error} if p.error else {})}
                for p in self.ports
            ]
        return out


@dataclass(frozen=True)
class LoadBalancerStatus:
    """What the cloud has for one load balancer."""

    ref: LBRef
    provider_id: str
    ingress: tuple[IngressPoint, ...] = ()
    backends_total: int = 0
    backends_healthy: int | None = None
    listeners: tuple[str, ...] = ()

    def to_kube(self) -> dict[str, object]:
        """The value for `status.loadBalancer`."""
        return {"ingress": [p.to_kube() for p in self.ingress]} if self.ingress else {}


def _check_port(what: str, port: int) -> None:
    if not 1 <= port <= 65535:
        raise ValueError(f"{what} must be in 1..65535, got {port}")
