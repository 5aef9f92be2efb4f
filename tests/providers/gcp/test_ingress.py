"""The global Application Load Balancer an Ingress gets, through google-cloud-compute
against the fake: the whole chain for 2 hosts x 2 paths with TLS, then each change
touching only what it must (a path: the URL map; a certificate: certificate and proxy;
a backend: URL map, backend service, health check), and deletion leaving nothing."""

from __future__ import annotations

import dataclasses

from cloud_lb.model import Backend, PathType
from cloud_lb.provider import CallRecorder
from cloud_lb.testing.fakegce import FakeGCE
from providers.gcp import naming
from providers.gcp.ingress_render import FRONT_END_RANGES
from providers.gcp.provider import GCPProvider
from tests.providers.gcp.conftest import ProviderFactory, by_name
from tests.providers.gcp.gce_routing import route
from tests.providers.gcp.ingress_specs import (
    HOSTS,
    backend,
    certificate,
    fresh_certificate,
    ingress_ref,
    ingress_spec,
    replace,
    rule,
    two_by_two,
)

ZONES = ("us-central1-a", "us-central1-b", "us-central1-c")


def mutations(recorder: CallRecorder) -> list[str]:
    return sorted(
        op.removeprefix("compute.")
        for (op, mutating, _), n in recorder.calls.items()
        if mutating
        for _ in range(n)
    )


def the_url_map(fake: FakeGCE, lb_ref: object) -> dict:
    return by_name(fake, "urlMaps")[naming.ingress_name(lb_ref, "um")]  # type: ignore[arg-type]


def service_of(lb_ref: object, target: object) -> str:
    return naming.ingress_backend_name(lb_ref, target.service, target.port)  # type: ignore


def test_two_hosts_two_paths_and_tls_build_the_whole_chain(
    fake: FakeGCE, provider: GCPProvider, nodes: list[Backend]
) -> None:
    lb_ref = ingress_ref()
    spec = ingress_spec(lb_ref, nodes, tls=(certificate(*HOSTS),))
    status = provider.ensure(spec)

    address = by_name(fake, "globalAddresses")[naming.ingress_name(lb_ref, "ip")]
    assert address["status"] == "IN_USE"
    assert status.ingress[0].ip == address["address"]
    assert status.listeners == ("HTTP/80", "HTTPS/443") and status.backends_total == 6

    rules = two_by_two()
    services = by_name(fake, "backendServices")
    checks = by_name(fake, "healthChecks")
    assert set(services) == {service_of(lb_ref, r.backend) for r in rules} | {
        naming.ingress_backend_name(lb_ref, None)
    }
    for r in rules:
        name = service_of(lb_ref, r.backend)
        service = services[name]
        assert (service["protocol"], service["loadBalancingScheme"]) == ("HTTP", "EXTERNAL_MANAGED")
        assert service["portName"] == f"port{r.backend.node_port}"
        assert sorted(b["group"].split("/")[-3] for b in service["backends"]) == list(ZONES)
        assert service["healthChecks"][0].endswith(f"/global/healthChecks/{name}")
        assert checks[name]["httpHealthCheck"] == {
            "port": r.backend.node_port,
            "requestPath": "/",
            "portSpecification": "USE_FIXED_PORT",
            "proxyHeader": "NONE",
        }
    assert services[naming.ingress_backend_name(lb_ref, None)].get("backends", []) == []

    group = naming.instance_group_name("test-cluster")
    for zone in ZONES:
        body = next(g for g in fake.resources("instanceGroups") if g["zone"].endswith(zone))
        assert {(p["name"], p["port"]) for p in body["namedPorts"]} == {
            (f"port{r.backend.node_port}", r.backend.node_port) for r in rules
        }
        assert body["name"] == group

    url_map = the_url_map(fake, lb_ref)
    assert route(url_map, "a.example.com", "/api/v1") == service_of(lb_ref, rules[0].backend)
    assert route(url_map, "a.example.com", "/apis") == service_of(lb_ref, rules[1].backend)
    assert route(url_map, "b.example.com", "/api") == service_of(lb_ref, rules[2].backend)
    assert route(url_map, "b.example.com", "/") == service_of(lb_ref, rules[3].backend)
    assert route(url_map, "c.example.com", "/api") == "404"

    (cert,) = fake.resources("sslCertificates")
    assert cert["subjectAlternativeNames"] == list(HOSTS) and "privateKey" not in cert
    https = by_name(fake, "targetHttpsProxies")[naming.ingress_name(lb_ref, "ts")]
    assert https["urlMap"].endswith(url_map["name"])
    assert [c.rsplit("/", 1)[1] for c in https["sslCertificates"]] == [cert["name"]]
    http = by_name(fake, "targetHttpProxies")[naming.ingress_name(lb_ref, "tp")]
    assert http["urlMap"].endswith(url_map["name"])
    rules_by_name = by_name(fake, "globalForwardingRules")
    for part, port, proxy in (("fr", 80, http), ("fs", 443, https)):
        fr = rules_by_name[naming.ingress_name(lb_ref, part)]
        assert (fr["IPAddress"], fr["portRange"], fr["loadBalancingScheme"]) == (
            address["address"],
            f"{port}-{port}",
            "EXTERNAL_MANAGED",
        )
        assert fr["target"] == proxy["selfLink"]

    firewall = by_name(fake, "firewalls")[naming.ingress_name(lb_ref, "fw")]
    assert sorted(firewall["sourceRanges"]) == sorted(FRONT_END_RANGES)
    assert firewall["allowed"] == [
        {"IPProtocol": "tcp", "ports": sorted(str(r.backend.node_port) for r in rules)}
    ]
    assert firewall["targetTags"] == ["k8s-node"]

    assert provider.plan(spec) == []
    assert provider.get(lb_ref) == status
    assert provider.list_owned() == [lb_ref]


