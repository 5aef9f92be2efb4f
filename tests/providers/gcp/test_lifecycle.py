"""The load balancer a Service gets: external/internal, TCP/UDP/mixed, health checks,
static addresses, port changes; each checked in the fake cloud through the real SDK."""

from __future__ import annotations

import dataclasses

import pytest

from cloud_lb.model import Backend, HealthCheck, HealthCheckProtocol, IPFamily
from cloud_lb.provider import CallRecorder, InvalidSpecError
from cloud_lb.testing.fakegce import FakeGCE
from providers.gcp import naming
from providers.gcp.firewalls import HEALTH_CHECK_RANGES
from providers.gcp.provider import GCPProvider
from tests.providers.gcp.conftest import ProviderFactory, by_name, local_spec, ref, spec

INTERNAL = {"networking.gke.io/load-balancer-type": "Internal"}


def test_external_tcp_service_builds_address_rule_backend_service_check_and_firewalls(
    fake: FakeGCE, provider: GCPProvider, nodes: list[Backend]
) -> None:
    lb_ref = ref()
    status = provider.ensure(spec(lb_ref, nodes[:3]))
    lb = naming.lb_name(lb_ref)
    address = by_name(fake, "addresses")[lb]
    assert address["addressType"] == "EXTERNAL" and address["status"] == "IN_USE"
    assert status.ingress[0].ip == address["address"]
    assert status.backends_total == 3

    rule = by_name(fake, "forwardingRules")[f"{lb}-tcp"]
    assert (rule["IPAddress"], rule["IPProtocol"], rule["ports"]) == (
        address["address"],
        "TCP",
        ["80"],
    )
    assert rule["loadBalancingScheme"] == "EXTERNAL" and rule["networkTier"] == "PREMIUM"
    assert rule["backendService"].endswith(f"/regions/us-central1/backendServices/{lb}")

    service = by_name(fake, "regionBackendServices")[lb]
    assert (service["protocol"], service["loadBalancingScheme"]) == ("TCP", "EXTERNAL")
    assert service["healthChecks"][0].endswith(f"/regions/us-central1/healthChecks/{lb}")
    assert sorted(b["group"].split("/")[-3] for b in service["backends"]) == [
        "us-central1-a",
        "us-central1-b",
        "us-central1-c",
    ]
    assert {b["balancingMode"] for b in service["backends"]} == {"CONNECTION"}

    check = by_name(fake, "regionHealthChecks")[lb]
    assert check["httpHealthCheck"]["port"] == 10256
    assert check["httpHealthCheck"]["requestPath"] == "/healthz"
    # cloud-provider-gcp's defaults
    assert (
        check["checkIntervalSec"],
        check["timeoutSec"],
        check["healthyThreshold"],
        check["unhealthyThreshold"],
    ) == (8, 1, 1, 3)

    walls = by_name(fake, "firewalls")
    traffic = walls[naming.firewall_name(lb_ref)]
    assert traffic["sourceRanges"] == ["0.0.0.0/0"]
    assert traffic["destinationRanges"] == [f"{address['address']}/32"]
    assert traffic["allowed"] == [{"IPProtocol": "tcp", "ports": ["80"]}]
    assert traffic["targetTags"] == ["k8s-node"]
    probes = walls[naming.health_check_firewall_name(lb_ref)]
    assert sorted(probes["sourceRanges"]) == sorted(HEALTH_CHECK_RANGES)
    assert probes["allowed"] == [{"IPProtocol": "tcp", "ports": ["10256"]}]

    group = naming.instance_group_name("test-cluster")
    assert [
        fake.members(z, group) for z in ("us-central1-a", "us-central1-b", "us-central1-c")
    ] == [["node-0"], ["node-1"], ["node-2"]]


