"""Ingress → L7 LoadBalancerSpec: rules, order, backends, TLS, redirect, errors."""

from __future__ import annotations

import pickle

import pytest

from cloud_lb.model import HealthCheckProtocol, PathType, Protocol
from cloud_lb.provider import Capabilities
from cloud_lb.testing.certs import self_signed
from cloud_lb.translate.errors import TranslationError
from cloud_lb.translate.ingress import IngressTranslationError

from .ingress_objects import ingress, path, pem_secret, rule, svc, translate

A, B = svc("a"), svc("b")


def _rules(result):  # (host, path, type, service)
    return [(r.host, r.path, r.path_type.value, r.backend.service) for r in result.spec.rules]


def test_rules_become_l7_rules_with_node_ports_and_an_http_listener() -> None:
    result = translate(ingress([rule("Cafe.Example.", path("/coffee", "Prefix", "a"))]), [A])
    spec = result.spec
    assert result.warnings == ()
    assert spec.ref.kind.value == "Ingress" and spec.is_l7
    [listener] = spec.listeners
    assert (listener.protocol, listener.port, listener.node_port) == (Protocol.HTTP, 80, 0)
    [r] = spec.rules
    assert (r.host, r.path, r.path_type) == ("cafe.example", "/coffee", PathType.PREFIX)
    assert (r.backend.service, r.backend.port, r.backend.node_port) == ("default/a", 80, 30001)
    assert [b.node_name for b in spec.backends] == ["node-a", "node-b"]
    assert spec.default_backend is None and spec.tls == () and not spec.https_redirect


@pytest.mark.parametrize(("paths", "expected"), [
    # Exact before Prefix, longest first, within one host
    ([("/", "Prefix"), ("/foo", "Prefix"), ("/foo", "Exact"), ("/foo/bar", "Prefix")],
     [("/foo", "Exact"), ("/foo/bar", "Prefix"), ("/foo", "Prefix"), ("/", "Prefix")]),
    # ImplementationSpecific and no pathType are Prefix; a trailing slash of a Prefix goes
    ([("/x/", "ImplementationSpecific"), ("/yy", None)],
     [("/yy", "Prefix"), ("/x", "Prefix")]),
    # an Exact path keeps its trailing slash; no path is "/"
    ([("/a/", "Exact"), (None, "Prefix")], [("/a/", "Exact"), ("/", "Prefix")]),
], ids=["exact-first-longest-first", "implementation-specific-is-prefix", "exact-keeps-slash"])
def test_paths_are_normalised_and_ordered(paths, expected) -> None:
    result = translate(ingress([rule("h", *[path(p, t, "a") for p, t in paths])]), [A])
    assert [(r.path, r.path_type.value) for r in result.spec.rules] == expected


def test_hosts_order_exact_then_wildcards_longest_first_then_any() -> None:
    result = translate(ingress([
        rule(None, path("/", "Prefix", "a")),
        rule("*.example.com", path("/", "Prefix", "a")),
        rule("*.a.example.com", path("/", "Prefix", "a")),
        rule("www.example.com", path("/", "Prefix", "b")),
    ]), [A, B])
    assert [r.host for r in result.spec.rules] == [
        "www.example.com", "*.a.example.com", "*.example.com", ""]


def test_a_backend_port_by_name_resolves_to_its_number_and_node_port() -> None:
    service = svc("a", ports=[{"name": "metrics", "port": 9100, "nodePort": 31100},
                              {"name": "web", "port": 8080, "nodePort": 31080}])
    [r] = translate(ingress([rule("h", path("/", "Prefix", "a", "web"))]), [service]).spec.rules
    assert (r.backend.port, r.backend.node_port) == (8080, 31080)


def test_default_backend_and_no_default() -> None:
    spec = translate(ingress([], default="b"), [B]).spec
    assert spec.default_backend is not None and spec.default_backend.service == "default/b"
    assert translate(ingress([rule("h", path("/", "Prefix", "a"))]), [A]).spec.default_backend is None


