"""The diff between the cloud's tree and the wanted one: ordered writes, only where
something differs. Pure."""

from __future__ import annotations

import dataclasses

from cloud_lb.model import Protocol
from providers.openstack import annotations as a
from providers.openstack.config import OpenStackConfig
from providers.openstack.diff import (
    ObservedLB,
    ObservedListener,
    ObservedMember,
    ObservedMonitor,
    ObservedPool,
    diff,
    immutable_conflicts,
    member_steps,
)
from providers.openstack.render import DesiredLB, Placement, render
from tests.providers.openstack.conftest import backends, listener

CONFIG = OpenStackConfig(subnet_id="sub")


def desired_for(spec) -> DesiredLB:
    return render(spec, a.parse(spec), CONFIG, Placement(vip_subnet_id="sub"))


def observed_from(desired: DesiredLB) -> ObservedLB:
    """What the cloud holds right after a fully-populated create of `desired`."""
    listeners, pools = [], []
    for i, li in enumerate(desired.listeners):
        monitor = li.pool.monitor
        pools.append(ObservedPool(
            id=f"pool-{i}", name=li.pool.name, protocol=li.pool.protocol,
            lb_algorithm=li.pool.lb_algorithm,
            members=tuple(ObservedMember(id=f"m-{i}-{j}", name=m.name, address=m.address,
                                         protocol_port=m.protocol_port,
                                         monitor_port=m.monitor_port)
                          for j, m in enumerate(li.pool.members)),
            monitor=None if monitor is None else ObservedMonitor(
                id=f"hm-{i}", name=monitor.name, type=monitor.type, delay=monitor.delay,
                timeout=monitor.timeout, max_retries=monitor.max_retries,
                max_retries_down=monitor.max_retries_down, url_path=monitor.url_path,
                http_method=monitor.http_method, expected_codes=monitor.expected_codes)))
        listeners.append(ObservedListener(
            id=f"li-{i}", name=li.name, protocol=li.protocol, protocol_port=li.protocol_port,
            allowed_cidrs=li.allowed_cidrs, connection_limit=li.connection_limit,
            timeouts=li.timeouts, insert_headers=li.insert_headers,
            default_pool_id=f"pool-{i}"))
    return ObservedLB(id="lb", name=desired.name, tags=desired.tags,
                      provisioning_status="ACTIVE", vip_address="10.0.0.10", vip_port_id="p",
                      vip_subnet_id="sub", vip_network_id="net", flavor_id=None,
                      availability_zone=None, listeners=tuple(listeners), pools=tuple(pools))


def test_an_unchanged_tree_needs_no_write(spec_for) -> None:
    desired = desired_for(spec_for())
    assert diff(observed_from(desired), desired) == []
    assert member_steps(observed_from(desired), desired) == []


def test_a_node_change_is_one_batch_member_update_per_pool(spec_for) -> None:
    spec = spec_for(nodes=3)
    observed = observed_from(desired_for(spec))
    changed = desired_for(dataclasses.replace(spec, backends=backends(5)[2:]))
    steps = diff(observed, changed)
    assert [s.op for s in steps] == ["batch_update_members"] * 3
    assert {s.target for s in steps} == {"pool-0", "pool-1", "pool-2"}
    assert all(len(s.body["members"]) == 3 for s in steps)
    assert [s.target for s in member_steps(observed, changed)] == [s.target for s in steps]
    assert "+2 -2" in str(steps[0].change)


def test_a_new_port_is_one_listener_create_with_its_pool_inside(spec_for) -> None:
    spec = spec_for()
    observed = observed_from(desired_for(spec))
    more = dataclasses.replace(spec, listeners=(*spec.listeners, listener(8443, 31443)))
    steps = diff(observed, desired_for(more))
    assert [s.op for s in steps] == ["create_listener"]
    body = steps[0].body
    assert (body["protocol_port"], body["loadbalancer_id"]) == (8443, "lb")
    assert body["default_pool"]["healthmonitor"]["type"] == "HTTP"
    assert len(body["default_pool"]["members"]) == 3