def test_an_unchanged_resync_reads_nine_lists_and_changes_nothing(
    provider: GCPProvider, nodes: list[Backend], recorder: CallRecorder
) -> None:
    spec = ingress_spec(ingress_ref(), nodes, tls=(certificate(*HOSTS),), redirect=True)
    provider.ensure(spec)
    recorder.reset()
    provider.ensure(spec)
    provider.update_backends(spec)
    assert recorder.mutations() == 0
    assert sum(recorder.calls.values()) == 9


def test_a_changed_path_only_updates_the_url_map(
    fake: FakeGCE, provider: GCPProvider, nodes: list[Backend], recorder: CallRecorder
) -> None:
    lb_ref = ingress_ref()
    spec = ingress_spec(lb_ref, nodes, tls=(certificate(*HOSTS),))
    first = provider.ensure(spec)
    rules = list(spec.rules)
    rules[0] = dataclasses.replace(rules[0], path="/v2/api")
    recorder.reset()
    second = provider.ensure(replace(spec, rules=tuple(rules)))
    assert mutations(recorder) == ["urlMaps.update"]
    assert second.ingress == first.ingress
    url_map = the_url_map(fake, lb_ref)
    api = service_of(lb_ref, rules[0].backend)
    assert route(url_map, "a.example.com", "/v2/api/x") == api
    assert route(url_map, "a.example.com", "/api/x") != api


def test_a_rotated_certificate_is_a_new_certificate_on_the_same_address(
    fake: FakeGCE, provider: GCPProvider, nodes: list[Backend], recorder: CallRecorder
) -> None:
    lb_ref = ingress_ref()
    old = certificate(*HOSTS)
    spec = ingress_spec(lb_ref, nodes, tls=(old,))
    first = provider.ensure(spec)
    new = fresh_certificate(*HOSTS)
    recorder.reset()
    second = provider.ensure(replace(spec, tls=(new,)))
    assert mutations(recorder) == [
        "sslCertificates.delete",
        "sslCertificates.insert",
        "targetHttpsProxies.setSslCertificates",
    ]
    assert second.ingress == first.ingress
    (cert,) = fake.resources("sslCertificates")
    assert cert["name"] == naming.ingress_certificate_name(lb_ref, new.fingerprint)
    assert cert["certificate"] == new.cert_pem
    https = by_name(fake, "targetHttpsProxies")[naming.ingress_name(lb_ref, "ts")]
    assert https["sslCertificates"] == [cert["selfLink"]]


