"""Service → LoadBalancerSpec, field by field of the DESIGN table."""

from __future__ import annotations

import pickle
from typing import Any

import pytest

from cloud_lb.model import HealthCheckProtocol, IPFamily, PodTarget, Protocol, TrafficPolicy
from cloud_lb.provider import Capabilities
from cloud_lb.translate.errors import TranslationError
from cloud_lb.translate.service import service_to_spec
from cloud_lb.translate.settings import TranslateSettings

from .conftest import ALL_CAPS, make_node, make_service

S = TranslateSettings(cluster_name="test")
NODES = [make_node("node-b", "10.0.0.2"), make_node("node-a", "10.0.0.1")]


def translate(svc: dict[str, Any], caps: Capabilities = ALL_CAPS, settings: TranslateSettings = S,
              **kw: Any):
    return service_to_spec(svc, NODES, settings=settings, capabilities=caps, **kw)


def error(svc: dict[str, Any], caps: Capabilities = ALL_CAPS, settings: TranslateSettings = S,
          **kw: Any) -> TranslationError:
    with pytest.raises(TranslationError) as info:
        translate(svc, caps, settings, **kw)
    return info.value


def test_a_plain_service_becomes_one_listener_per_port_to_every_ready_node() -> None:
    spec = translate(make_service(uid="u-42"))
    assert (spec.ref.cluster, spec.ref.namespace, spec.ref.name, spec.ref.uid) == (
        "test", "default", "web", "u-42")
    [listener] = spec.listeners
    assert (listener.name, listener.protocol, listener.port, listener.node_port) == (
        "http", Protocol.TCP, 80, 30080)
    assert listener.health_check.protocol is HealthCheckProtocol.HTTP
    assert (listener.health_check.port, listener.health_check.path) == (10256, "/healthz")
    assert [b.node_name for b in spec.backends] == ["node-a", "node-b"]
    assert spec.traffic_policy is TrafficPolicy.CLUSTER
    assert spec.source_ranges == () and spec.effective_source_ranges == ("0.0.0.0/0",)
    assert spec.ip_families == (IPFamily.IPV4,)
    assert not spec.internal and spec.static_ip is None


def test_unnamed_ports_are_named_protocol_dash_port_and_keep_their_order() -> None:
    svc = make_service(ports=[{"port": 443, "nodePort": 30443},
                              {"protocol": "UDP", "port": 53, "nodePort": 30053}])
    spec = translate(svc)
    assert [(l.name, l.protocol, l.port, l.node_port) for l in spec.listeners] == [
        ("tcp-443", Protocol.TCP, 443, 30443), ("udp-53", Protocol.UDP, 53, 30053)]


def test_translation_is_deterministic_and_errors_pickle() -> None:
    svc = make_service()
    assert translate(svc) == translate(svc)
    err = error(make_service(ports=[]))
    copy = pickle.loads(pickle.dumps(err))
    assert (copy.field, str(copy)) == (err.field, str(err))


