"""Service defaulting, validation and allocation, as a real apiserver does them."""

from __future__ import annotations

import ipaddress
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from kubernetes import client as k8s

from tests.fakekube.conftest import expect_api_error, service_body

NODE_PORTS = range(30000, 32768)


def _create(core: k8s.CoreV1Api, ns: str, body: dict[str, Any]) -> Any:
    return core.create_namespaced_service(ns, body)


def test_node_ports_under_200_concurrent_creates_are_unique_and_in_range(
        kube: Any, ns: str) -> None:
    api_client = kube.api_client(pool_size=32)
    core = k8s.CoreV1Api(api_client)

    def create(i: int) -> list[int]:
        svc = core.create_namespaced_service(ns, service_body(
            f"s{i}", type_="LoadBalancer", externalTrafficPolicy="Local",
            ports=[{"name": "a", "port": 80}, {"name": "b", "port": 443}]))
        return [p.node_port for p in svc.spec.ports] + [svc.spec.health_check_node_port]

    with ThreadPoolExecutor(max_workers=16) as pool:
        allocated = [port for ports in pool.map(create, range(200)) for port in ports]
    assert len(allocated) == 600
    assert len(set(allocated)) == 600
    assert all(port in NODE_PORTS for port in allocated)
    listed = core.list_namespaced_service(ns).items
    stored = [p.node_port for s in listed for p in s.spec.ports] + [
        s.spec.health_check_node_port for s in listed]
    assert sorted(stored) == sorted(allocated)
    api_client.close()


def test_defaults(core: k8s.CoreV1Api, ns: str) -> None:
    svc = _create(core, ns, {"metadata": {"name": "web"}, "spec": {"ports": [{"port": 80}]}})
    spec = svc.spec
    assert spec.type == "ClusterIP" and spec.session_affinity == "None"
    assert spec.ports[0].protocol == "TCP" and spec.ports[0].target_port == 80
    assert spec.ports[0].node_port is None
    assert ipaddress.ip_address(spec.cluster_ip) in ipaddress.ip_network("10.96.0.0/12")
    assert spec.cluster_ips == [spec.cluster_ip]
    assert spec.ip_families == ["IPv4"] and spec.ip_family_policy == "SingleStack"
    assert spec.internal_traffic_policy == "Cluster" and spec.external_traffic_policy is None
    assert svc.metadata.generation == 1

    lb = _create(core, ns, service_body("lb", type_="LoadBalancer"))
    assert lb.spec.external_traffic_policy == "Cluster"
    assert lb.spec.allocate_load_balancer_node_ports is True
    assert lb.spec.ports[0].node_port in NODE_PORTS
    assert lb.spec.health_check_node_port is None


def test_requested_node_port_that_is_taken_is_422_naming_the_field(core: k8s.CoreV1Api,
                                                                   ns: str) -> None:
    first = _create(core, ns, service_body("a", type_="NodePort"))
    taken = first.spec.ports[0].node_port
    body = service_body("b", type_="NodePort", ports=[{"name": "x", "port": 81},
                                                      {"name": "y", "port": 80,
                                                       "nodePort": taken}])
    status = expect_api_error(422, lambda: _create(core, ns, body))
    assert status["reason"] == "Invalid"
    assert status["details"]["causes"] == [{
        "reason": "FieldValueInvalid", "field": "spec.ports[1].nodePort",
        "message": f"Invalid value: {taken}: provided port is already allocated"}]
    assert status["message"] == (f'Service "b" is invalid: spec.ports[1].nodePort: Invalid '
                                 f'value: {taken}: provided port is already allocated')
    # nothing the failed create allocated for port "x" stays taken
    free_again = {p.node_port for s in core.list_namespaced_service(ns).items for p in s.spec.ports
                  if p.node_port}
    assert free_again == {taken}


def test_node_port_out_of_range(core: k8s.CoreV1Api, ns: str) -> None:
    body = service_body("a", type_="NodePort", ports=[{"port": 80, "nodePort": 8080}])
    status = expect_api_error(422, lambda: _create(core, ns, body))
    assert status["details"]["causes"][0]["field"] == "spec.ports[0].nodePort"
    assert "30000-32767" in status["message"]