def test_udp_service_gets_a_udp_backend_service_and_rule(
    fake: FakeGCE, provider: GCPProvider, nodes: list[Backend]
) -> None:
    lb_ref = ref()
    provider.ensure(spec(lb_ref, nodes, ports=(("UDP", 53, 30053),)))
    lb = naming.lb_name(lb_ref)
    assert by_name(fake, "regionBackendServices")[lb]["protocol"] == "UDP"
    assert set(by_name(fake, "forwardingRules")) == {f"{lb}-udp"}
    assert by_name(fake, "firewalls")[naming.firewall_name(lb_ref)]["allowed"] == [
        {"IPProtocol": "udp", "ports": ["53"]}
    ]


def test_mixed_protocols_share_one_address_through_a_rule_per_protocol(
    fake: FakeGCE, provider: GCPProvider, nodes: list[Backend]
) -> None:
    lb_ref = ref()
    status = provider.ensure(
        spec(lb_ref, nodes, ports=(("TCP", 53, 30053), ("UDP", 53, 30054), ("TCP", 443, 30443)))
    )
    lb = naming.lb_name(lb_ref)
    assert by_name(fake, "regionBackendServices")[lb]["protocol"] == "UNSPECIFIED"
    rules = by_name(fake, "forwardingRules")
    assert {n: (r["IPProtocol"], r["ports"], r["IPAddress"]) for n, r in rules.items()} == {
        f"{lb}-tcp": ("TCP", ["53", "443"], status.ingress[0].ip),
        f"{lb}-udp": ("UDP", ["53"], status.ingress[0].ip),
    }


@pytest.mark.parametrize(
    "annotation", ["networking.gke.io/load-balancer-type", "cloud.google.com/load-balancer-type"]
)
def test_internal_service_gets_an_internal_address_on_the_subnetwork(
    fake: FakeGCE, provider: GCPProvider, nodes: list[Backend], annotation: str
) -> None:
    lb_ref = ref()
    status = provider.ensure(spec(lb_ref, nodes, options=((annotation, "Internal"),)))
    lb = naming.lb_name(lb_ref)
    address = by_name(fake, "addresses")[lb]
    assert address["addressType"] == "INTERNAL"
    assert address["address"].startswith("10.128.") and status.ingress[0].ip == address["address"]
    rule = by_name(fake, "forwardingRules")[f"{lb}-tcp"]
    assert rule["loadBalancingScheme"] == "INTERNAL"
    assert rule["subnetwork"].endswith("/regions/us-central1/subnetworks/default")
    assert not rule.get("allowGlobalAccess")
    assert by_name(fake, "regionBackendServices")[lb]["loadBalancingScheme"] == "INTERNAL"


def test_internal_global_access_annotation_reaches_the_forwarding_rule(
    fake: FakeGCE, provider: GCPProvider, nodes: list[Backend]
) -> None:
    lb_ref = ref()
    options = (
        *INTERNAL.items(),
        ("networking.gke.io/internal-load-balancer-allow-global-access", "true"),
    )
    provider.ensure(spec(lb_ref, nodes, options=options))
    assert by_name(fake, "forwardingRules")[f"{naming.lb_name(lb_ref)}-tcp"]["allowGlobalAccess"]


@pytest.mark.parametrize(("policy", "port"), [("Cluster", 10256), ("Local", 32000)])
def test_health_check_targets_kube_proxy_for_cluster_and_the_health_check_node_port_for_local(
    fake: FakeGCE, provider: GCPProvider, nodes: list[Backend], policy: str, port: int
) -> None:
    lb_ref = ref()
    provider.ensure(spec(lb_ref, nodes) if policy == "Cluster" else local_spec(lb_ref, nodes))
    check = by_name(fake, "regionHealthChecks")[naming.lb_name(lb_ref)]
    assert (check["type"], check["httpHealthCheck"]["port"]) == ("HTTP", port)
    probes = by_name(fake, "firewalls")[naming.health_check_firewall_name(lb_ref)]
    assert probes["allowed"] == [{"IPProtocol": "tcp", "ports": [str(port)]}]


