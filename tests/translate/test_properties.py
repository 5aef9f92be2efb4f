"""Property tests over generated Services, nodes and capabilities.

Whatever the input: translation returns a spec or raises `TranslationError` (nothing
else), a returned spec satisfies the model's invariants (they are checked at
construction), has one listener per port in order, honours the source ranges as
written, and uses only what the provider's capabilities allow. Valid Services always
translate on a provider that can do everything.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import os
from typing import Any

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from cloud_lb.model import IPFamily, LoadBalancerSpec, Protocol
from cloud_lb.provider import Capabilities
from cloud_lb.translate.errors import TranslationError
from cloud_lb.translate.nodes import eligible_backends
from cloud_lb.translate.service import service_to_spec
from cloud_lb.translate.settings import TranslateSettings

from .conftest import ALL_CAPS, make_node

FULL = os.environ.get("CLOUD_LB_FULL") == "1"
PROFILE = settings(max_examples=2000 if FULL else 150, deadline=None,
                   suppress_health_check=[HealthCheck.too_slow])
S = TranslateSettings(cluster_name="prop")
SOURCE_ANN = "service.beta.kubernetes.io/load-balancer-source-ranges"

good_cidrs = st.sampled_from(["10.0.0.0/8", "192.168.0.0/16", "0.0.0.0/0", "2001:db8::/32",
                              "::/0", "203.0.113.7/32", " 172.16.0.0/12 ", "2001:DB8:1::/48"])
bad_cidrs = st.sampled_from(["10.0.0.1/8", "office", "", "1.2.3.4", "300.0.0.0/8", "10.0.0.0/33"])
any_cidr = st.one_of(good_cidrs, good_cidrs, bad_cidrs, st.text(max_size=12))
maybe_int = st.one_of(st.integers(-5, 70000), st.just(None), st.just(0), st.text(max_size=3),
                      st.booleans())
# hypothesis favours small integers, so "1 in 8" is drawn from a list, not integers(0, 7)
rarely = st.sampled_from([True] + [False] * 7)
annotation_pairs = st.sampled_from([
    ("cloud-lb.io/internal", "true"), ("cloud-lb.io/internal", "false"),
    ("cloud-lb.io/internal", "maybe"),
    ("service.beta.kubernetes.io/aws-load-balancer-scheme", "internet-facing"),
    ("networking.gke.io/load-balancer-type", "Internal"),
    ("cloud-lb.io/health-check-interval", "2"), ("cloud-lb.io/health-check-timeout", "4s"),
    ("cloud-lb.io/health-check-healthy-threshold", "0"),
    ("cloud-lb.io/load-balancer-ip", "203.0.113.5"), ("cloud-lb.io/load-balancer-ip", "2001:db8::5"),
    ("loadbalancer.openstack.org/flavor-id", "abc"),
])


@st.composite
def ports(draw: st.DrawFn, *, valid: bool) -> list[dict[str, Any]]:
    n = 0 if not valid and draw(rarely) else draw(st.integers(1, 4))
    out: list[dict[str, Any]] = []
    numbers = draw(st.lists(st.integers(1, 65535), min_size=n, max_size=n, unique=True))
    for i, number in enumerate(numbers):
        port: dict[str, Any] = {"port": number, "nodePort": 30000 + i,
                                "protocol": draw(st.sampled_from(["TCP"] * 4 + ["UDP", "SCTP"]))}
        if draw(st.booleans()):
            port["name"] = f"p{i}"
        elif valid:
            port["name"] = f"n{i}"  # a Service with several ports names them all
        if not valid:
            if draw(rarely):
                port["nodePort"] = draw(maybe_int)
            if draw(rarely):
                port["port"] = draw(maybe_int)
            if draw(rarely):
                port["protocol"] = draw(st.sampled_from(["tcp", "HTTP", None, 7]))
            if draw(rarely) and out:
                port["name"] = out[0].get("name", "x")
        out.append(port)
    return out


@st.composite
def services(draw: st.DrawFn, *, valid: bool = False) -> dict[str, Any]:
    spec: dict[str, Any] = {"type": "LoadBalancer", "ports": draw(ports(valid=valid))}
    families = draw(st.sampled_from([["IPv4"], ["IPv6"], ["IPv4", "IPv6"], ["IPv6", "IPv4"], None]
                                    + ([] if valid or not draw(rarely) else [["IPv4", "IPv4"], ["IPv9"], "IPv4"])))
    if families is not None:
        spec["ipFamilies"] = families
        spec["ipFamilyPolicy"] = ("SingleStack" if isinstance(families, list) and len(families) == 1
                                  else draw(st.sampled_from(["PreferDualStack", "RequireDualStack"])))
    policy = draw(st.sampled_from(["Cluster", "Local", None] + ([] if valid else ["Global"])))
    if policy:
        spec["externalTrafficPolicy"] = policy
    if policy == "Local" and (valid or draw(st.booleans())):
        spec["healthCheckNodePort"] = draw(st.integers(30000, 32767))
    spec["loadBalancerSourceRanges"] = draw(st.lists(good_cidrs if valid else any_cidr, max_size=4))
    if not valid and draw(st.booleans()):
        spec["allocateLoadBalancerNodePorts"] = draw(st.sampled_from([True, False, "no"]))
    annotations = dict(draw(st.lists(annotation_pairs, max_size=4))) if not valid else {}
    if not valid and draw(rarely):
        annotations[SOURCE_ANN] = ",".join(draw(st.lists(any_cidr, max_size=3)))
    if not valid and draw(rarely):
        spec["loadBalancerIP"] = draw(st.sampled_from(["203.0.113.9", "2001:db8::9", "nope", ""]))
    return {"metadata": {"name": "svc", "namespace": "ns", "uid": "u",
                         "annotations": annotations}, "spec": spec}


@st.composite
def node_lists(draw: st.DrawFn) -> list[dict[str, Any]]:
    out = []
    for i in range(draw(st.integers(0, 5))):
        out.append(make_node(
            f"node-{draw(st.integers(0, 6))}", f"10.0.0.{i + 1}",
            ready=draw(st.sampled_from(["True", "False", "Unknown"])),
            labels=draw(st.sampled_from([{}, {"node.kubernetes.io/exclude-from-external-load-balancers": ""}])),
            deleting=draw(st.booleans()),
        ))
    return out


# mostly capable providers, so that most generated Services get far enough to matter
capabilities = st.builds(Capabilities, **{
    f.name: st.sampled_from([True, True, True, False])
    for f in dataclasses.fields(Capabilities) if f.name != "tcp"
})


def expected_ranges(svc: dict[str, Any]) -> tuple[str, ...]:
    raw = svc["spec"].get("loadBalancerSourceRanges") or [
        s for s in svc["metadata"]["annotations"].get(SOURCE_ANN, "").split(",") if s.strip()]
    return tuple(dict.fromkeys(str(ipaddress.ip_network(r.strip())) for r in raw))


def check_spec(spec: LoadBalancerSpec, svc: dict[str, Any], caps: Capabilities,
               nodes: list[dict[str, Any]]) -> None:
    ports = svc["spec"]["ports"]
    assert [(l.port, l.protocol.value) for l in spec.listeners] == [
        (p["port"], p.get("protocol") or "TCP") for p in ports]
    assert [l.name for l in spec.listeners] == [
        p.get("name") or f"{(p.get('protocol') or 'TCP').lower()}-{p['port']}" for p in ports]
    if spec.backends:
        assert [l.node_port for l in spec.listeners] == [p["nodePort"] for p in ports]
        assert spec.backends == eligible_backends(nodes, S)
    assert spec.source_ranges == expected_ranges(svc)
    protocols = {l.protocol for l in spec.listeners}
    assert caps.udp or Protocol.UDP not in protocols
    assert caps.sctp or Protocol.SCTP not in protocols
    assert caps.mixed_protocols or len(protocols) == 1
    assert caps.ipv6 or IPFamily.IPV6 not in spec.ip_families
    assert caps.dual_stack or len(spec.ip_families) == 1
    assert caps.internal or not spec.internal
    assert caps.static_ip or spec.static_ip is None
    assert caps.pod_targets or not spec.pod_targets
    # without the capability, ranges pass only when they open every served family to all
    everyone = {IPFamily.IPV4: "0.0.0.0/0", IPFamily.IPV6: "::/0"}
    assert caps.source_ranges or all(everyone[f] in spec.effective_source_ranges
                                     for f in spec.ip_families)
    for listener in spec.listeners:
        assert listener.health_check.timeout_seconds <= listener.health_check.interval_seconds


@PROFILE
@given(svc=st.booleans().flatmap(lambda valid: services(valid=valid)), nodes=node_lists(),
       caps=capabilities)
def test_translation_returns_a_valid_spec_or_a_translation_error(
        svc: dict[str, Any], nodes: list[dict[str, Any]], caps: Capabilities) -> None:
    try:
        spec = service_to_spec(svc, nodes, settings=S, capabilities=caps)
    except TranslationError as err:
        assert err.field and str(err).startswith(err.field + ": ")
        event(f"rejected at {err.field.split('[')[0]}")
        return
    event("translated")
    check_spec(spec, svc, caps, nodes)


@PROFILE
@given(svc=services(valid=True), nodes=node_lists())
def test_valid_services_always_translate_on_a_capable_provider(
        svc: dict[str, Any], nodes: list[dict[str, Any]]) -> None:
    spec = service_to_spec(svc, nodes, settings=S, capabilities=ALL_CAPS)
    check_spec(spec, svc, ALL_CAPS, nodes)
