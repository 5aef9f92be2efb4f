"""Ingress specs for the gcp provider's tests: backends, rules, certificates."""

from __future__ import annotations

import dataclasses
import functools
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
from tests.providers.gcp.conftest import CLUSTER

NODE_CHECK = HealthCheck(HealthCheckProtocol.HTTP, 10256, "/healthz")
HOSTS = ("a.example.com", "b.example.com")


def ingress_ref(name: str = "web", *, cluster: str = CLUSTER) -> LBRef:
    return LBRef(
        cluster=cluster,
        kind=ObjectKind.INGRESS,
        namespace="default",
        name=name,
        uid=str(uuid.uuid4()),
    )


def backend(service: str, node_port: int, *, port: int = 80, path: str = "/") -> L7Backend:
    check = HealthCheck(HealthCheckProtocol.HTTP, node_port, path, 5, 3, 2, 3)
    return L7Backend(
        service=f"default/{service}", port=port, node_port=node_port, health_check=check
    )


@functools.cache
def certificate(*hosts: str) -> TLSCert:
    """A real self-signed certificate (cached: generating keys is slow)."""
    cert, key = self_signed(list(hosts))
    return TLSCert(name="tls-" + hosts[0].split(".")[0], hosts=hosts, cert_pem=cert, key_pem=key)


def fresh_certificate(*hosts: str) -> TLSCert:
    cert, key = self_signed(list(hosts))
    return TLSCert(name="tls-" + hosts[0].split(".")[0], hosts=hosts, cert_pem=cert, key_pem=key)


def rule(host: str, path: str, target: L7Backend, kind: PathType = PathType.PREFIX) -> L7Rule:
    return L7Rule(host=host, path=path, path_type=kind, backend=target)


def two_by_two() -> tuple[L7Rule, ...]:
    """2 hosts x 2 paths, each to its own backend Service (in translate's order)."""
    out = []
    for h, host in enumerate(HOSTS):
        out.append(rule(host, "/api", backend(f"api-{h}", 30100 + h)))
        out.append(rule(host, "/", backend(f"web-{h}", 30200 + h)))
    return tuple(out)


def ingress_spec(
    lb_ref: LBRef,
    nodes: list[Backend] | tuple[Backend, ...],
    *,
    rules: tuple[L7Rule, ...] | None = None,
    tls: tuple[TLSCert, ...] = (),
    default: L7Backend | None = None,
    redirect: bool = False,
    options: dict[str, str] | None = None,
    **kwargs: Any,
) -> LoadBalancerSpec:
    listeners = [Listener("http", Protocol.HTTP, 80, 0, NODE_CHECK)]
    if tls:
        listeners.append(Listener("https", Protocol.HTTPS, 443, 0, NODE_CHECK))
    return LoadBalancerSpec(
        ref=lb_ref,
        listeners=tuple(listeners),
        backends=tuple(nodes),
        rules=two_by_two() if rules is None else rules,
        default_backend=default,
        tls=tls,
        https_redirect=redirect,
        options=tuple(sorted((options or {}).items())),
        **kwargs,
    )


def replace(spec: LoadBalancerSpec, **changes: Any) -> LoadBalancerSpec:
    return dataclasses.replace(spec, **changes)
