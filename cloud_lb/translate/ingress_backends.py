"""An Ingress backend (`service.name` + `service.port.number|name`) → `L7Backend`.

The load balancer sends L7 traffic to every node at the backend Service's node port, so
the Service must have one: a ClusterIP-only Service is a user error the Ingress author
must fix (make it NodePort or LoadBalancer) and fails the whole Ingress. A Service or
port that does not exist is different: it may be on its way or just deleted, so only the
rules that use it are dropped (`MissingBackend`), the rest of the Ingress is served.

Health check per backend Service: `externalTrafficPolicy: Local` with a
`healthCheckNodePort` checks `http://<node>:<healthCheckNodePort>/healthz` (only nodes
with a local endpoint get traffic); otherwise an HTTP GET on the node port itself, at
the path of the `cloud-lb.io/health-check-path` annotation (on the Service, else on the
Ingress), default `/`. Timings: the cluster's, overridden by the Service's
`cloud-lb.io/health-check-*` annotations.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from cloud_lb.model import HealthCheck, HealthCheckProtocol, L7Backend
from cloud_lb.translate import annotations as ann
from cloud_lb.translate.errors import TranslationError
from cloud_lb.translate.fields import annotations_of, mapping, port_number, string
from cloud_lb.translate.settings import TranslateSettings

HEALTH_CHECK_PATH = "cloud-lb.io/health-check-path"

Obj = Mapping[str, Any]


class MissingBackend(Exception):
    """The Service or its port is not there: the rules using it are skipped."""

    def __init__(self, message: str, *, field: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def _health_path(value: str | None, field: str) -> str | None:
    if value is None:
        return None
    if not value.startswith("/") or any(c.isspace() for c in value):
        raise TranslationError(f"must be a URL path starting with '/', got {value!r}",
                               field=field)
    return value


def resolve_backend(backend: Obj, field: str, *, namespace: str,
                    services: Mapping[str, Obj], ingress_annotations: Mapping[str, str],
                    settings: TranslateSettings) -> L7Backend:
    """The `L7Backend` of one `backend:` block at `field`. Raises `TranslationError`
    for bad input, `MissingBackend` when the Service or port is absent."""
    if backend.get("resource") is not None:
        raise TranslationError(
            "a resource backend is not supported by cloud-lb; use a Service backend",
            field=f"{field}.resource")
    service_ref = mapping(backend.get("service"), f"{field}.service")
    name = string(service_ref.get("name"), f"{field}.service.name")
    if name is None:
        raise TranslationError("must name a Service", field=f"{field}.service.name")
    port_ref = mapping(service_ref.get("port"), f"{field}.service.port")
    number = port_number(port_ref.get("number"), f"{field}.service.port.number", optional=True)
    port_name = string(port_ref.get("name"), f"{field}.service.port.name")
    if number is None and port_name is None:
        raise TranslationError("must set a port number or name", field=f"{field}.service.port")
    key = f"{namespace}/{name}"
    wanted = str(number) if number is not None else repr(port_name)
    service = services.get(key)
    if service is None:
        raise MissingBackend(f"Service {key} does not exist", field=f"{field}.service.name")
    spec = mapping(service.get("spec"), f"Service {key} spec")
    entry = next((p for p in spec.get("ports") or [] if isinstance(p, Mapping) and (
        p.get("port") == number if number is not None else p.get("name") == port_name)), None)
    if entry is None:
        raise MissingBackend(f"Service {key} has no port {wanted}", field=f"{field}.service.port")
    if (entry.get("protocol") or "TCP") != "TCP":
        raise TranslationError(
            f"Service {key} port {wanted} is {entry.get('protocol')}; HTTP needs a TCP port",
            field=f"{field}.service.port")
    service_type = spec.get("type") or "ClusterIP"
    if service_type not in ("NodePort", "LoadBalancer"):
        raise TranslationError(
            f"Service {key} is of type {service_type}: an Ingress load balancer sends traffic "
            "to node ports, so make the Service type NodePort (or LoadBalancer)",
            field=f"{field}.service.name")
    node_port = port_number(entry.get("nodePort"), f"Service {key} nodePort", optional=True)
    if node_port is None:
        raise TranslationError(
            f"Service {key} port {wanted} has no nodePort (allocateLoadBalancerNodePorts is "
            "false?); an Ingress load balancer needs node ports",
            field=f"{field}.service.port")
    port = port_number(entry.get("port"), f"Service {key} port")
    assert port is not None
    return L7Backend(service=key, port=port, node_port=node_port,
                     health_check=_health_check(service, key, node_port, field,
                                                ingress_annotations, settings))


def _health_check(service: Obj, key: str, node_port: int, field: str,
                  ingress_annotations: Mapping[str, str],
                  settings: TranslateSettings) -> HealthCheck:
    try:
        annotations = annotations_of(service)
        t = ann.health_check_timings(annotations, settings)
        path = (_health_path(annotations.get(HEALTH_CHECK_PATH),
                             f"metadata.annotations[{HEALTH_CHECK_PATH}]")
                or _health_path(ingress_annotations.get(HEALTH_CHECK_PATH),
                                f"metadata.annotations[{HEALTH_CHECK_PATH}]") or "/")
    except TranslationError as exc:
        raise TranslationError(f"backend Service {key} {exc.field}: {exc.message}",
                               field=f"{field}.service.name") from None
    timings = dict(interval_seconds=t.interval, timeout_seconds=t.timeout,
                   healthy_threshold=t.healthy_threshold,
                   unhealthy_threshold=t.unhealthy_threshold)
    spec = mapping(service.get("spec"), f"Service {key} spec")
    hc_port = spec.get("healthCheckNodePort")
    if spec.get("externalTrafficPolicy") == "Local" and isinstance(hc_port, int) and hc_port > 0:
        return HealthCheck(HealthCheckProtocol.HTTP, hc_port, "/healthz", **timings)
    return HealthCheck(HealthCheckProtocol.HTTP, node_port, path, **timings)