def test_health_check_node_port_follows_type_and_traffic_policy(core: k8s.CoreV1Api,
                                                                ns: str) -> None:
    svc = _create(core, ns, service_body("web", type_="LoadBalancer",
                                         externalTrafficPolicy="Local"))
    hc = svc.spec.health_check_node_port
    assert hc in NODE_PORTS and hc != svc.spec.ports[0].node_port

    cluster = core.patch_namespaced_service("web", ns, {"spec": {"externalTrafficPolicy":
                                                                 "Cluster"}})
    assert cluster.spec.health_check_node_port is None
    # released: another Service may now ask for it
    _create(core, ns, service_body("other", type_="NodePort",
                                   ports=[{"port": 80, "nodePort": hc}]))

    local = core.patch_namespaced_service("web", ns, {"spec": {"externalTrafficPolicy": "Local"}})
    hc2 = local.spec.health_check_node_port
    assert hc2 in NODE_PORTS and hc2 != hc
    node_port = local.spec.ports[0].node_port
    cluster_ip = core.patch_namespaced_service("web", ns, {"spec": {"type": "ClusterIP"}})
    assert cluster_ip.spec.health_check_node_port is None
    assert cluster_ip.spec.ports[0].node_port is None
    assert cluster_ip.spec.external_traffic_policy is None
    assert cluster_ip.spec.allocate_load_balancer_node_ports is None
    for port in (hc2, node_port):  # both released by the type change
        _create(core, ns, service_body(f"p{port}", type_="NodePort",
                                       ports=[{"port": 80, "nodePort": port}]))


def test_health_check_node_port_only_for_local_load_balancers(core: k8s.CoreV1Api,
                                                              ns: str) -> None:
    body = service_body("web", type_="NodePort", healthCheckNodePort=31000)
    status = expect_api_error(422, lambda: _create(core, ns, body))
    assert status["details"]["causes"][0]["field"] == "spec.healthCheckNodePort"


def test_requested_health_check_node_port_is_honoured(core: k8s.CoreV1Api, ns: str) -> None:
    svc = _create(core, ns, service_body("web", type_="LoadBalancer",
                                         externalTrafficPolicy="Local",
                                         healthCheckNodePort=31999))
    assert svc.spec.health_check_node_port == 31999


def test_allocate_load_balancer_node_ports_false(core: k8s.CoreV1Api, ns: str) -> None:
    svc = _create(core, ns, service_body("web", type_="LoadBalancer",
                                         allocateLoadBalancerNodePorts=False,
                                         ports=[{"name": "a", "port": 80},
                                                {"name": "b", "port": 81, "nodePort": 31500}]))
    assert [p.node_port for p in svc.spec.ports] == [None, 31500]
    status = expect_api_error(422, lambda: _create(core, ns, service_body(
        "cip", allocateLoadBalancerNodePorts=False)))
    assert status["details"]["causes"][0]["field"] == "spec.allocateLoadBalancerNodePorts"


