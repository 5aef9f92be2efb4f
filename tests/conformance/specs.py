"""Specs for the conformance suite, built the way the translator builds them.

Listener ports come from the OS (a free port on 127.0.0.1), because the `local`
provider really binds them; node ports are in the Kubernetes range. A UDP listener
joins the TCP one when the provider can mix protocols on one load balancer.
"""

from __future__ import annotations

import dataclasses
import socket
import uuid

from cloud_lb.model import (
    Backend,
    HealthCheck,
    HealthCheckProtocol,
    LBRef,
    Listener,
    LoadBalancerSpec,
    ObjectKind,
    Protocol,
)
from cloud_lb.provider import Capabilities
from cloud_lb.testing.conformance import ConformanceTarget

KUBE_PROXY_CHECK = HealthCheck(protocol=HealthCheckProtocol.HTTP, port=10256, path="/healthz")


def make_ref(cluster: str, name: str = "web", *, namespace: str = "conformance") -> LBRef:
    return LBRef(cluster=cluster, kind=ObjectKind.SERVICE, namespace=namespace, name=name,
                 uid=str(uuid.uuid4()))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def tcp_listener(port: int | None = None, node_port: int = 30080) -> Listener:
    port = port or free_port()
    return Listener(name=f"tcp-{port}", protocol=Protocol.TCP, port=port, node_port=node_port,
                    health_check=KUBE_PROXY_CHECK)


def udp_listener(port: int | None = None, node_port: int = 30053) -> Listener:
    port = port or free_port()
    return Listener(name=f"udp-{port}", protocol=Protocol.UDP, port=port, node_port=node_port,
                    health_check=KUBE_PROXY_CHECK)


def default_listeners(capabilities: Capabilities) -> tuple[Listener, ...]:
    listeners = [tcp_listener()]
    if capabilities.udp and capabilities.mixed_protocols:
        listeners.append(udp_listener())
    return tuple(listeners)


def make_spec(target: ConformanceTarget, ref: LBRef, *, nodes: int = 2,
              listeners: tuple[Listener, ...] | None = None) -> LoadBalancerSpec:
    return LoadBalancerSpec(
        ref=ref,
        listeners=listeners or default_listeners(target.provider.capabilities),
        backends=target.backends(nodes),
    )


def with_backends(spec: LoadBalancerSpec, backends: tuple[Backend, ...]) -> LoadBalancerSpec:
    return dataclasses.replace(spec, backends=backends)


def with_listener(spec: LoadBalancerSpec, listener: Listener) -> LoadBalancerSpec:
    return dataclasses.replace(spec, listeners=(*spec.listeners, listener))