def test_switching_traffic_policy_updates_the_check_and_its_firewall_in_place(
    fake: FakeGCE, provider: GCPProvider, nodes: list[Backend], recorder: CallRecorder
) -> None:
    lb_ref = ref()
    provider.ensure(spec(lb_ref, nodes))
    ids = {r["name"]: r["id"] for r in fake.resources()}
    recorder.reset()
    provider.ensure(local_spec(lb_ref, nodes))
    mutations = {op for (op, mutating, _), n in recorder.calls.items() if mutating}
    assert mutations == {"compute.regionHealthChecks.update", "compute.firewalls.update"}
    assert {r["name"]: r["id"] for r in fake.resources()} == ids  # nothing recreated


def test_health_check_annotations_override_the_gce_defaults(
    fake: FakeGCE, provider: GCPProvider, nodes: list[Backend]
) -> None:
    lb_ref = ref()
    check = HealthCheck(
        protocol=HealthCheckProtocol.HTTP,
        port=10256,
        interval_seconds=20,
        timeout_seconds=4,
        healthy_threshold=2,
        unhealthy_threshold=5,
    )
    provider.ensure(
        spec(lb_ref, nodes, check=check, options=(("cloud-lb.io/health-check-interval", "20"),))
    )
    found = by_name(fake, "regionHealthChecks")[naming.lb_name(lb_ref)]
    assert (
        found["checkIntervalSec"],
        found["timeoutSec"],
        found["healthyThreshold"],
        found["unhealthyThreshold"],
    ) == (20, 4, 2, 5)


def test_a_users_reserved_address_is_used_and_never_released(
    fake: FakeGCE, provider: GCPProvider, nodes: list[Backend], recorder: CallRecorder
) -> None:
    reserved = fake.create("addresses", "us-central1", {"name": "my-ip"})
    lb_ref = ref()
    status = provider.ensure(spec(lb_ref, nodes, static_ip=reserved["address"]))
    assert status.ingress[0].ip == reserved["address"]
    assert recorder.count(operation="compute.addresses.insert") == 0
    assert set(by_name(fake, "addresses")) == {"my-ip"}
    assert by_name(fake, "addresses")["my-ip"]["status"] == "IN_USE"
    provider.delete(lb_ref)
    assert by_name(fake, "addresses")["my-ip"]["status"] == "RESERVED"
    assert fake.resources("forwardingRules") == []


def test_an_unreserved_load_balancer_ip_is_reserved_by_us_and_released_on_delete(
    fake: FakeGCE, provider: GCPProvider, nodes: list[Backend]
) -> None:
    lb_ref = ref()
    status = provider.ensure(spec(lb_ref, nodes, static_ip="203.0.113.77"))
    assert status.ingress[0].ip == "203.0.113.77"
    assert by_name(fake, "addresses")[naming.lb_name(lb_ref)]["address"] == "203.0.113.77"
    provider.delete(lb_ref)
    assert fake.resources("addresses") == []


def test_moving_to_a_users_address_releases_ours_after_the_rules_move(
    fake: FakeGCE, provider: GCPProvider, nodes: list[Backend]
) -> None:
    lb_ref = ref()
    first = spec(lb_ref, nodes)
    provider.ensure(first)
    reserved = fake.create("addresses", "us-central1", {"name": "my-ip"})
    status = provider.ensure(dataclasses.replace(first, static_ip=reserved["address"]))
    assert status.ingress[0].ip == reserved["address"]
    assert set(by_name(fake, "addresses")) == {"my-ip"}
    assert provider.plan(dataclasses.replace(first, static_ip=reserved["address"])) == []