def test_a_removed_port_deletes_its_listener_then_its_pool(spec_for) -> None:
    spec = spec_for()
    observed = observed_from(desired_for(spec))
    fewer = dataclasses.replace(spec, listeners=spec.listeners[:2])
    steps = diff(observed, desired_for(fewer))
    assert [(s.op, s.target) for s in steps] == [("delete_listener", "li-2"),
                                                 ("delete_pool", "pool-2")]


def test_changed_listener_attributes_are_one_update_with_only_what_changed(spec_for) -> None:
    spec = spec_for()
    observed = observed_from(desired_for(spec))
    ranged = dataclasses.replace(spec, source_ranges=("10.0.0.0/8",),
                                 options=((a.TIMEOUT_CLIENT_DATA, "1000"),))
    steps = diff(observed, desired_for(ranged))
    assert [s.op for s in steps] == ["update_listener"] * 3
    assert steps[0].body == {"allowed_cidrs": ["10.0.0.0/8"], "timeout_client_data": 1000}
    # and back: an empty list clears Octavia's allow-list
    steps = diff(observed_from(desired_for(ranged)), desired_for(spec))
    assert steps[0].body == {"allowed_cidrs": [], "timeout_client_data": 50000}


def test_a_monitor_type_change_replaces_the_monitor(spec_for) -> None:
    spec = spec_for(listeners=(listener(80, 30080),))
    observed = observed_from(desired_for(spec))
    tcp = CONFIG.health_monitor.model_copy(update={"cluster_policy": "tcp"})
    desired = render(spec, a.parse(spec), CONFIG.model_copy(update={"health_monitor": tcp}),
                     Placement(vip_subnet_id="sub"))
    steps = diff(observed, desired)
    assert [s.op for s in steps] == ["delete_health_monitor", "create_health_monitor",
                                     "batch_update_members"]
    assert steps[1].body["type"] == "TCP" and steps[1].body["pool_id"] == "pool-0"


def test_proxy_protocol_toggle_replaces_the_pool_keeps_the_listener(spec_for) -> None:
    spec = spec_for(listeners=(listener(80, 30080),))
    observed = observed_from(desired_for(spec))
    proxied = dataclasses.replace(spec, options=((a.PROXY_PROTOCOL, "true"),))
    steps = diff(observed, desired_for(proxied))
    assert [s.op for s in steps] == ["delete_pool", "create_pool"]
    assert steps[1].body["protocol"] == "PROXY" and steps[1].body["listener_id"] == "li-0"


def test_a_protocol_change_on_a_port_replaces_the_listener(spec_for) -> None:
    spec = spec_for(listeners=(listener(80, 30080),))
    observed = observed_from(desired_for(spec))
    xff = dataclasses.replace(spec, options=((a.X_FORWARDED_FOR, "true"),))
    steps = diff(observed, desired_for(xff))
    assert [s.op for s in steps] == ["delete_listener", "delete_pool", "create_listener"]
    assert steps[2].body["protocol"] == "HTTP"


def test_missing_ownership_tags_are_added_keeping_the_others(spec_for) -> None:
    spec = spec_for(listeners=(listener(80, 30080),))
    desired = desired_for(spec)
    observed = dataclasses.replace(observed_from(desired), tags=("team=a",), name="old")
    steps = diff(observed, desired)
    assert steps[0].op == "update_load_balancer"
    assert steps[0].body == {"tags": ["team=a", *desired.tags], "name": desired.name}


def test_placement_changes_are_conflicts_not_writes(spec_for) -> None:
    desired = desired_for(spec_for())
    observed = dataclasses.replace(observed_from(desired), flavor_id="small")
    wanted = dataclasses.replace(desired, placement=Placement(vip_subnet_id="sub",
                                                              flavor_id="large"))
    assert immutable_conflicts(observed, wanted) == ["flavor_id has small, wants large"]
    assert immutable_conflicts(observed, desired) == []


def test_udp_and_tcp_on_one_port_are_two_listeners(spec_for) -> None:
    spec = spec_for(listeners=(listener(53, 30053), listener(53, 30054, Protocol.UDP)))
    desired = desired_for(spec)
    assert diff(observed_from(desired), desired) == []
