"""Ingress specs for the ALB tests, built the way `cloud_lb.translate.ingress` builds them.

`cafe(...)` is the running example: two hosts x two paths (Prefix and Exact) over two
backend Services, HTTP on 80 and, with a certificate, HTTPS on 443 (rules already in
the translation's order: per host, Exact before Prefix, longest first).
"""

from __future__ import annotations

import uuid
from typing import Any

from cloud_lb.model import (
    Backend,
    HealthCheck,
    HealthCheckProtocol,
    L7Backend,
    L7Rule,
    LBRef,
    Listener,
    LoadBalancerSpec,
    ObjectKind,
    PathType,
    Protocol,
    TLSCert,
)
from cloud_lb.testing.certs import self_signed
from cloud_lb.translate.ingress_paths import order_rules

NODE_CHECK = HealthCheck(HealthCheckProtocol.HTTP, 10256, "/healthz")
HOSTS = ("cafe.example.com", "tea.example.com")


def backend(service: str, node_port: int, *, path: str = "/") -> L7Backend:
    return L7Backend(
        service=f"default/{service}",
        port=80,
        node_port=node_port,
        health_check=HealthCheck(HealthCheckProtocol.HTTP, node_port, path),
    )


COFFEE = backend("coffee", 30101)
TEA = backend("tea", 30102, path="/healthz")


def ingress_ref(cluster: str, name: str = "cafe") -> LBRef:
    return LBRef(cluster, ObjectKind.INGRESS, "default", name, str(uuid.uuid4()))


def cert(name: str = "cafe-tls", hosts: tuple[str, ...] = HOSTS) -> TLSCert:
    cert_pem, key_pem = self_signed(list(hosts or ("default.example.com",)))
    return TLSCert(name=name, hosts=hosts, cert_pem=cert_pem, key_pem=key_pem)


def cafe_rules() -> tuple[L7Rule, ...]:
    a, b = HOSTS
    return order_rules(
        [
            L7Rule(a, "/coffee", PathType.PREFIX, COFFEE),
            L7Rule(a, "/tea", PathType.EXACT, TEA),
            L7Rule(b, "/green", PathType.PREFIX, TEA),
            L7Rule(b, "/", PathType.PREFIX, COFFEE),
        ]
    )


def cafe(
    ref: LBRef,
    backends: tuple[Backend, ...],
    *,
    tls: tuple[TLSCert, ...] = (),
    rules: tuple[L7Rule, ...] | None = None,
    options: dict[str, str] | None = None,
    **kwargs: Any,
) -> LoadBalancerSpec:
    listeners = [Listener("http", Protocol.HTTP, 80, 0, NODE_CHECK)]
    if tls:
        listeners.append(Listener("https", Protocol.HTTPS, 443, 0, NODE_CHECK))
    return LoadBalancerSpec(
        ref=ref,
        listeners=tuple(listeners),
        backends=backends,
        rules=cafe_rules() if rules is None else rules,
        tls=tls,
        options=tuple(sorted((options or {}).items())),
        **kwargs,
    )