@pytest.mark.parametrize(("service", "expected"), [
    (svc("a"), (HealthCheckProtocol.HTTP, 30001, "/")),
    (svc("a", annotations={"cloud-lb.io/health-check-path": "/ready"}),
     (HealthCheckProtocol.HTTP, 30001, "/ready")),
    (svc("a", externalTrafficPolicy="Local", healthCheckNodePort=32000),
     (HealthCheckProtocol.HTTP, 32000, "/healthz")),
], ids=["node-port-root", "annotated-path", "local-policy"])
def test_health_check_per_backend_service(service, expected) -> None:
    [r] = translate(ingress([rule("h", path("/", "Prefix", "a"))]), [service]).spec.rules
    hc = r.backend.health_check
    assert (hc.protocol, hc.port, hc.path) == expected


def test_the_ingress_annotation_sets_the_health_check_path_of_its_backends() -> None:
    ing = ingress([rule("h", path("/", "Prefix", "a"))],
                  annotations={"cloud-lb.io/health-check-path": "/up"})
    assert translate(ing, [A]).spec.rules[0].backend.health_check.path == "/up"


def test_a_missing_service_or_port_drops_its_rules_with_a_warning_and_keeps_the_rest() -> None:
    result = translate(ingress([rule("h", path("/a", "Prefix", "a"), path("/gone", "Prefix", "gone"),
                                     path("/b", "Prefix", "a", 81))]), [A])
    assert _rules(result) == [("h", "/a", "Prefix", "default/a")]
    fields = [w.field for w in result.warnings]
    assert fields == ["spec.rules[0].http.paths[1].backend.service.name",
                      "spec.rules[0].http.paths[2].backend.service.port"]
    assert "default/gone does not exist" in str(result.warnings[0])


@pytest.mark.parametrize(("service", "field", "words"), [
    (svc("a", type_="ClusterIP", ports=[{"name": "http", "port": 80}]),
     "spec.rules[0].http.paths[0].backend.service.name", "NodePort"),
    (svc("a", type_="ExternalName", ports=[{"name": "http", "port": 80}]),
     "spec.rules[0].http.paths[0].backend.service.name", "NodePort"),
    (svc("a", ports=[{"name": "http", "port": 80, "protocol": "UDP", "nodePort": 30001}]),
     "spec.rules[0].http.paths[0].backend.service.port", "TCP"),
    (svc("a", type_="LoadBalancer", ports=[{"name": "http", "port": 80}]),
     "spec.rules[0].http.paths[0].backend.service.port", "nodePort"),
], ids=["cluster-ip", "external-name", "udp-port", "no-node-port"])
def test_backends_that_cannot_carry_l7_traffic_are_invalid(service, field, words) -> None:
    with pytest.raises(IngressTranslationError) as info:
        translate(ingress([rule("h", path("/", "Prefix", "a"))]), [service])
    assert info.value.field == field and words in info.value.message
    assert info.value.reason == "InvalidIngressSpec"


def test_conflicting_rules_are_an_error_and_identical_duplicates_merge() -> None:
    with pytest.raises(IngressTranslationError) as info:
        translate(ingress([rule("h", path("/x", "Prefix", "a")),
                           rule("h", path("/x/", "Prefix", "b"))]), [A, B])
    assert info.value.field == "spec.rules[1].http.paths[0].path"
    assert "spec.rules[0].http.paths[0]" in info.value.message
    same = translate(ingress([rule("h", path("/x", "Prefix", "a")),
                              rule("H", path("/x", "ImplementationSpecific", "a"))]), [A])
    assert len(same.spec.rules) == 1
    # the same path as Exact and as Prefix is no conflict
    both = translate(ingress([rule("h", path("/x", "Prefix", "a"), path("/x", "Exact", "b"))]), [A, B])
    assert _rules(both) == [("h", "/x", "Exact", "default/b"), ("h", "/x", "Prefix", "default/a")]


