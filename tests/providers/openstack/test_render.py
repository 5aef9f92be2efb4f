"""Rendering a spec into the Octavia tree we want: pure data, tested as data."""

from __future__ import annotations

import dataclasses

import pytest

from cloud_lb.model import HealthCheck, HealthCheckProtocol, IPFamily, Protocol, TrafficPolicy
from cloud_lb.provider import InvalidSpecError
from providers.openstack import annotations as a
from providers.openstack import naming
from providers.openstack.config import HealthMonitorConfig, OpenStackConfig
from providers.openstack.render import Placement, render
from tests.providers.openstack.conftest import listener, local_check

CONFIG = OpenStackConfig(subnet_id="sub-vip")
PLACEMENT = Placement(vip_subnet_id="sub-vip", member_subnet_id="sub-nodes")


def rendered(spec, config=CONFIG, placement=PLACEMENT):
    return render(spec, a.parse(spec), config, placement)


def test_one_listener_pool_monitor_per_port_with_every_node_as_member(spec_for) -> None:
    desired = rendered(spec_for(nodes=3))
    assert [(li.protocol, li.protocol_port) for li in desired.listeners] == [
        ("TCP", 80), ("TCP", 443), ("UDP", 53)]
    for li, node_port in zip(desired.listeners, (30080, 30443, 30053), strict=True):
        assert li.pool.lb_algorithm == "ROUND_ROBIN"
        assert [(m.address, m.protocol_port, m.subnet_id) for m in li.pool.members] == [
            (f"10.0.5.{10 + i}", node_port, "sub-nodes") for i in range(3)]
        assert li.allowed_cidrs is None


def test_cluster_policy_checks_kube_proxy_over_http_by_default(spec_for) -> None:
    desired = rendered(spec_for())
    for li in desired.listeners:
        monitor = li.pool.monitor
        assert (monitor.type, monitor.url_path, monitor.http_method) == ("HTTP", "/healthz", "GET")
        assert {m.monitor_port for m in li.pool.members} == {10256}


def test_cluster_policy_tcp_checks_the_node_port_per_protocol(spec_for) -> None:
    """TCP connect for TCP, UDP-CONNECT for UDP: the node port itself, no monitor_port."""
    config = CONFIG.model_copy(update={"health_monitor": HealthMonitorConfig(
        cluster_policy="tcp")})
    desired = rendered(spec_for(), config)
    assert [li.pool.monitor.type for li in desired.listeners] == ["TCP", "TCP", "UDP-CONNECT"]
    assert all(m.monitor_port is None for li in desired.listeners for m in li.pool.members)
    assert all(li.pool.monitor.url_path is None for li in desired.listeners)


def test_local_policy_checks_health_check_node_port_over_http(spec_for) -> None:
    check = local_check(32111)
    spec = spec_for(traffic_policy=TrafficPolicy.LOCAL,
                    listeners=(listener(80, 30080, check=check),
                               listener(53, 30053, Protocol.UDP, check=check)))
    config = CONFIG.model_copy(update={"health_monitor": HealthMonitorConfig(
        cluster_policy="tcp")})  # the Cluster setting does not apply to Local
    for li in rendered(spec, config).listeners:
        assert (li.pool.monitor.type, li.pool.monitor.url_path) == ("HTTP", "/healthz")
        assert {m.monitor_port for m in li.pool.members} == {32111}


def test_monitor_timing_comes_from_spec_then_config_then_annotations(spec_for) -> None:
    check = HealthCheck(protocol=HealthCheckProtocol.HTTP, port=10256, interval_seconds=7,
                        timeout_seconds=4, healthy_threshold=2, unhealthy_threshold=6)
    spec = spec_for(listeners=(listener(80, 30080, check=check),))
    monitor = rendered(spec).listeners[0].pool.monitor
    assert (monitor.delay, monitor.timeout, monitor.max_retries, monitor.max_retries_down) == (
        7, 4, 2, 6)
    config = CONFIG.model_copy(update={"health_monitor": HealthMonitorConfig(
        delay=9, max_retries=3)})
    monitor = rendered(spec, config).listeners[0].pool.monitor
    assert (monitor.delay, monitor.timeout, monitor.max_retries) == (9, 4, 3)
    spec = spec_for(listeners=(listener(80, 30080, check=check),),
                    options={a.HM_DELAY: "20", a.HM_TIMEOUT: "10", a.HM_MAX_RETRIES: "5",
                             a.HM_MAX_RETRIES_DOWN: "2"})
    monitor = rendered(spec, config).listeners[0].pool.monitor
    assert (monitor.delay, monitor.timeout, monitor.max_retries, monitor.max_retries_down) == (
        20, 10, 5, 2)