@pytest.mark.parametrize(("spec", "field", "reason"), [
    ({"ports": []}, "spec.ports", "FieldValueRequired"),
    ({"ports": [{"port": 0}]}, "spec.ports[0].port", "FieldValueInvalid"),
    ({"ports": [{"port": 70000}]}, "spec.ports[0].port", "FieldValueInvalid"),
    ({"ports": [{"port": 80, "protocol": "HTTP"}]}, "spec.ports[0].protocol",
     "FieldValueNotSupported"),
    ({"ports": [{"port": 80}, {"port": 81}]}, "spec.ports[0].name", "FieldValueRequired"),
    ({"ports": [{"name": "a", "port": 80}, {"name": "a", "port": 81}]}, "spec.ports[1].name",
     "FieldValueDuplicate"),
    ({"ports": [{"name": "Bad_Name", "port": 80}]}, "spec.ports[0].name", "FieldValueInvalid"),
    ({"ports": [{"name": "a", "port": 80}, {"name": "b", "port": 80}]}, "spec.ports[1]",
     "FieldValueDuplicate"),
    ({"ports": [{"port": 80, "nodePort": 30080}]}, "spec.ports[0].nodePort",
     "FieldValueForbidden"),
    ({"ports": [{"port": 80, "targetPort": "not_a_name"}]}, "spec.ports[0].targetPort",
     "FieldValueInvalid"),
    ({"type": "Magic", "ports": [{"port": 80}]}, "spec.type", "FieldValueNotSupported"),
    ({"type": "LoadBalancer", "ports": [{"port": 80}], "loadBalancerSourceRanges": ["10.0.0.0/8",
                                                                                  "nope"]},
     "spec.loadBalancerSourceRanges[1]", "FieldValueInvalid"),
    ({"ports": [{"port": 80}], "loadBalancerSourceRanges": ["10.0.0.0/8"]},
     "spec.loadBalancerSourceRanges", "FieldValueForbidden"),
    ({"ports": [{"port": 80}], "loadBalancerClass": "example.com/lb"}, "spec.loadBalancerClass",
     "FieldValueForbidden"),
    ({"type": "LoadBalancer", "ports": [{"port": 80}], "loadBalancerClass": "-bad-"},
     "spec.loadBalancerClass", "FieldValueInvalid"),
    ({"ports": [{"port": 80}], "clusterIP": "10.96.0.1"}, "spec.clusterIPs[0]",
     "FieldValueInvalid"),
    ({"ports": [{"port": 80}], "clusterIP": "192.168.0.1"}, "spec.clusterIPs[0]",
     "FieldValueInvalid"),
    ({"type": "LoadBalancer", "ports": [{"port": 80}], "clusterIP": "None"},
     "spec.clusterIPs[0]", "FieldValueInvalid"),
    ({"type": "LoadBalancer", "ports": [{"port": 80}], "externalTrafficPolicy": "Nearby"},
     "spec.externalTrafficPolicy", "FieldValueNotSupported"),
    ({"type": "ExternalName"}, "spec.externalName", "FieldValueRequired"),
    ({"ports": [{"port": 80}], "ipFamilyPolicy": "SingleStack", "ipFamilies": ["IPv4", "IPv6"]},
     "spec.ipFamilies", "FieldValueInvalid"),
])
def test_invalid_specs_are_422_naming_the_field(core: k8s.CoreV1Api, ns: str,
                                                spec: dict[str, Any], field: str,
                                                reason: str) -> None:
    status = expect_api_error(422, lambda: _create(core, ns, {"metadata": {"name": "bad"},
                                                              "spec": spec}))
    assert status["reason"] == "Invalid"
    assert status["message"].startswith('Service "bad" is invalid: ')
    causes = status["details"]["causes"]
    assert (field, reason) in [(c["field"], c["reason"]) for c in causes], causes
    assert status["details"]["kind"] == "Service" and status["details"]["name"] == "bad"


def test_source_ranges_annotation_is_validated_on_load_balancers(core: k8s.CoreV1Api,
                                                                 ns: str) -> None:
    body = service_body("web", type_="LoadBalancer")
    body["metadata"]["annotations"] = {
        "service.beta.kubernetes.io/load-balancer-source-ranges": "10.0.0.0/8, what"}
    status = expect_api_error(422, lambda: _create(core, ns, body))
    assert "load-balancer-source-ranges" in status["details"]["causes"][0]["field"]


def test_load_balancer_class_is_immutable_once_set(core: k8s.CoreV1Api, ns: str) -> None:
    _create(core, ns, service_body("web", type_="LoadBalancer",
                                   loadBalancerClass="example.com/one"))
    status = expect_api_error(422, lambda: core.patch_namespaced_service(
        "web", ns, {"spec": {"loadBalancerClass": "example.com/two"}}))
    assert status["details"]["causes"][0]["field"] == "spec.loadBalancerClass"
    assert "may not change once set" in status["message"]
    # changing the type away drops it; coming back may set a new one
    core.patch_namespaced_service("web", ns, {"spec": {"type": "ClusterIP"}})
    assert core.read_namespaced_service("web", ns).spec.load_balancer_class is None
    again = core.patch_namespaced_service("web", ns, {"spec": {
        "type": "LoadBalancer", "loadBalancerClass": "example.com/two"}})
    assert again.spec.load_balancer_class == "example.com/two"


