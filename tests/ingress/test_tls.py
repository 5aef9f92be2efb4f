"""TLS termination through the controller: SNI per host, redirect, rotation, a missing
Secret."""

from __future__ import annotations

import pytest

from tests.controller.conftest import cluster  # noqa: F401 - the fixture
from tests.ingress.conftest import HTTPS_PORT, IngressHarness, rule, wait_until


def _tls_reply(h: IngressHarness, address: str, host: str, ca: str, path: str = "/"):
    try:
        return h.get_tls(address, host, ca, path)
    except OSError:
        return None


def test_each_host_gets_its_certificate_by_sni_and_http_is_redirected(
        ingress_harness: IngressHarness) -> None:
    h = ingress_harness
    h.create_class()
    h.backend_service("coffee")
    h.backend_service("tea")
    cafe_ca = h.secret("cafe-tls", ["cafe.example"])
    tea_ca = h.secret("tea-tls", ["*.tea.example"])
    h.create_ingress("secure", [rule("cafe.example", ("/", "Prefix", "coffee")),
                                rule("green.tea.example", ("/", "Prefix", "tea"))],
                     tls=[{"hosts": ["cafe.example"], "secretName": "cafe-tls"},
                          {"hosts": ["*.tea.example"], "secretName": "tea-tls"}],
                     annotations={"cloud-lb.io/ssl-redirect": "true"})
    address = h.ingress_address("secure")
    reply = wait_until(lambda: _tls_reply(h, address, "cafe.example", cafe_ca),
                       message="HTTPS to answer")
    assert reply.status == 200 and reply.service == "default/coffee"
    tea = h.get_tls(address, "green.tea.example", tea_ca)
    assert tea.service == "default/tea"
    # the wrong CA for a host fails verification: each host really got its own certificate
    with pytest.raises(OSError):
        h.get_tls(address, "green.tea.example", cafe_ca)
    redirect = h.get(address, "cafe.example", "/menu?x=1")
    assert redirect.status == 308
    assert redirect.headers["location"] == f"https://cafe.example:{HTTPS_PORT}/menu?x=1"


def test_a_rotated_secret_serves_the_new_certificate_on_the_same_address(
        ingress_harness: IngressHarness) -> None:
    h = ingress_harness
    h.create_class()
    h.backend_service("coffee")
    first = h.secret("cafe-tls", ["cafe.example"])
    h.create_ingress("rotate", [rule("cafe.example", ("/", "Prefix", "coffee"))],
                     tls=[{"hosts": ["cafe.example"], "secretName": "cafe-tls"}])
    address = h.ingress_address("rotate")
    before = wait_until(lambda: _tls_reply(h, address, "cafe.example", first),
                        message="HTTPS with the first certificate")
    h.settle()
    binds = h.recorder.count(operation="bind_listener")
    second = h.secret("cafe-tls", ["cafe.example"])
    after = wait_until(lambda: _tls_reply(h, address, "cafe.example", second),
                       message="HTTPS with the rotated certificate")
    assert after.cert_serial != before.cert_serial
    assert h.ingress_address("rotate") == address
    assert h.recorder.count(operation="bind_listener") == binds  # no socket was rebound
    assert h.recorder.count(operation="set_certificates") >= 2


def test_a_missing_secret_is_an_event_and_http_is_still_served_until_it_appears(
        ingress_harness: IngressHarness) -> None:
    h = ingress_harness
    h.create_class()
    h.backend_service("coffee")
    h.create_ingress("pending", [rule("cafe.example", ("/", "Prefix", "coffee"))],
                     tls=[{"hosts": ["cafe.example"], "secretName": "later-tls"}])
    address = h.ingress_address("pending")
    wait_until(lambda: h.routed(address, "cafe.example", "/") == "default/coffee",
               message="HTTP to answer")
    events = wait_until(lambda: [e for e in h.events("pending")
                                 if e.reason == "InvalidIngressSpec"], message="the warning")
    assert events[0].type == "Warning" and "default/later-tls" in events[0].message
    assert h.routed(address, "cafe.example", "/", port=HTTPS_PORT) is None  # no HTTPS yet
    ca = h.secret("later-tls", ["cafe.example"])
    reply = wait_until(lambda: _tls_reply(h, address, "cafe.example", ca),
                       message="HTTPS once the Secret exists")
    assert reply.service == "default/coffee"
