"""Services through the controller and the local load balancer, with real traffic."""

from __future__ import annotations

from cloud_lb.translate.predicates import FINALIZER
from tests.controller.conftest import Harness, http_get, node_of, udp_ask, wait_until


def test_a_new_service_gets_an_address_that_carries_traffic_to_every_node(harness: Harness) -> None:
    harness.create_service("web")
    address = harness.address("web")
    svc = harness.service("web")
    assert FINALIZER in svc.metadata.finalizers
    assert svc.status.load_balancer.ingress[0].ip_mode == "Proxy"
    assert address.startswith("127.240.")
    nodes = {n.name for n in harness.cluster.nodes}
    wait_until(lambda: harness.answering_nodes(address) == nodes, 15,
               message="every node to answer through the load balancer")
    harness.settle()
    assert "EnsuredLoadBalancer" in harness.reasons("web")


def test_changing_adding_and_removing_ports_moves_the_listeners(harness: Harness) -> None:
    harness.create_service("ports")
    address = harness.address("ports")
    wait_until(lambda: node_of(http_get(address, 8000)), message="port 8000 to answer")
    harness.patch("ports", {"spec": {"ports": [
        {"name": "http", "port": 8001, "targetPort": 8001},
        {"name": "extra", "port": 8002, "targetPort": 8002}]}}, replace_lists=True)
    wait_until(lambda: node_of(http_get(address, 8001)) and node_of(http_get(address, 8002)),
               message="the new ports to answer")
    wait_until(lambda: http_get(address, 8000) == "refused", message="the old port to close")
    harness.patch("ports", {"spec": {"ports": [{"name": "extra", "port": 8002, "targetPort": 8002}]}},
                  replace_lists=True)
    wait_until(lambda: http_get(address, 8001) == "refused", message="the removed port to close")
    assert node_of(http_get(address, 8002))
    assert harness.address("ports") == address  # same load balancer throughout


def test_udp_datagrams_reach_a_node_and_come_back(harness: Harness) -> None:
    harness.create_service("dns", ports=[{"name": "dns", "port": 5353, "protocol": "UDP",
                                          "targetPort": 5353}])
    address = harness.address("dns")
    answer = wait_until(lambda: (a := udp_ask(address, 5353)) != "no answer" and a, 15,
                        message="a UDP answer")
    assert node_of(answer) in {n.name for n in harness.cluster.nodes}


def test_source_ranges_refuse_other_sources_and_can_be_lifted(harness: Harness) -> None:
    harness.create_service("private", loadBalancerSourceRanges=["127.0.0.1/32"])
    address = harness.address("private")
    wait_until(lambda: node_of(http_get(address, 8000, source="127.0.0.1")), message="allowed source")
    assert http_get(address, 8000, source="127.0.0.2") == "refused"
    harness.patch("private", {"spec": {"loadBalancerSourceRanges": ["127.0.0.2/32"]}})
    wait_until(lambda: http_get(address, 8000, source="127.0.0.1") == "refused",
               message="the old source to be refused")
    assert node_of(http_get(address, 8000, source="127.0.0.2"))
    harness.patch("private", {"spec": {"loadBalancerSourceRanges": None}})
    wait_until(lambda: node_of(http_get(address, 8000, source="127.0.0.1")),
               message="everyone to be allowed again")


def test_local_traffic_policy_sends_traffic_only_to_nodes_with_endpoints(harness: Harness) -> None:
    harness.create_service("local")
    address = harness.address("local")
    target = harness.cluster.nodes[1].name
    harness.cluster.add_endpoint("default", "local", target)
    harness.patch("local", {"spec": {"externalTrafficPolicy": "Local"}})
    wait_until(lambda: harness.answering_nodes(address) == {target}, 20,
               message=f"only {target} to answer")
    harness.patch("local", {"spec": {"externalTrafficPolicy": "Cluster"}})
    everyone = {n.name for n in harness.cluster.nodes}
    wait_until(lambda: harness.answering_nodes(address) == everyone, 20,
               message="every node to answer again")


def test_type_change_away_from_load_balancer_removes_it_and_clears_status(harness: Harness) -> None:
    harness.create_service("shrink")
    address = harness.address("shrink")
    wait_until(lambda: node_of(http_get(address, 8000)), message="traffic")
    harness.patch("shrink", {"spec": {"type": "NodePort"}})
    wait_until(lambda: not (harness.service("shrink").status.load_balancer or {}).ingress
               if harness.service("shrink").status.load_balancer else True,
               message="status cleared")
    wait_until(lambda: FINALIZER not in (harness.service("shrink").metadata.finalizers or []),
               message="finalizer removed")
    assert http_get(address, 8000) == "refused"
    assert harness.provider.list_owned() == []


def test_delete_waits_for_the_load_balancer_then_releases_the_finalizer(harness: Harness) -> None:
    harness.create_service("bye")
    address = harness.address("bye")
    harness.core.delete_namespaced_service("bye", "default")
    wait_until(lambda: harness.service("bye") is None, message="the Service to disappear")
    assert http_get(address, 8000) == "refused"
    assert harness.provider.list_owned() == []
    reasons = harness.reasons("bye")
    assert "DeletingLoadBalancer" in reasons and "DeletedLoadBalancer" in reasons


def test_a_foreign_load_balancer_class_is_never_touched(harness: Harness) -> None:
    before = harness.recorder.mutations()
    harness.create_service("theirs", loadBalancerClass="example.com/other")
    harness.create_service("ours")
    harness.address("ours")
    harness.settle()
    svc = harness.service("theirs")
    assert not svc.metadata.finalizers
    assert not (svc.status.load_balancer and svc.status.load_balancer.ingress)
    assert harness.reasons("theirs") == []
    assert [r.name for r in harness.provider.list_owned()] == ["ours"]
    assert harness.recorder.mutations() > before  # only for "ours"


def test_an_invalid_service_gets_an_event_and_no_load_balancer_and_blocks_no_one(
        harness: Harness) -> None:
    # the API server accepts SCTP; the local provider cannot serve it
    harness.create_service("bad", ports=[{"name": "sig", "port": 3868, "protocol": "SCTP"}])
    harness.create_service("good")
    harness.address("good")
    events = wait_until(lambda: [e for e in harness.events("bad")
                                 if e.reason == "InvalidLoadBalancerSpec"], message="the event")
    assert events[0].type == "Warning"
    assert "spec.ports[0].protocol" in events[0].message
    assert [r.name for r in harness.provider.list_owned()] == ["good"]
    # fixing the input heals it
    harness.patch("bad", {"spec": {"ports": [{"name": "sig", "port": 3868, "protocol": "TCP"}]}},
                  replace_lists=True)
    harness.address("bad")


def test_an_unchanged_resync_makes_zero_provider_mutations(harness: Harness) -> None:
    for name in ("a", "b", "c"):
        harness.create_service(name)
    for name in ("a", "b", "c"):
        harness.address(name)
    harness.settle()
    mutations = harness.recorder.mutations()
    reads = harness.recorder.count(mutating=False)
    harness.controller.resync()
    harness.settle()
    assert harness.recorder.mutations() == mutations
    assert harness.recorder.count(mutating=False) > reads  # it did look (drift check)