def test_health_monitor_can_be_disabled_per_service_or_by_config(spec_for) -> None:
    spec = spec_for(options={a.ENABLE_HEALTH_MONITOR: "false"})
    assert all(li.pool.monitor is None for li in rendered(spec).listeners)
    config = CONFIG.model_copy(update={"health_monitor": HealthMonitorConfig(enabled=False)})
    assert all(li.pool.monitor is None for li in rendered(spec_for(), config).listeners)
    assert all(m.monitor_port is None for li in rendered(spec_for(), config).listeners
               for m in li.pool.members)


def test_source_ranges_become_sorted_allowed_cidrs(spec_for) -> None:
    spec = spec_for(source_ranges=("192.0.2.0/24", "10.0.0.0/8"))
    assert {li.allowed_cidrs for li in rendered(spec).listeners} == {
        ("10.0.0.0/8", "192.0.2.0/24")}


def test_source_ranges_of_the_other_family_only_are_refused_not_opened(spec_for) -> None:
    """Dropping every range would open the load balancer to the world: refuse instead."""
    with pytest.raises(InvalidSpecError):
        rendered(spec_for(source_ranges=("2001:db8::/32",)))
    spec = spec_for(source_ranges=("2001:db8::/32", "10.0.0.0/8"))
    assert rendered(spec).listeners[0].allowed_cidrs == ("10.0.0.0/8",)
    v6 = spec_for(source_ranges=("2001:db8::/32",), ip_families=(IPFamily.IPV6,))
    assert rendered(v6).listeners[0].allowed_cidrs == ("2001:db8::/32",)


def test_proxy_protocol_sets_the_pool_protocol(spec_for) -> None:
    tcp = (listener(80, 30080), listener(443, 30443))
    for value, protocol in (("true", "PROXY"), ("v2", "PROXYV2")):
        desired = rendered(spec_for(listeners=tcp, options={a.PROXY_PROTOCOL: value}))
        assert [(li.protocol, li.pool.protocol) for li in desired.listeners] == [
            ("TCP", protocol)] * 2


def test_x_forwarded_for_makes_http_listeners_that_insert_the_header(spec_for) -> None:
    desired = rendered(spec_for(listeners=(listener(80, 30080),),
                                options={a.X_FORWARDED_FOR: "true"}))
    li = desired.listeners[0]
    assert (li.protocol, li.pool.protocol) == ("HTTP", "HTTP")
    assert li.body([])["insert_headers"] == {"X-Forwarded-For": "true"}


def test_listener_annotations_set_timeouts_and_connection_limit(spec_for) -> None:
    spec = spec_for(options={a.TIMEOUT_CLIENT_DATA: "1000", a.TIMEOUT_MEMBER_CONNECT: "2000",
                             a.TIMEOUT_MEMBER_DATA: "3000", a.TIMEOUT_TCP_INSPECT: "4",
                             a.CONNECTION_LIMIT: "500", a.LB_METHOD: "SOURCE_IP"})
    li = rendered(spec).listeners[0]
    assert dict(li.timeouts) == {"timeout_client_data": 1000, "timeout_member_connect": 2000,
                                 "timeout_member_data": 3000, "timeout_tcp_inspect": 4}
    assert li.connection_limit == 500
    assert li.pool.lb_algorithm == "SOURCE_IP"


def test_create_body_is_the_whole_tree_with_names_and_tags(spec_for) -> None:
    spec = spec_for(nodes=2)
    body = rendered(spec, placement=dataclasses.replace(PLACEMENT, flavor_id="fl")).create_body()
    assert body["name"] == "kube_service_prod_default_web"
    assert body["vip_subnet_id"] == "sub-vip" and body["flavor_id"] == "fl"
    assert set(body["tags"]) == set(naming.lb_tags(spec.ref))
    assert len(body["listeners"]) == 3
    for li in body["listeners"]:
        pool = li["default_pool"]
        assert len(pool["members"]) == 2 and pool["healthmonitor"]["type"] == "HTTP"
        assert li["tags"] == pool["tags"] == naming.child_tags(spec.ref)


def test_services_without_node_ports_are_refused(spec_for) -> None:
    with pytest.raises(InvalidSpecError):
        rendered(spec_for(listeners=(listener(80, 0),)))