def test_a_removed_backend_goes_after_the_url_map_stops_naming_it(
    fake: FakeGCE, provider: GCPProvider, nodes: list[Backend], recorder: CallRecorder
) -> None:
    lb_ref = ingress_ref()
    spec = ingress_spec(lb_ref, nodes)
    provider.ensure(spec)
    gone = spec.rules[2].backend  # b.example.com /api
    fake.reset_calls()
    provider.ensure(replace(spec, rules=tuple(r for r in spec.rules if r.backend != gone)))
    assert [c.verb for c in fake.calls if c.mutating] == [
        "urlMaps.update",
        "firewalls.update",  # its node port is closed
        "backendServices.delete",
        "healthChecks.delete",
    ]
    name = service_of(lb_ref, gone)
    assert name not in by_name(fake, "backendServices")
    assert route(the_url_map(fake, lb_ref), "b.example.com", "/api") == service_of(
        lb_ref, spec.rules[3].backend
    )  # now served by b's "/" rule


def test_a_changed_node_port_updates_check_and_service_in_place_and_names_the_port(
    fake: FakeGCE, provider: GCPProvider, nodes: list[Backend], recorder: CallRecorder
) -> None:
    lb_ref = ingress_ref()
    target = backend("app", 30500)
    spec = ingress_spec(lb_ref, nodes, rules=(rule("", "/", target),))
    provider.ensure(spec)
    moved = backend("app", 30600)
    recorder.reset()
    provider.ensure(replace(spec, rules=(rule("", "/", moved),)))
    assert (
        mutations(recorder)
        == [
            "backendServices.update",
            "firewalls.update",
            "healthChecks.update",
        ]
        + ["instanceGroups.setNamedPorts"] * 3
    )
    name = service_of(lb_ref, moved)
    assert by_name(fake, "backendServices")[name]["portName"] == "port30600"
    assert by_name(fake, "healthChecks")[name]["httpHealthCheck"]["port"] == 30600
    named = {p["name"] for g in fake.resources("instanceGroups") for p in g["namedPorts"]}
    assert named == {"port30500", "port30600"}  # named ports are merged, never dropped


def test_https_redirect_puts_the_redirect_map_on_the_http_proxy_and_back(
    fake: FakeGCE, provider: GCPProvider, nodes: list[Backend], recorder: CallRecorder
) -> None:
    lb_ref = ingress_ref()
    spec = ingress_spec(lb_ref, nodes, tls=(certificate(*HOSTS),), redirect=True)
    provider.ensure(spec)
    redirect = by_name(fake, "urlMaps")[naming.ingress_name(lb_ref, "rm")]
    assert redirect["defaultUrlRedirect"]["httpsRedirect"] is True
    http = by_name(fake, "targetHttpProxies")[naming.ingress_name(lb_ref, "tp")]
    assert http["urlMap"] == redirect["selfLink"]
    recorder.reset()
    provider.ensure(replace(spec, https_redirect=False))
    assert mutations(recorder) == ["targetHttpProxies.setUrlMap", "urlMaps.delete"]
    http = by_name(fake, "targetHttpProxies")[naming.ingress_name(lb_ref, "tp")]
    assert http["urlMap"].endswith(naming.ingress_name(lb_ref, "um"))


def test_tls_removed_takes_the_https_front_end_down_in_order(
    fake: FakeGCE, provider: GCPProvider, nodes: list[Backend]
) -> None:
    lb_ref = ingress_ref()
    spec = ingress_spec(lb_ref, nodes, tls=(certificate(*HOSTS),))
    provider.ensure(spec)
    fake.reset_calls()
    provider.ensure(ingress_spec(lb_ref, nodes))
    assert [c.verb for c in fake.calls if c.mutating] == [
        "globalForwardingRules.delete",
        "targetHttpsProxies.delete",
        "sslCertificates.delete",
    ]
    assert not fake.resources("sslCertificates") and not fake.resources("targetHttpsProxies")