# (sentence, service, capabilities, field named, words in the message)
ERRORS: list[tuple[str, dict[str, Any], Capabilities, str, str]] = [
    ("a Service without ports cannot be load balanced",
     make_service(ports=[]), ALL_CAPS, "spec.ports", "at least one port"),
    ("an unknown protocol is named", make_service(ports=[{"port": 80, "protocol": "QUIC", "nodePort": 30080}]),
     ALL_CAPS, "spec.ports[0].protocol", "TCP, UDP, SCTP"),
    ("a port out of range is named", make_service(ports=[{"port": 70000, "nodePort": 30080}]),
     ALL_CAPS, "spec.ports[0].port", "1..65535"),
    ("a port that is not a number is named", make_service(ports=[{"port": "80", "nodePort": 30080}]),
     ALL_CAPS, "spec.ports[0].port", "port number"),
    ("UDP on a TCP-only provider says which capability is missing",
     make_service(ports=[{"port": 53, "protocol": "UDP", "nodePort": 30053}]), Capabilities(),
     "spec.ports[0].protocol", "'udp'"),
    ("SCTP on a provider without it is refused",
     make_service(ports=[{"port": 99, "protocol": "SCTP", "nodePort": 30099}]),
     Capabilities(udp=True, mixed_protocols=True), "spec.ports[0].protocol", "'sctp'"),
    ("mixed TCP and UDP needs the mixed_protocols capability",
     make_service(ports=[{"name": "a", "port": 53, "nodePort": 30053},
                         {"name": "b", "port": 53, "protocol": "UDP", "nodePort": 30054}]),
     Capabilities(udp=True), "spec.ports", "'mixed_protocols'"),
    ("the same port and protocol twice is refused",
     make_service(ports=[{"name": "a", "port": 80, "nodePort": 30080},
                         {"name": "b", "port": 80, "nodePort": 30081}]),
     ALL_CAPS, "spec.ports[1].port", "spec.ports[0]"),
    ("a port name clashing with a generated name is refused",
     make_service(ports=[{"port": 80, "nodePort": 30080},
                         {"name": "tcp-80", "port": 81, "nodePort": 30081}]),
     ALL_CAPS, "spec.ports[1].name", "distinct name"),
    ("a missing node port is refused while node ports are allocated",
     make_service(ports=[{"port": 80}]), ALL_CAPS, "spec.ports[0].nodePort", "allocateLoadBalancerNodePorts"),
    ("no node ports on a provider without pod targets says it needs node ports",
     make_service(ports=[{"port": 80}], allocateLoadBalancerNodePorts=False),
     Capabilities(), "spec.allocateLoadBalancerNodePorts", "needs node ports"),
    ("Local traffic policy needs a health check node port",
     make_service(externalTrafficPolicy="Local"), ALL_CAPS, "spec.healthCheckNodePort", "Local"),
    ("an unknown traffic policy is named",
     make_service(externalTrafficPolicy="Global"), ALL_CAPS, "spec.externalTrafficPolicy", "Cluster or Local"),
    ("a source range with host bits suggests the network",
     make_service(loadBalancerSourceRanges=["10.0.0.0/8", "192.168.1.7/24"]), ALL_CAPS,
     "spec.loadBalancerSourceRanges[1]", "did you mean 192.168.1.0/24"),
    ("a bare address as source range suggests a /32",
     make_service(loadBalancerSourceRanges=["203.0.113.7"]), ALL_CAPS,
     "spec.loadBalancerSourceRanges[0]", "203.0.113.7/32"),
    ("garbage as source range is named",
     make_service(loadBalancerSourceRanges=["office"]), ALL_CAPS,
     "spec.loadBalancerSourceRanges[0]", "not a CIDR"),
    ("a bad CIDR in the annotation is named",
     make_service(annotations={"service.beta.kubernetes.io/load-balancer-source-ranges": "10.0.0.0/8,10.1.2.3/16"}),
     ALL_CAPS, "metadata.annotations[service.beta.kubernetes.io/load-balancer-source-ranges]", "10.1.0.0/16"),
    ("field and annotation that disagree are both named",
     make_service(loadBalancerSourceRanges=["10.0.0.0/8"],
                  annotations={"service.beta.kubernetes.io/load-balancer-source-ranges": "192.168.0.0/16"}),
     ALL_CAPS, "spec.loadBalancerSourceRanges", "service.beta.kubernetes.io/load-balancer-source-ranges"),
    ("source ranges on a provider that cannot restrict are refused, not ignored",
     make_service(loadBalancerSourceRanges=["10.0.0.0/8"]), Capabilities(),
     "spec.loadBalancerSourceRanges", "'source_ranges'"),
    ("IPv6 single stack on an IPv4-only provider is refused",
     make_service(ipFamilies=["IPv6"]), Capabilities(), "spec.ipFamilies[0]", "'ipv6'"),
    ("RequireDualStack on a single-stack provider is refused",
     make_service(ipFamilies=["IPv4", "IPv6"], ipFamilyPolicy="RequireDualStack"),
     Capabilities(ipv6=True), "spec.ipFamilyPolicy", "'dual_stack'"),
    ("an unknown IP family is named",
     make_service(ipFamilies=["IPv5"]), ALL_CAPS, "spec.ipFamilies[0]", "IPv4 or IPv6"),
    ("a static IPv6 address on an IPv4 Service is refused",
     make_service(loadBalancerIP="2001:db8::10"), ALL_CAPS, "spec.loadBalancerIP", "IPv6"),
    ("a static IP that is a CIDR is refused",
     make_service(loadBalancerIP="203.0.113.0/24"), ALL_CAPS, "spec.loadBalancerIP", "not a CIDR"),
    ("a static IP on a provider without static IPs is refused",
     make_service(loadBalancerIP="203.0.113.10"), Capabilities(), "spec.loadBalancerIP", "'static_ip'"),
    ("loadBalancerIP and the annotation must agree",
     make_service(loadBalancerIP="203.0.113.10", annotations={"cloud-lb.io/load-balancer-ip": "203.0.113.11"}),
     ALL_CAPS, "spec.loadBalancerIP", "cloud-lb.io/load-balancer-ip"),
    ("internal on a provider without internal LBs is refused",
     make_service(annotations={"cloud-lb.io/internal": "true"}), Capabilities(),
     "metadata.annotations[cloud-lb.io/internal]", "'internal'"),
    ("internal annotations that disagree are both named",
     make_service(annotations={"service.beta.kubernetes.io/openstack-internal-load-balancer": "true",
                               "service.beta.kubernetes.io/aws-load-balancer-scheme": "internet-facing"}),
     ALL_CAPS, "metadata.annotations[service.beta.kubernetes.io/openstack-internal-load-balancer]",
     "aws-load-balancer-scheme"),
    ("a boolean annotation that is not a boolean is named",
     make_service(annotations={"cloud-lb.io/internal": "yes please"}), ALL_CAPS,
     "metadata.annotations[cloud-lb.io/internal]", '"true" or "false"'),
    ("a health check timeout longer than its interval is refused",
     make_service(annotations={"cloud-lb.io/health-check-timeout": "30s"}), ALL_CAPS,
     "metadata.annotations[cloud-lb.io/health-check-timeout]", "at most the interval"),
    ("a non-numeric health check interval is named",
     make_service(annotations={"cloud-lb.io/health-check-interval": "often"}), ALL_CAPS,
     "metadata.annotations[cloud-lb.io/health-check-interval]", "seconds"),
    ("a Service without uid cannot be identified", make_service(uid=""), ALL_CAPS, "metadata.uid", "must be set"),
    ("a ClusterIP Service is not translated", make_service(type="ClusterIP"), ALL_CAPS, "spec.type", "LoadBalancer"),
    ("a Service of another class is not translated", make_service(loadBalancerClass="other.io/x"),
     ALL_CAPS, "spec.loadBalancerClass", "does not serve"),
]