def test_more_than_five_ports_become_a_port_range_or_all_ports_for_internal(
    fake: FakeGCE, provider: GCPProvider, nodes: list[Backend]
) -> None:
    ports = tuple(("TCP", p, 30000 + p) for p in (80, 81, 82, 83, 84, 90))
    external, internal = ref("ext"), ref("int")
    provider.ensure(spec(external, nodes, ports=ports))
    provider.ensure(spec(internal, nodes, ports=ports, options=tuple(INTERNAL.items())))
    rules = by_name(fake, "forwardingRules")
    assert rules[f"{naming.lb_name(external)}-tcp"]["portRange"] == "80-90"
    assert rules[f"{naming.lb_name(internal)}-tcp"]["allPorts"] is True
    # the firewall still opens exactly the Service's ports
    assert by_name(fake, "firewalls")[naming.firewall_name(external)]["allowed"] == [
        {"IPProtocol": "tcp", "ports": ["80", "81", "82", "83", "84", "90"]}
    ]


def test_adding_a_port_recreates_the_rule_keeps_the_address_and_updates_the_firewall(
    fake: FakeGCE, provider: GCPProvider, nodes: list[Backend], recorder: CallRecorder
) -> None:
    lb_ref = ref()
    before = provider.ensure(spec(lb_ref, nodes))
    recorder.reset()
    after = provider.ensure(spec(lb_ref, nodes, ports=(("TCP", 80, 30080), ("TCP", 443, 30443))))
    assert after.ingress == before.ingress
    mutations = sorted(
        op for (op, mutating, _), n in recorder.calls.items() if mutating for _ in range(n)
    )
    assert mutations == [
        "compute.firewalls.update",
        "compute.forwardingRules.delete",
        "compute.forwardingRules.insert",
    ]


def test_external_to_internal_rebuilds_address_backend_service_and_rule_in_order(
    fake: FakeGCE, provider: GCPProvider, nodes: list[Backend]
) -> None:
    lb_ref = ref()
    provider.ensure(spec(lb_ref, nodes))
    status = provider.ensure(spec(lb_ref, nodes, options=tuple(INTERNAL.items())))
    lb = naming.lb_name(lb_ref)
    assert by_name(fake, "addresses")[lb]["addressType"] == "INTERNAL"
    assert by_name(fake, "regionBackendServices")[lb]["loadBalancingScheme"] == "INTERNAL"
    assert by_name(fake, "forwardingRules")[f"{lb}-tcp"]["IPAddress"] == status.ingress[0].ip
    assert provider.plan(spec(lb_ref, nodes, options=tuple(INTERNAL.items()))) == []


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (
            lambda s: dataclasses.replace(
                s, listeners=(dataclasses.replace(s.listeners[0], protocol="SCTP"),)
            ),
            "spec.ports",
        ),
        (lambda s: dataclasses.replace(s, ip_families=(IPFamily.IPV6,)), "spec.ipFamilies"),
        (
            lambda s: dataclasses.replace(s, options=(("cloud.google.com/network-tier", "Gold"),)),
            "metadata.annotations[cloud.google.com/network-tier]",
        ),
        (
            lambda s: dataclasses.replace(
                s,
                options=(("networking.gke.io/internal-load-balancer-allow-global-access", "true"),),
            ),
            "metadata.annotations[networking.gke.io/internal-load-balancer-allow-global-access]",
        ),
    ],
)
def test_specs_gce_cannot_serve_are_refused_before_any_call(
    provider: GCPProvider, nodes: list[Backend], recorder: CallRecorder, change: object, field: str
) -> None:
    from cloud_lb.model import Protocol

    base = spec(ref(), nodes)
    changed = change(base)  # type: ignore[operator]
    if changed.listeners[0].protocol == "SCTP":
        changed = dataclasses.replace(
            changed, listeners=(dataclasses.replace(base.listeners[0], protocol=Protocol.SCTP),)
        )
    with pytest.raises(InvalidSpecError) as caught:
        provider.ensure(changed)
    assert caught.value.field == field
    assert sum(recorder.calls.values()) == 0


def test_internal_service_without_a_subnetwork_is_refused(
    make_provider: ProviderFactory, nodes: list[Backend]
) -> None:
    provider = make_provider(subnetwork=None)
    with pytest.raises(InvalidSpecError, match="subnetwork"):
        provider.ensure(spec(ref(), nodes, options=tuple(INTERNAL.items())))