def test_cluster_ip_is_immutable(core: k8s.CoreV1Api, ns: str) -> None:
    svc = _create(core, ns, service_body("web"))
    other = str(ipaddress.ip_address(svc.spec.cluster_ip) + 1)
    status = expect_api_error(422, lambda: core.patch_namespaced_service(
        "web", ns, {"spec": {"clusterIP": other, "clusterIPs": [other]}}))
    assert "may not change once set" in status["message"]


def test_requested_cluster_ip_and_headless(core: k8s.CoreV1Api, ns: str) -> None:
    assert _create(core, ns, service_body("a", clusterIP="10.96.5.5")).spec.cluster_ip == \
        "10.96.5.5"
    status = expect_api_error(422, lambda: _create(core, ns, service_body(
        "b", clusterIP="10.96.5.5")))
    assert "provided IP is already allocated" in status["message"]
    headless = _create(core, ns, {"metadata": {"name": "h"}, "spec": {"clusterIP": "None"}})
    assert headless.spec.cluster_ip == "None"


def test_dual_stack(core: k8s.CoreV1Api, ns: str) -> None:
    svc = _create(core, ns, service_body("web", ipFamilyPolicy="RequireDualStack"))
    assert svc.spec.ip_families == ["IPv4", "IPv6"]
    assert [ipaddress.ip_address(ip).version for ip in svc.spec.cluster_ips] == [4, 6]


def test_put_without_allocated_values_keeps_them(core: k8s.CoreV1Api, ns: str) -> None:
    svc = _create(core, ns, service_body("web", type_="LoadBalancer",
                                         externalTrafficPolicy="Local",
                                         ports=[{"name": "http", "port": 80}]))
    replaced = core.replace_namespaced_service("web", ns, service_body(
        "web", type_="LoadBalancer", externalTrafficPolicy="Local",
        ports=[{"name": "http", "port": 80}]))
    assert replaced.spec.cluster_ip == svc.spec.cluster_ip
    assert replaced.spec.ports[0].node_port == svc.spec.ports[0].node_port
    assert replaced.spec.health_check_node_port == svc.spec.health_check_node_port


def test_deleting_a_service_releases_its_ports_and_ip(core: k8s.CoreV1Api, ns: str) -> None:
    svc = _create(core, ns, service_body("web", type_="NodePort"))
    port, ip = svc.spec.ports[0].node_port, svc.spec.cluster_ip
    core.delete_namespaced_service("web", ns)
    again = _create(core, ns, service_body("again", type_="NodePort", clusterIP=ip,
                                           ports=[{"port": 80, "nodePort": port}]))
    assert (again.spec.ports[0].node_port, again.spec.cluster_ip) == (port, ip)


def test_strategic_merge_patch_merges_ports_by_port(core: k8s.CoreV1Api, ns: str) -> None:
    _create(core, ns, service_body("web", type_="NodePort",
                                   ports=[{"name": "http", "port": 80}]))
    patched = core.patch_namespaced_service("web", ns, {"spec": {"ports": [
        {"name": "https", "port": 443}]}})
    assert [(p.name, p.port) for p in patched.spec.ports] == [("http", 80), ("https", 443)]
    assert all(p.node_port in NODE_PORTS for p in patched.spec.ports)


def test_status_load_balancer_validation(core: k8s.CoreV1Api, ns: str) -> None:
    _create(core, ns, service_body("web", type_="LoadBalancer"))
    status = expect_api_error(422, lambda: core.patch_namespaced_service_status(
        "web", ns, {"status": {"loadBalancer": {"ingress": [{"ip": "not-an-ip"}]}}}))
    assert status["details"]["causes"][0]["field"] == "status.loadBalancer.ingress[0].ip"
    ok = core.patch_namespaced_service_status("web", ns, {"status": {"loadBalancer": {
        "ingress": [{"hostname": "lb.example.com"}, {"ip": "192.0.2.1", "ipMode": "Proxy"}]}}})
    assert [(i.hostname, i.ip, i.ip_mode) for i in ok.status.load_balancer.ingress] == [
        ("lb.example.com", None, None), (None, "192.0.2.1", "Proxy")]