@pytest.mark.parametrize("sentence,svc,caps,field,words", ERRORS, ids=[e[0] for e in ERRORS])
def test_invalid_services_name_the_field(sentence: str, svc: dict, caps: Capabilities,
                                         field: str, words: str) -> None:
    err = error(svc, caps, provider_name="demo")
    assert err.field == field, sentence
    assert words in str(err), f"{sentence}: {err}"
    assert str(err).startswith(field + ": ")


def test_capability_errors_name_the_provider() -> None:
    err = error(make_service(loadBalancerIP="203.0.113.10"), Capabilities(), provider_name="aws")
    assert "the aws provider" in str(err)


def test_source_ranges_are_normalised_deduplicated_and_order_stable() -> None:
    spec = translate(make_service(loadBalancerSourceRanges=[
        " 192.168.0.0/16", "10.0.0.0/8", "2001:DB8::/32", "192.168.0.0/16"]))
    assert spec.source_ranges == ("192.168.0.0/16", "10.0.0.0/8", "2001:db8::/32")


def test_the_annotation_alone_sets_source_ranges_and_ignores_empty_items() -> None:
    svc = make_service(annotations={
        "service.beta.kubernetes.io/load-balancer-source-ranges": "10.0.0.0/8, 172.16.0.0/12,"})
    assert translate(svc).source_ranges == ("10.0.0.0/8", "172.16.0.0/12")


