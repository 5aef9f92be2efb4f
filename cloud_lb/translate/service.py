"""Service (+ Nodes, + EndpointSlices, + settings) → `LoadBalancerSpec`. Pure.

The rules of each Service field live in their own module (ports, networks,
annotations, endpoints); this one assembles them in the order a user would fix them:
identity, ports and protocols, families, targets and health checks, allow-list, static
address, internal. Every rejection is a `TranslationError` naming the field.

Targets: by default every listener forwards to every eligible node at its node port.
When some port has no node port (only allowed with `allocateLoadBalancerNodePorts:
false`), the provider must target pods (`Capabilities.pod_targets`): then every
listener has `node_port == 0`, `backends` is empty and `pod_targets` come from the
EndpointSlices, health-checked by TCP on the pod port.

Health checks (node targets): `externalTrafficPolicy: Local` checks
`http://<node>:<healthCheckNodePort>/healthz`, so only nodes with a local endpoint get
traffic; `Cluster` checks kube-proxy (`:10256/healthz`) or, with
`cluster_health_check="tcp-node-port"`, TCP on the listener's node port (providers map a
TCP check on a UDP listener to their UDP check).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from cloud_lb.model import (
    HealthCheck,
    HealthCheckProtocol,
    IPFamily,
    LBRef,
    Listener,
    LoadBalancerSpec,
    ObjectKind,
    PodTarget,
    TrafficPolicy,
)
from cloud_lb.provider import Capabilities
from cloud_lb.translate import annotations as ann
from cloud_lb.translate import networks
from cloud_lb.translate.endpoints import pod_targets
from cloud_lb.translate.errors import TranslationError
from cloud_lb.translate.fields import annotations_of, mapping, port_number, string, who
from cloud_lb.translate.nodes import eligible_backends
from cloud_lb.translate.ports import ServicePort, check_protocols, parse_ports
from cloud_lb.translate.predicates import LOAD_BALANCER, is_ours_by_class
from cloud_lb.translate.settings import TranslateSettings

_POLICIES = {"Cluster": TrafficPolicy.CLUSTER, "Local": TrafficPolicy.LOCAL}


def service_ref(service: Mapping[str, Any], settings: TranslateSettings) -> LBRef:
    """The `LBRef` of a Service: cluster, namespace, name and uid (all required)."""
    meta = mapping(service.get("metadata"), "metadata", required=True)
    values = {}
    for key in ("namespace", "name", "uid"):
        value = string(meta.get(key), f"metadata.{key}")
        if not value:
            raise TranslationError("must be set", field=f"metadata.{key}")
        values[key] = value
    return LBRef(cluster=settings.cluster_name, kind=ObjectKind.SERVICE, **values)


def _traffic_policy(spec: Mapping[str, Any]) -> TrafficPolicy:
    value = string(spec.get("externalTrafficPolicy"), "spec.externalTrafficPolicy") or "Cluster"
    if value not in _POLICIES:
        raise TranslationError(f"{value!r} is not Cluster or Local", field="spec.externalTrafficPolicy")
    return _POLICIES[value]


def _uses_node_ports(spec: Mapping[str, Any], ports: list[ServicePort],
                     capabilities: Capabilities, provider_name: str | None) -> bool:
    allocate = spec.get("allocateLoadBalancerNodePorts")
    if allocate is None:
        allocate = True
    if not isinstance(allocate, bool):
        raise TranslationError(f"must be true or false, got {allocate!r}",
                               field="spec.allocateLoadBalancerNodePorts")
    missing = [p for p in ports if p.node_port is None]
    if not missing:
        return True
    if allocate:
        raise TranslationError(
            "has no nodePort; a load balancer sends traffic to node ports, which the API "
            "server allocates unless spec.allocateLoadBalancerNodePorts is false: "
            "set a nodePort or re-create the Service",
            field=f"{missing[0].field}.nodePort",
        )
    if not capabilities.pod_targets:
        raise TranslationError(
            f"is false and {missing[0].field} has no nodePort, but {who(provider_name)} "
            "cannot send traffic to pod IPs (capability 'pod_targets' is missing) and "
            "needs node ports; set allocateLoadBalancerNodePorts: true",
            field="spec.allocateLoadBalancerNodePorts",
        )
    return False


def _node_health_check(spec: Mapping[str, Any], policy: TrafficPolicy, port: ServicePort,
                       settings: TranslateSettings, t: ann.HealthCheckTimings) -> HealthCheck:
    timings = dict(interval_seconds=t.interval, timeout_seconds=t.timeout,
                   healthy_threshold=t.healthy_threshold, unhealthy_threshold=t.unhealthy_threshold)
    if policy is TrafficPolicy.LOCAL:
        hc_port = port_number(spec.get("healthCheckNodePort"), "spec.healthCheckNodePort",
                              optional=True)
        if hc_port is None:
            raise TranslationError(
                "is missing but externalTrafficPolicy is Local; the API server allocates it, "
                "so re-create the Service or set externalTrafficPolicy: Cluster",
                field="spec.healthCheckNodePort",
            )
        return HealthCheck(HealthCheckProtocol.HTTP, hc_port, "/healthz", **timings)
    if settings.cluster_health_check == "tcp-node-port":
        assert port.node_port is not None
        return HealthCheck(HealthCheckProtocol.TCP, port.node_port, **timings)
    return HealthCheck(HealthCheckProtocol.HTTP, settings.kube_proxy_health_port, "/healthz",
                       **timings)


def _pod_health_check(port: ServicePort, targets: tuple[PodTarget, ...],
                      t: ann.HealthCheckTimings) -> HealthCheck:
    # pods listen on targetPort; a named targetPort resolves per slice, so take the
    # first resolved one, and the Service port when there are no endpoints yet
    if isinstance(port.target_port, int) and 1 <= port.target_port <= 65535:
        hc_port = port.target_port
    else:
        hc_port = next((x.port for x in targets if x.listener == port.name), port.port)
    return HealthCheck(HealthCheckProtocol.TCP, hc_port, interval_seconds=t.interval,
                       timeout_seconds=t.timeout, healthy_threshold=t.healthy_threshold,
                       unhealthy_threshold=t.unhealthy_threshold)


def service_to_spec(
    service: Mapping[str, Any],
    nodes: Iterable[Mapping[str, Any]],
    *,
    settings: TranslateSettings,
    capabilities: Capabilities,
    endpoint_slices: Iterable[Mapping[str, Any]] = (),
    provider_name: str | None = None,
) -> LoadBalancerSpec:
    """The load balancer a Service asks for. Raises `TranslationError` for bad input.

    `nodes` are all Node objects (filtered here by `eligible_backends`);
    `endpoint_slices` are only read for Services without node ports; `provider_name`
    only makes messages name the provider.
    """
    ref = service_ref(service, settings)
    spec = mapping(service.get("spec"), "spec", required=True)
    if spec.get("type") != LOAD_BALANCER:
        raise TranslationError(f"is {spec.get('type')!r}, not LoadBalancer", field="spec.type")
    if not is_ours_by_class(service, settings):
        raise TranslationError(
            "names a load balancer class this controller does not serve "
            f"(ours: {settings.load_balancer_class or 'none'})",
            field="spec.loadBalancerClass",
        )
    annotations = annotations_of(service)

    ports = parse_ports(spec)
    check_protocols(ports, capabilities, provider_name)
    families = networks.ip_families(spec, capabilities, provider_name)
    policy = _traffic_policy(spec)
    timings = ann.health_check_timings(annotations, settings)

    if _uses_node_ports(spec, ports, capabilities, provider_name):
        listeners = tuple(
            Listener(p.name, p.protocol, p.port, p.node_port or 0,
                     _node_health_check(spec, policy, p, settings, timings))
            for p in ports
        )
        backends = eligible_backends(nodes, settings)
        targets: tuple[PodTarget, ...] = ()
    else:
        targets = pod_targets(namespace=ref.namespace, name=ref.name, ports=ports,
                              slices=endpoint_slices, families=families)
        listeners = tuple(
            Listener(p.name, p.protocol, p.port, 0, _pod_health_check(p, targets, timings))
            for p in ports
        )
        backends = ()

    ranges = networks.source_ranges(spec, annotations)
    # ranges that open every served family to everyone need no cloud support
    everyone = {IPFamily.IPV4: "0.0.0.0/0", IPFamily.IPV6: "::/0"}
    open_to_all = all(everyone[f] in ranges for f in families)
    if ranges and not open_to_all and not capabilities.source_ranges:
        field = ("spec.loadBalancerSourceRanges" if spec.get("loadBalancerSourceRanges")
                 else f"metadata.annotations[{networks.SOURCE_RANGES_ANNOTATION}]")
        # refusing is safer than exposing a Service the user meant to restrict
        raise TranslationError(
            f"restricting source ranges is not supported by {who(provider_name)} "
            "(capability 'source_ranges' is missing); remove the ranges and restrict "
            "access elsewhere (network policy, firewall)",
            field=field,
        )
    address = networks.static_ip(spec, annotations, families, capabilities, provider_name)
    internal = ann.internal(annotations, capabilities, provider_name)

    return LoadBalancerSpec(
        ref=ref,
        listeners=listeners,
        backends=backends,
        pod_targets=targets,
        source_ranges=ranges,
        ip_families=families,
        internal=internal,
        static_ip=address,
        traffic_policy=policy,
        options=ann.options(annotations),
    )