@pytest.mark.parametrize(("ing", "field"), [
    (ingress([rule("h", path("foo", "Prefix", "a"))]), "spec.rules[0].http.paths[0].path"),
    (ingress([rule("h", path("/", "Regex", "a"))]), "spec.rules[0].http.paths[0].pathType"),
    (ingress([rule("h", {"path": "/", "pathType": "Prefix",
                         "backend": {"resource": {"kind": "Bucket", "name": "b"}}})]),
     "spec.rules[0].http.paths[0].backend.resource"),
    (ingress([rule("h", {"path": "/", "pathType": "Prefix",
                         "backend": {"service": {"name": "a", "port": {}}}})]),
     "spec.rules[0].http.paths[0].backend.service.port"),
    (ingress([rule("h", path("/", "Prefix", "a"))],
             annotations={"cloud-lb.io/ssl-redirect": "yes"}),
     "metadata.annotations[cloud-lb.io/ssl-redirect]"),
], ids=["relative-path", "unknown-path-type", "resource-backend", "no-port", "bad-redirect"])
def test_bad_input_names_its_field(ing, field) -> None:
    with pytest.raises(IngressTranslationError) as info:
        translate(ing, [A])
    assert info.value.field == field


def test_a_provider_without_l7_refuses_ingresses() -> None:
    with pytest.raises(TranslationError) as info:
        translate(ingress([rule("h", path("/", "Prefix", "a"))]), [A], capabilities=Capabilities())
    assert "'l7'" in info.value.message


def test_tls_from_secrets_adds_https_and_merges_hosts_per_secret() -> None:
    cert, key = self_signed(["a.example", "b.example"])
    ing = ingress([rule("a.example", path("/", "Prefix", "a"))],
                  tls=[{"hosts": ["A.example"], "secretName": "site"},
                       {"hosts": ["b.example", "a.example"], "secretName": "site"}],
                  annotations={"cloud-lb.io/ssl-redirect": "true"})
    result = translate(ing, [A], [pem_secret("site", cert, key)])
    spec = result.spec
    assert [(li.protocol, li.port) for li in spec.listeners] == [(Protocol.HTTP, 80),
                                                                 (Protocol.HTTPS, 443)]
    [tls] = spec.tls
    assert (tls.name, tls.hosts, tls.cert_pem) == ("site", ("a.example", "b.example"), cert)
    assert spec.https_redirect and result.warnings == ()
    assert key not in repr(spec)


@pytest.mark.parametrize(("secrets", "words"), [
    ([], "does not exist"),
    ([pem_secret("site", "x", "y", type_="Opaque")], "of type 'Opaque'"),
    ([pem_secret("site", "not a cert", "not a key")], "no PEM certificate"),
    ([{"metadata": {"name": "site"}, "type": "kubernetes.io/tls", "data": {"tls.crt": "%%%"}}],
     "no base64"),
], ids=["missing", "wrong-type", "not-pem", "bad-base64"])
def test_an_unusable_secret_is_a_warning_http_is_still_served_and_no_redirect(secrets, words) -> None:
    ing = ingress([rule("a.example", path("/", "Prefix", "a"))],
                  tls=[{"hosts": ["a.example"], "secretName": "site"}],
                  annotations={"cloud-lb.io/ssl-redirect": "true"})
    result = translate(ing, [A], secrets)
    assert [li.protocol for li in result.spec.listeners] == [Protocol.HTTP]
    assert result.spec.tls == () and not result.spec.https_redirect
    assert len(result.spec.rules) == 1
    assert words in str(result.warnings[0]) and result.warnings[0].field == "spec.tls[0].secretName"
    assert any("redirect" in str(w) for w in result.warnings[1:])


def test_listener_ports_come_from_the_settings_and_errors_pickle() -> None:
    from cloud_lb.translate.ingress_class import IngressSettings
    spec = translate(ingress([rule("h", path("/", "Prefix", "a"))]), [A],
                     ingress_settings=IngressSettings(http_port=8080, https_port=8443)).spec
    assert spec.listeners[0].port == 8080
    err = IngressTranslationError("m", field="f")
    again = pickle.loads(pickle.dumps(err))
    assert str(again) == "f: m" and again.reason == "InvalidIngressSpec"
