"""What happens to an Ingress's load balancer when the Ingress, its class or its
backends change."""

from __future__ import annotations

from tests.controller.conftest import cluster  # noqa: F401 - the fixture
from tests.ingress.conftest import FINALIZER, IngressHarness, rule, wait_until


def _status_cleared(h: IngressHarness, name: str) -> bool:
    ing = h.ingress(name)
    lb = ing.status.load_balancer if ing and ing.status else None
    return not (lb and lb.ingress)


def test_switching_to_another_class_deletes_the_load_balancer_and_releases_the_ingress(
        ingress_harness: IngressHarness) -> None:
    h = ingress_harness
    h.create_class()
    h.create_class("other", controller="example.com/other")
    h.backend_service("coffee")
    h.create_ingress("moving", [rule(None, ("/", "Prefix", "coffee"))])
    address = h.ingress_address("moving")
    wait_until(lambda: h.routed(address, "any.example", "/") == "default/coffee",
               message="traffic")
    h.patch_ingress("moving", {"spec": {"ingressClassName": "other"}})
    wait_until(lambda: FINALIZER not in (h.ingress("moving").metadata.finalizers or []),
               message="our finalizer to go")
    assert _status_cleared(h, "moving")
    assert h.routed(address, "any.example", "/") is None
    assert h.provider.list_owned() == []
    reasons = h.reasons("moving")
    assert "DeletingLoadBalancer" in reasons and "DeletedLoadBalancer" in reasons


def test_a_deleted_backend_service_drops_its_rules_and_the_rest_is_still_served(
        ingress_harness: IngressHarness) -> None:
    h = ingress_harness
    h.create_class()
    h.backend_service("coffee")
    h.backend_service("tea")
    h.create_ingress("menu", [rule("cafe.example", ("/coffee", "Prefix", "coffee"),
                                   ("/tea", "Prefix", "tea"))])
    address = h.ingress_address("menu")
    wait_until(lambda: h.routed(address, "cafe.example", "/tea") == "default/tea",
               message="tea to answer")
    h.core.delete_namespaced_service("tea", "default")
    wait_until(lambda: h.routed(address, "cafe.example", "/tea") == "404",
               message="the tea rule to go")
    assert h.routed(address, "cafe.example", "/coffee") == "default/coffee"
    events = wait_until(lambda: [e for e in h.events("menu") if e.reason == "InvalidIngressSpec"],
                        message="the warning event")
    assert "default/tea does not exist" in events[0].message
    h.backend_service("tea")  # back again: the index re-syncs the Ingress
    wait_until(lambda: h.routed(address, "cafe.example", "/tea") == "default/tea",
               message="the tea rule to come back")


def test_a_cluster_ip_backend_is_an_invalid_ingress_and_fixing_it_heals(
        ingress_harness: IngressHarness) -> None:
    h = ingress_harness
    h.create_class()
    h.backend_service("internal", type_="ClusterIP")
    h.create_ingress("bad", [rule(None, ("/", "Prefix", "internal"))])
    events = wait_until(lambda: [e for e in h.events("bad") if e.reason == "InvalidIngressSpec"],
                        message="the event")
    assert "NodePort" in events[0].message and events[0].type == "Warning"
    assert h.provider.list_owned() == []
    h.patch("internal", {"spec": {"type": "NodePort"}})
    address = h.ingress_address("bad")
    wait_until(lambda: h.routed(address, "x.example", "/") == "default/internal",
               message="traffic once the Service has node ports")


def test_default_class_legacy_annotation_and_foreign_classes(
        ingress_harness: IngressHarness) -> None:
    h = ingress_harness
    h.create_class(default=True)
    h.create_class("other", controller="example.com/other")
    h.backend_service("coffee")
    h.create_ingress("unclassed", [rule(None, ("/", "Prefix", "coffee"))], class_name=None)
    h.create_ingress("legacy", [rule(None, ("/", "Prefix", "coffee"))], class_name=None,
                     annotations={"kubernetes.io/ingress.class": "cloud-lb"})
    h.create_ingress("theirs", [rule(None, ("/", "Prefix", "coffee"))], class_name="other")
    h.create_ingress("their-legacy", [rule(None, ("/", "Prefix", "coffee"))], class_name=None,
                     annotations={"kubernetes.io/ingress.class": "nginx"})
    h.ingress_address("unclassed")
    h.ingress_address("legacy")
    h.settle()
    for name in ("theirs", "their-legacy"):
        ing = h.ingress(name)
        assert not ing.metadata.finalizers
        assert h.reasons(name) == []
    assert sorted(r.name for r in h.provider.list_owned()) == ["legacy", "unclassed"]


def test_deleting_the_ingress_deletes_its_load_balancer_first(
        ingress_harness: IngressHarness) -> None:
    h = ingress_harness
    h.create_class()
    h.backend_service("coffee")
    h.create_ingress("bye", [rule(None, ("/", "Prefix", "coffee"))])
    address = h.ingress_address("bye")
    h.net.delete_namespaced_ingress("bye", "default")
    wait_until(lambda: h.ingress("bye") is None, message="the Ingress to disappear")
    assert h.routed(address, "x.example", "/") is None
    assert h.provider.list_owned() == []


def test_node_changes_update_backends_only_and_a_resync_changes_nothing(
        ingress_harness: IngressHarness) -> None:
    h = ingress_harness
    h.create_class()
    h.backend_service("coffee")
    h.create_ingress("nodes", [rule(None, ("/", "Prefix", "coffee"))])
    address = h.ingress_address("nodes")
    wait_until(lambda: h.routed(address, "x.example", "/") == "default/coffee", message="traffic")
    h.settle()
    before = h.recorder.mutations()
    h.controller.resync()
    h.settle()
    assert h.recorder.mutations() == before
    h.cluster.add_node("node-9")
    wait_until(lambda: h.recorder.count(operation="set_backends") > 1, message="new backends")
    h.settle()
    assert h.recorder.mutations() - before == 1  # set_backends, nothing else


def test_a_restarted_controller_serves_the_ingress_again_on_the_same_address(
        ingress_harness: IngressHarness) -> None:
    h = ingress_harness
    h.create_class()
    h.backend_service("coffee")
    ca = h.secret("cafe-tls", ["cafe.example"])
    h.create_ingress("again", [rule("cafe.example", ("/", "Prefix", "coffee"))],
                     tls=[{"hosts": ["cafe.example"], "secretName": "cafe-tls"}])
    address = h.ingress_address("again")
    wait_until(lambda: h.routed(address, "cafe.example", "/") == "default/coffee", message="traffic")
    h.stop()
    assert h.routed(address, "cafe.example", "/") is None  # the listeners died with it
    h.start()
    wait_until(lambda: h.routed(address, "cafe.example", "/") == "default/coffee",
               message="traffic after the restart")
    assert h.get_tls(address, "cafe.example", ca).service == "default/coffee"
    assert h.recorder.count(operation="adopt_address") == 1
    assert h.recorder.count(operation="allocate_address") == 0
