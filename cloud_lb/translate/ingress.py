"""Ingress (+ Services, Secrets, Nodes, settings) → an L7 `LoadBalancerSpec`. Pure.

The parts live in their own modules: class selection and references
(`ingress_class`), host/path rules and their order (`ingress_paths`), backends
(`ingress_backends`), certificates (`ingress_tls`). This one assembles them:

- listeners: HTTP on `IngressSettings.http_port`, plus HTTPS on `https_port` when at
  least one certificate is usable. L7 listeners have no node port (each rule's backend
  has its own); their health check is the node-level one (kube-proxy's `/healthz`),
  which a provider may use to drop a node whose proxy is down;
- rules: one `L7Rule` per (host, path), in evaluation order; a rule whose Service or
  port is missing is dropped with a warning; two rules for the same host, path and
  type with different backends are an error (which one wins would be an accident);
- default backend: `spec.defaultBackend`, else none (the provider answers 404);
- TLS and `cloud-lb.io/ssl-redirect: "true"` (HTTP answers with a permanent redirect
  to HTTPS; ignored, with a warning, when no certificate is usable).

Errors raise `IngressTranslationError` (a `TranslationError` whose event reason is
`InvalidIngressSpec`); partial problems come back as `warnings`, the rest is served.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from cloud_lb.model import (
    HealthCheck,
    HealthCheckProtocol,
    L7Backend,
    L7Rule,
    LBRef,
    Listener,
    LoadBalancerSpec,
    ObjectKind,
    Protocol,
)
from cloud_lb.provider import Capabilities
from cloud_lb.translate import annotations as ann
from cloud_lb.translate.errors import TranslationError
from cloud_lb.translate.fields import annotation_field, annotations_of, mapping, string, who
from cloud_lb.translate.ingress_backends import MissingBackend, resolve_backend
from cloud_lb.translate.ingress_class import IngressSettings
from cloud_lb.translate.ingress_paths import (
    normalize_host,
    normalize_path,
    order_rules,
    path_type,
)
from cloud_lb.translate.ingress_tls import tls_certs
from cloud_lb.translate.nodes import eligible_backends
from cloud_lb.translate.settings import TranslateSettings

SSL_REDIRECT = "cloud-lb.io/ssl-redirect"
INVALID_REASON = "InvalidIngressSpec"

Obj = Mapping[str, Any]


class IngressTranslationError(TranslationError):
    reason = INVALID_REASON

    def __reduce__(self) -> tuple[object, ...]:
        return (_rebuild, (self.message, self.field))


def _rebuild(message: str, field: str) -> IngressTranslationError:
    return IngressTranslationError(message, field=field)


@dataclass(frozen=True)
class IngressWarning:
    """Part of the Ingress cannot be served; the rest is."""

    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.field}: {self.message}"


@dataclass(frozen=True)
class IngressTranslation:
    spec: LoadBalancerSpec
    warnings: tuple[IngressWarning, ...] = ()


def ingress_ref(ingress: Obj, settings: TranslateSettings) -> LBRef:
    meta = mapping(ingress.get("metadata"), "metadata", required=True)
    values = {}
    for key in ("namespace", "name", "uid"):
        value = string(meta.get(key), f"metadata.{key}")
        if not value:
            raise IngressTranslationError("must be set", field=f"metadata.{key}")
        values[key] = value
    return LBRef(cluster=settings.cluster_name, kind=ObjectKind.INGRESS, **values)


def _redirect(annotations: Mapping[str, str]) -> bool:
    value = annotations.get(SSL_REDIRECT)
    if value is None:
        return False
    if value.strip().lower() not in ("true", "false"):
        raise IngressTranslationError(f"must be \"true\" or \"false\", got {value!r}",
                                      field=annotation_field(SSL_REDIRECT))
    return value.strip().lower() == "true"


def ingress_to_spec(
    ingress: Obj,
    nodes: Iterable[Obj],
    *,
    services: Mapping[str, Obj],
    secrets: Mapping[str, Obj],
    settings: TranslateSettings,
    ingress_settings: IngressSettings,
    capabilities: Capabilities,
    provider_name: str | None = None,
) -> IngressTranslation:
    """The load balancer an Ingress asks for. `services` and `secrets` map
    `namespace/name` to the objects (at least those the Ingress refers to)."""
    try:
        return _translate(ingress, nodes, services=services, secrets=secrets,
                          settings=settings, ingress_settings=ingress_settings,
                          capabilities=capabilities, provider_name=provider_name)
    except IngressTranslationError:
        raise
    except TranslationError as exc:  # from a shared helper: same message, Ingress reason
        raise IngressTranslationError(exc.message, field=exc.field) from None


def _translate(ingress: Obj, nodes: Iterable[Obj], *, services: Mapping[str, Obj],
               secrets: Mapping[str, Obj], settings: TranslateSettings,
               ingress_settings: IngressSettings, capabilities: Capabilities,
               provider_name: str | None) -> IngressTranslation:
    ref = ingress_ref(ingress, settings)
    if not capabilities.l7:
        raise IngressTranslationError(
            f"an Ingress load balancer is not supported by {who(provider_name)} "
            "(capability 'l7' is missing); use another IngressClass", field="spec")
    spec = mapping(ingress.get("spec"), "spec", required=True)
    annotations = annotations_of(ingress)
    warnings: list[IngressWarning] = []

    def backend_of(raw: Any, field: str) -> L7Backend | None:
        try:
            return resolve_backend(mapping(raw, field, required=True), field,
                                   namespace=ref.namespace, services=services,
                                   ingress_annotations=annotations, settings=settings)
        except MissingBackend as exc:
            warnings.append(IngressWarning(exc.field, f"{exc.message}; its rules are not "
                                                      "served until it exists"))
            return None

    default = None
    if spec.get("defaultBackend") is not None:
        default = backend_of(spec.get("defaultBackend"), "spec.defaultBackend")

    rules: list[L7Rule] = []
    seen: dict[tuple[str, str, str], tuple[str, L7Backend | None]] = {}
    raw_rules = spec.get("rules")
    for i, raw_rule in enumerate(raw_rules if isinstance(raw_rules, list) else []):
        rule = mapping(raw_rule, f"spec.rules[{i}]", required=True)
        host = normalize_host(string(rule.get("host"), f"spec.rules[{i}].host"))
        http = mapping(rule.get("http"), f"spec.rules[{i}].http")
        paths = http.get("paths")
        for j, raw_path in enumerate(paths if isinstance(paths, list) else []):
            field = f"spec.rules[{i}].http.paths[{j}]"
            entry = mapping(raw_path, field, required=True)
            kind = path_type(entry.get("pathType"), f"{field}.pathType")
            path = normalize_path(entry.get("path"), kind, f"{field}.path")
            backend = backend_of(entry.get("backend"), f"{field}.backend")
            key = (host, path, kind.value)
            if key in seen:
                first_field, first_backend = seen[key]
                if first_backend != backend:
                    raise IngressTranslationError(
                        f"host {host or '*'!r} path {path!r} ({kind.value}) is already routed "
                        f"by {first_field} to another backend; remove one of the two",
                        field=f"{field}.path")
                continue
            seen[key] = (field, backend)
            if backend is not None:
                rules.append(L7Rule(host=host, path=path, path_type=kind, backend=backend))

    certs, problems = tls_certs(spec, namespace=ref.namespace, secrets=secrets)
    warnings += [IngressWarning(p.field, p.message) for p in problems]
    redirect = _redirect(annotations)
    if redirect and not certs:
        warnings.append(IngressWarning(annotation_field(SSL_REDIRECT),
                                       "asks for HTTPS but no certificate is usable; "
                                       "HTTP is served without redirect"))
        redirect = False

    timings = ann.health_check_timings(annotations, settings)
    node_check = HealthCheck(HealthCheckProtocol.HTTP, settings.kube_proxy_health_port,
                             "/healthz", interval_seconds=timings.interval,
                             timeout_seconds=timings.timeout,
                             healthy_threshold=timings.healthy_threshold,
                             unhealthy_threshold=timings.unhealthy_threshold)
    listeners = [Listener("http", Protocol.HTTP, ingress_settings.http_port, 0, node_check)]
    if certs:
        listeners.append(Listener("https", Protocol.HTTPS, ingress_settings.https_port, 0,
                                  node_check))
    lb = LoadBalancerSpec(
        ref=ref,
        listeners=tuple(listeners),
        backends=eligible_backends(nodes, settings),
        internal=ann.internal(annotations, capabilities, provider_name),
        options=ann.options(annotations),
        rules=order_rules(rules),
        default_backend=default,
        tls=certs,
        https_redirect=redirect,
    )
    return IngressTranslation(lb, tuple(warnings))