def test_field_and_annotation_that_agree_as_sets_are_accepted_in_field_order() -> None:
    svc = make_service(loadBalancerSourceRanges=["10.0.0.0/8", "172.16.0.0/12"], annotations={
        "service.beta.kubernetes.io/load-balancer-source-ranges": "172.16.0.0/12,10.0.0.0/8"})
    assert translate(svc).source_ranges == ("10.0.0.0/8", "172.16.0.0/12")


def test_open_to_everyone_needs_no_source_range_capability() -> None:
    spec = translate(make_service(loadBalancerSourceRanges=["0.0.0.0/0"]), Capabilities())
    assert spec.source_ranges == ("0.0.0.0/0",)


def test_local_policy_checks_the_health_check_node_port() -> None:
    spec = translate(make_service(externalTrafficPolicy="Local", healthCheckNodePort=32000))
    hc = spec.listeners[0].health_check
    assert spec.traffic_policy is TrafficPolicy.LOCAL
    assert (hc.protocol, hc.port, hc.path) == (HealthCheckProtocol.HTTP, 32000, "/healthz")


def test_cluster_policy_can_check_tcp_on_the_node_port() -> None:
    settings = TranslateSettings(cluster_name="t", cluster_health_check="tcp-node-port")
    svc = make_service(ports=[{"name": "a", "port": 80, "nodePort": 30080},
                              {"name": "b", "port": 443, "nodePort": 30443}])
    checks = [(l.health_check.protocol, l.health_check.port) for l in translate(svc, settings=settings).listeners]
    assert checks == [(HealthCheckProtocol.TCP, 30080), (HealthCheckProtocol.TCP, 30443)]


def test_health_check_timings_come_from_settings_and_annotations() -> None:
    settings = TranslateSettings(cluster_name="t", health_check_interval=10, health_check_timeout=4,
                                 healthy_threshold=3, unhealthy_threshold=5)
    hc = translate(make_service(), settings=settings).listeners[0].health_check
    assert (hc.interval_seconds, hc.timeout_seconds, hc.healthy_threshold, hc.unhealthy_threshold) == (10, 4, 3, 5)
    svc = make_service(annotations={"cloud-lb.io/health-check-interval": "20s",
                                    "cloud-lb.io/health-check-timeout": "7",
                                    "cloud-lb.io/health-check-healthy-threshold": "1",
                                    "cloud-lb.io/health-check-unhealthy-threshold": "9"})
    hc = translate(svc, settings=settings).listeners[0].health_check
    assert (hc.interval_seconds, hc.timeout_seconds, hc.healthy_threshold, hc.unhealthy_threshold) == (20, 7, 1, 9)
    locked = TranslateSettings(cluster_name="t", allow_health_check_overrides=False)
    assert translate(svc, settings=locked).listeners[0].health_check.interval_seconds == 5


@pytest.mark.parametrize("annotations", [
    {"cloud-lb.io/internal": "true"},
    {"service.beta.kubernetes.io/openstack-internal-load-balancer": "TRUE"},
    {"service.beta.kubernetes.io/aws-load-balancer-internal": "0.0.0.0/0"},
    {"service.beta.kubernetes.io/aws-load-balancer-internal": "true"},
    {"service.beta.kubernetes.io/aws-load-balancer-scheme": "internal"},
    {"networking.gke.io/load-balancer-type": "Internal"},
    {"cloud.google.com/load-balancer-type": "internal"},
    {"cloud-lb.io/internal": "true", "networking.gke.io/load-balancer-type": "Internal"},
])
def test_every_known_internal_annotation_makes_an_internal_lb(annotations: dict[str, str]) -> None:
    assert translate(make_service(annotations=annotations)).internal


@pytest.mark.parametrize("annotations", [
    {}, {"cloud-lb.io/internal": "false"},
    {"service.beta.kubernetes.io/aws-load-balancer-internal": "false"},
    {"networking.gke.io/load-balancer-type": "External"},
])
def test_absent_or_false_internal_annotations_make_an_external_lb(annotations: dict[str, str]) -> None:
    assert not translate(make_service(annotations=annotations), Capabilities()).internal


