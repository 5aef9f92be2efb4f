"""Ingress specs the way `cloud_lb.translate.ingress` builds them (rules already ordered,
HTTP listener always, HTTPS with certificates), and real self-signed certificates."""

from __future__ import annotations

import datetime
import functools
import uuid
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

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
from cloud_lb.translate.ingress_paths import order_rules

NODE_CHECK = HealthCheck(HealthCheckProtocol.HTTP, 10256, "/healthz")


@functools.cache
def certificate(hosts: tuple[str, ...], serial: int = 0, *,
                chain: bool = False) -> tuple[str, str]:
    """(cert PEM, key PEM) of a self-signed EC certificate for `hosts`; `serial` makes
    another one for the same hosts (a rotation); `chain` appends a CA certificate."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, hosts[0] if hosts else "x")])
    now = datetime.datetime.now(datetime.UTC)
    builder = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
               .public_key(key.public_key()).serial_number(1000 + serial)
               .not_valid_before(now).not_valid_after(now + datetime.timedelta(days=2)))
    if hosts:
        builder = builder.add_extension(
            x509.SubjectAlternativeName([x509.DNSName(h) for h in hosts]), critical=False)
    pem = builder.sign(key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM).decode()
    if chain:
        pem += certificate(("ca.example",), serial + 7)[0]
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode()
    return pem, key_pem


def tls(name: str, hosts: tuple[str, ...], serial: int = 0, *, chain: bool = False) -> TLSCert:
    cert, key = certificate(hosts, serial, chain=chain)
    return TLSCert(name=name, hosts=hosts, cert_pem=cert, key_pem=key)


def backend(service: str, node_port: int, *, check_port: int | None = None) -> L7Backend:
    return L7Backend(service=f"shop/{service}", port=80, node_port=node_port,
                     health_check=HealthCheck(HealthCheckProtocol.HTTP,
                                              check_port or node_port, "/"))


WEB = backend("web", 30080)
API = backend("api", 30081)


def rule(host: str, path: str, to: L7Backend, kind: PathType = PathType.PREFIX) -> L7Rule:
    return L7Rule(host=host, path=path, path_type=kind, backend=to)


def two_by_two() -> tuple[L7Rule, ...]:
    """2 hosts x 2 paths: the scenario of the issue's call counts."""
    return (rule("a.example.com", "/api", API), rule("a.example.com", "/", WEB),
            rule("b.example.com", "/login", API, PathType.EXACT),
            rule("b.example.com", "/", WEB))


def nodes(n: int = 3) -> tuple[Backend, ...]:
    return tuple(Backend(node_name=f"node-{i}", address=f"10.0.5.{10 + i}")
                 for i in range(n))


def ingress(name: str = "shop", *, rules: tuple[L7Rule, ...] | None = None,
            certs: tuple[TLSCert, ...] = (), redirect: bool = False,
            default: L7Backend | None = None, n_nodes: int = 3, uid: str | None = None,
            cluster: str = "prod", options: dict[str, str] | None = None,
            **fields: Any) -> LoadBalancerSpec:
    ref = LBRef(cluster=cluster, kind=ObjectKind.INGRESS, namespace="shop", name=name,
                uid=uid or str(uuid.uuid4()))
    listeners = [Listener("http", Protocol.HTTP, 80, 0, NODE_CHECK)]
    if certs:
        listeners.append(Listener("https", Protocol.HTTPS, 443, 0, NODE_CHECK))
    return LoadBalancerSpec(
        ref=ref, listeners=tuple(listeners), backends=nodes(n_nodes),
        rules=order_rules(list(two_by_two() if rules is None else rules)),
        default_backend=default, tls=certs, https_redirect=redirect,
        options=tuple(sorted((options or {}).items())), **fields)


def shop_tls(serial: int = 0) -> TLSCert:
    return tls("shop-tls", ("a.example.com", "b.example.com"), serial)