def test_a_default_backend_replaces_the_404_backend(
    fake: FakeGCE, provider: GCPProvider, nodes: list[Backend]
) -> None:
    lb_ref = ingress_ref()
    spec = ingress_spec(lb_ref, nodes)
    provider.ensure(spec)
    fallback = backend("fallback", 30700)
    provider.ensure(replace(spec, default_backend=fallback))
    url_map = the_url_map(fake, lb_ref)
    assert route(url_map, "nowhere.example", "/") == service_of(lb_ref, fallback)
    assert naming.ingress_backend_name(lb_ref, None) not in by_name(fake, "backendServices")
    provider.ensure(spec)
    assert route(the_url_map(fake, lb_ref), "nowhere.example", "/") == "404"


def test_allow_http_false_serves_https_only(
    fake: FakeGCE, provider: GCPProvider, nodes: list[Backend]
) -> None:
    lb_ref = ingress_ref()
    spec = ingress_spec(
        lb_ref,
        nodes,
        tls=(certificate(*HOSTS),),
        options={"kubernetes.io/ingress.allow-http": "false"},
    )
    status = provider.ensure(spec)
    assert status.listeners == ("HTTPS/443",)
    assert list(by_name(fake, "globalForwardingRules")) == [naming.ingress_name(lb_ref, "fs")]
    assert not fake.resources("targetHttpProxies")


def test_a_node_in_a_new_zone_joins_every_backend_service_of_the_ingress(
    fake: FakeGCE, provider: GCPProvider, nodes: list[Backend], recorder: CallRecorder
) -> None:
    lb_ref = ingress_ref()
    spec = ingress_spec(lb_ref, [nodes[0], nodes[1]])  # zones a and b
    provider.ensure(spec)
    recorder.reset()
    provider.update_backends(replace(spec, backends=(nodes[0], nodes[1], nodes[2])))
    assert mutations(recorder) == [
        "backendServices.update",
        "backendServices.update",
        "backendServices.update",
        "backendServices.update",
        "instanceGroups.addInstances",
        "instanceGroups.insert",
        "instanceGroups.setNamedPorts",
    ]
    for name, service in by_name(fake, "backendServices").items():
        zones = sorted(b["group"].split("/")[-3] for b in service.get("backends", []))
        assert zones == ([] if name.endswith("-404") else list(ZONES))
    recorder.reset()
    provider.ensure(replace(spec, backends=(nodes[0], nodes[1], nodes[2])))
    assert recorder.mutations() == 0


def test_delete_leaves_the_cloud_as_it_was(
    fake: FakeGCE, make_provider: ProviderFactory, nodes: list[Backend]
) -> None:
    before = fake.snapshot()
    provider = make_provider()
    lb_ref = ingress_ref()
    provider.ensure(ingress_spec(lb_ref, nodes, tls=(certificate(*HOSTS),), redirect=True))
    provider.delete(lb_ref)
    assert fake.snapshot() == before
    assert provider.get(lb_ref) is None and provider.list_owned() == []
    provider.delete(lb_ref)  # gone is success


def test_exact_and_prefix_rules_on_the_same_path_keep_kubernetes_precedence(
    fake: FakeGCE, provider: GCPProvider, nodes: list[Backend]
) -> None:
    lb_ref = ingress_ref()
    exact, prefix = backend("exact", 30801), backend("prefix", 30802)
    rules = (
        rule("a.example.com", "/foo", exact, PathType.EXACT),
        rule("a.example.com", "/foo", prefix),
    )
    provider.ensure(ingress_spec(lb_ref, nodes, rules=rules))
    url_map = the_url_map(fake, lb_ref)
    assert route(url_map, "a.example.com", "/foo") == service_of(lb_ref, exact)
    assert route(url_map, "a.example.com", "/foo/bar") == service_of(lb_ref, prefix)
    assert route(url_map, "a.example.com", "/foobar") == "404"


def test_an_ingress_with_nothing_to_route_answers_404_on_its_address(
    fake: FakeGCE, provider: GCPProvider, nodes: list[Backend]
) -> None:
    lb_ref = ingress_ref()
    status = provider.ensure(ingress_spec(lb_ref, nodes, rules=()))  # every backend missing
    assert status.ingress[0].ip
    assert route(the_url_map(fake, lb_ref), "any.example", "/") == "404"
    assert list(by_name(fake, "backendServices")) == [naming.ingress_backend_name(lb_ref, None)]
    assert not fake.resources("healthChecks") and not fake.resources("firewalls")
