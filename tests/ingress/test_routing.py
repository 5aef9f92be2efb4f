"""Ingresses through the controller and the local L7 proxy, with real HTTP requests."""

from __future__ import annotations

from tests.controller.conftest import cluster  # noqa: F401 - the fixture
from tests.ingress.conftest import FINALIZER, IngressHarness, rule, wait_until


def test_two_hosts_and_two_paths_route_to_their_services_and_the_rest_gets_404(
        ingress_harness: IngressHarness) -> None:
    h = ingress_harness
    h.create_class()
    for name in ("coffee", "tea", "juice"):
        h.backend_service(name)
    h.create_ingress("cafe", [
        rule("cafe.example", ("/coffee", "Prefix", "coffee"), ("/tea", "Exact", "tea")),
        rule("shop.example", ("/", "Prefix", "juice"), ("/tea", "Prefix", "tea")),
    ])
    address = h.ingress_address("cafe")
    wait_until(lambda: h.routed(address, "cafe.example", "/coffee") == "default/coffee",
               message="the first route to answer")
    assert h.routed(address, "cafe.example", "/coffee/beans") == "default/coffee"
    assert h.routed(address, "cafe.example", "/coffeebeans") == "404"
    assert h.routed(address, "cafe.example", "/tea") == "default/tea"
    assert h.routed(address, "cafe.example", "/tea/green") == "404"  # Exact
    assert h.routed(address, "shop.example", "/tea/green") == "default/tea"
    assert h.routed(address, "shop.example", "/anything") == "default/juice"
    assert h.routed(address, "elsewhere.example", "/coffee") == "404"
    ing = h.ingress("cafe")
    assert FINALIZER in ing.metadata.finalizers
    point = ing.status.load_balancer.ingress[0]
    assert point.ip == address and point.hostname is None
    h.settle()
    assert "EnsuredLoadBalancer" in h.reasons("cafe")
