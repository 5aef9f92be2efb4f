"""The Ingress annotations the gcp provider reads, with ingress-gce's names.

    kubernetes.io/ingress.global-static-ip-name: <name>   serve on this reserved global
                                                          address (never released by us)
    kubernetes.io/ingress.allow-http: "false"             no HTTP front end (HTTPS only)

Refused with an `InvalidSpecError` naming the annotation (before any cloud call), rather
than silently ignored: ingress-gce annotations for what this provider does not build
(regional/internal Application Load Balancers, pre-shared or Google-managed
certificates, FrontendConfig/BackendConfig CRDs).
"""

from __future__ import annotations

from dataclasses import dataclass

from cloud_lb.model import LoadBalancerSpec
from cloud_lb.provider import InvalidSpecError

STATIC_IP_NAME = "kubernetes.io/ingress.global-static-ip-name"
ALLOW_HTTP = "kubernetes.io/ingress.allow-http"
UNSUPPORTED = {
    "kubernetes.io/ingress.regional-static-ip-name": "regional (internal) Application Load "
    "Balancers are not built by cloud-lb's gcp provider",
    "ingress.gcp.kubernetes.io/pre-shared-cert": "certificates come from the Ingress's "
    "spec.tls Secrets",
    "networking.gke.io/managed-certificates": "certificates come from the Ingress's "
    "spec.tls Secrets",
    "networking.gke.io/v1beta1.FrontendConfig": "FrontendConfig is a GKE resource; use "
    "cloud-lb.io/ssl-redirect for the HTTPS redirect",
}


@dataclass(frozen=True)
class IngressOptions:
    static_ip_name: str | None
    allow_http: bool


def _field(key: str) -> str:
    return f"metadata.annotations[{key}]"


def parse(spec: LoadBalancerSpec) -> IngressOptions:
    for key, why in UNSUPPORTED.items():
        if spec.option(key) is not None:
            raise InvalidSpecError(f"{key} is not supported: {why}", field=_field(key))
    name = spec.option(STATIC_IP_NAME)
    if name is not None:
        name = name.strip()
        if not name:
            raise InvalidSpecError(f"{STATIC_IP_NAME} is empty", field=_field(STATIC_IP_NAME))
    raw = spec.option(ALLOW_HTTP)
    allow_http = True
    if raw is not None:
        lowered = raw.strip().lower()
        if lowered not in ("true", "false"):
            raise InvalidSpecError(
                f'{ALLOW_HTTP} must be "true" or "false", got {raw!r}', field=_field(ALLOW_HTTP)
            )
        allow_http = lowered == "true"
    return IngressOptions(static_ip_name=name, allow_http=allow_http)