def test_options_carry_all_annotations_sorted_except_last_applied() -> None:
    svc = make_service(annotations={"z.example/b": "2", "loadbalancer.openstack.org/flavor-id": "f1",
                                    "kubectl.kubernetes.io/last-applied-configuration": "{...}"})
    spec = translate(svc)
    assert spec.options == (("loadbalancer.openstack.org/flavor-id", "f1"), ("z.example/b", "2"))
    assert spec.option("z.example/b") == "2"


def test_ip_families_follow_policy_and_capabilities() -> None:
    dual = make_service(ipFamilies=["IPv6", "IPv4"], ipFamilyPolicy="PreferDualStack")
    assert translate(dual).ip_families == (IPFamily.IPV6, IPFamily.IPV4)
    assert translate(dual, Capabilities(ipv6=True)).ip_families == (IPFamily.IPV6,)
    assert translate(dual, Capabilities()).ip_families == (IPFamily.IPV4,)
    v6 = make_service(ipFamilies=["IPv6"], loadBalancerIP="2001:DB8::10")
    spec = translate(v6, Capabilities(ipv6=True, static_ip=True))
    assert (spec.ip_families, spec.static_ip) == ((IPFamily.IPV6,), "2001:db8::10")
    assert translate(dual).effective_source_ranges == ("::/0", "0.0.0.0/0")


def test_static_ip_from_the_annotation() -> None:
    svc = make_service(annotations={"cloud-lb.io/load-balancer-ip": "203.0.113.10"})
    assert translate(svc).static_ip == "203.0.113.10"


def test_explicit_node_ports_are_used_even_without_allocation() -> None:
    svc = make_service(allocateLoadBalancerNodePorts=False)
    spec = translate(svc, Capabilities())
    assert spec.listeners[0].node_port == 30080 and len(spec.backends) == 2


def endpoint_slice(service: str, addresses: list[str], *, ready: bool | None = True,
                   port_name: str = "http", port: int = 8080, family: str = "IPv4",
                   namespace: str = "default") -> dict[str, Any]:
    cond = {} if ready is None else {"ready": ready}
    return {
        "metadata": {"name": f"{service}-x", "namespace": namespace,
                     "labels": {"kubernetes.io/service-name": service}},
        "addressType": family,
        "ports": [{"name": port_name, "protocol": "TCP", "port": port}],
        "endpoints": [{"addresses": [a], "conditions": cond} for a in addresses],
    }


def test_without_node_ports_pods_are_targeted_from_endpoint_slices() -> None:
    svc = make_service(ports=[{"name": "http", "port": 80, "targetPort": "web"}],
                       allocateLoadBalancerNodePorts=False)
    slices = [
        endpoint_slice("web", ["10.244.0.6", "10.244.0.5"]),
        endpoint_slice("web", ["10.244.1.9"], ready=False),  # not ready: no traffic
        endpoint_slice("web", ["10.244.1.7"], ready=None),  # unset means ready
        endpoint_slice("other", ["10.244.2.2"]),  # another Service
        endpoint_slice("web", ["10.244.3.3"], namespace="elsewhere"),
        endpoint_slice("web", ["fd00::5"], family="IPv6"),  # family not served
        endpoint_slice("web", ["10.244.4.4"], port_name="metrics"),  # another port
    ]
    spec = translate(svc, endpoint_slices=slices)
    assert spec.backends == ()
    assert spec.listeners[0].node_port == 0
    assert spec.pod_targets == tuple(PodTarget(a, 8080, "http") for a in
                                     ["10.244.0.5", "10.244.0.6", "10.244.1.7"])
    hc = spec.listeners[0].health_check
    assert (hc.protocol, hc.port) == (HealthCheckProtocol.TCP, 8080)


def test_backends_honour_settings() -> None:
    nodes = [make_node("a", "10.0.0.1", labels={"pool": "edge"}), make_node("b", "10.0.0.2")]
    settings = TranslateSettings(cluster_name="t", node_selector={"pool": "edge"})
    spec = service_to_spec(make_service(), nodes, settings=settings, capabilities=ALL_CAPS)
    assert [b.node_name for b in spec.backends] == ["a"]
