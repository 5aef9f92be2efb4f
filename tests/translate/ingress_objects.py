"""Builders of raw Ingress, Service, Secret and IngressClass dicts for translation tests."""

from __future__ import annotations

import base64
from typing import Any

from cloud_lb.provider import Capabilities
from cloud_lb.translate.ingress import IngressTranslation, ingress_to_spec
from cloud_lb.translate.ingress_class import IngressSettings
from cloud_lb.translate.settings import TranslateSettings

from .conftest import make_node

S = TranslateSettings(cluster_name="test")
IS = IngressSettings()
L7 = Capabilities(l7=True, internal=True)
NODES = [make_node("node-a", "10.0.0.1"), make_node("node-b", "10.0.0.2")]


def svc(name: str, *, type_: str = "NodePort", ports: list[dict[str, Any]] | None = None,
        annotations: dict[str, str] | None = None, **spec: Any) -> dict[str, Any]:
    return {"metadata": {"name": name, "namespace": "default", "uid": f"uid-{name}",
                         "annotations": annotations or {}},
            "spec": {"type": type_, "ports": ports if ports is not None else [
                {"name": "http", "port": 80, "protocol": "TCP", "nodePort": 30000 + len(name)}],
                **spec}}


def backend(service: str, port: int | str = 80) -> dict[str, Any]:
    ref = {"number": port} if isinstance(port, int) else {"name": port}
    return {"service": {"name": service, "port": ref}}


def path(p: str | None, kind: str | None, service: str, port: int | str = 80) -> dict[str, Any]:
    out: dict[str, Any] = {"backend": backend(service, port)}
    if p is not None:
        out["path"] = p
    if kind is not None:
        out["pathType"] = kind
    return out


def ingress(rules: list[dict[str, Any]] | None = None, *, tls: list[dict[str, Any]] | None = None,
            default: str | None = None, annotations: dict[str, str] | None = None,
            class_name: str | None = "cloud-lb") -> dict[str, Any]:
    spec: dict[str, Any] = {"rules": rules or []}
    if class_name:
        spec["ingressClassName"] = class_name
    if tls is not None:
        spec["tls"] = tls
    if default:
        spec["defaultBackend"] = backend(default)
    return {"metadata": {"name": "web", "namespace": "default", "uid": "uid-ing",
                         "annotations": annotations or {}}, "spec": spec}


def rule(host: str | None, *paths: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"http": {"paths": list(paths)}}
    if host is not None:
        out["host"] = host
    return out


def pem_secret(name: str, cert: str, key: str, type_: str = "kubernetes.io/tls") -> dict[str, Any]:
    return {"metadata": {"name": name, "namespace": "default"}, "type": type_,
            "data": {"tls.crt": base64.b64encode(cert.encode()).decode(),
                     "tls.key": base64.b64encode(key.encode()).decode()}}


def translate(ing: dict[str, Any], services: list[dict[str, Any]],
              secrets: list[dict[str, Any]] = (), **kw: Any) -> IngressTranslation:  # type: ignore[assignment]
    return ingress_to_spec(
        ing, NODES, services={f"default/{s['metadata']['name']}": s for s in services},
        secrets={f"default/{s['metadata']['name']}": s for s in secrets},
        settings=kw.pop("settings", S), ingress_settings=kw.pop("ingress_settings", IS),
        capabilities=kw.pop("capabilities", L7), **kw)
