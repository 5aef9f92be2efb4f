"""The fake OpenStack answers openstacksdk as the real services do (shapes, errors,
asynchronous provisioning), because the provider tests are only as good as it is."""

from __future__ import annotations

import threading

import openstack
import pytest
from openstack import exceptions as os_exc

from cloud_lb.testing.fakeopenstack import FakeOpenStack, Fault


@pytest.fixture
def conn(fake: FakeOpenStack):
    connection = openstack.connect(**fake.cloud_config())
    yield connection
    connection.close()


def _graph(fake: FakeOpenStack, **extra):
    return dict(name="lb", vip_subnet_id=fake.private_subnet["id"], listeners=[{
        "name": "l80", "protocol": "TCP", "protocol_port": 80,
        "default_pool": {"name": "p80", "protocol": "TCP", "lb_algorithm": "ROUND_ROBIN",
                         "members": [{"address": "10.0.5.1", "protocol_port": 30080}],
                         "healthmonitor": {"type": "TCP", "delay": 5, "timeout": 3,
                                           "max_retries": 2}}}], **extra)


def test_fully_populated_create_is_pending_then_active(fake: FakeOpenStack, conn) -> None:
    fake.set_provisioning_delay(10)
    lb = conn.load_balancer.create_load_balancer(**_graph(fake))
    assert lb.provisioning_status == "PENDING_CREATE"
    assert lb.listeners[0]["name"] == "l80" and lb.pools[0]["members"][0]["address"] == \
        "10.0.5.1"
    with pytest.raises(os_exc.ConflictException) as caught:
        conn.load_balancer.update_load_balancer(lb.id, description="x")
    assert caught.value.details == f"Load Balancer {lb.id} is immutable and cannot be updated."
    fake.advance(10)
    assert conn.load_balancer.get_load_balancer(lb.id).provisioning_status == "ACTIVE"
    [pool] = conn.load_balancer.pools(loadbalancer_id=lb.id)
    [member] = conn.load_balancer.members(pool.id)
    assert (member.provisioning_status, member.operating_status) == ("ACTIVE", "ONLINE")


def test_batch_member_update_adds_updates_and_removes(fake: FakeOpenStack, conn) -> None:
    lb = conn.load_balancer.create_load_balancer(**_graph(fake))
    [pool] = conn.load_balancer.pools(loadbalancer_id=lb.id)
    response = conn.load_balancer.put(f"/lbaas/pools/{pool.id}/members", json={"members": [
        {"address": "10.0.5.1", "protocol_port": 30080, "weight": 5},
        {"address": "10.0.5.2", "protocol_port": 30080}]})
    assert response.status_code == 202
    got = {(m.address, m.weight) for m in conn.load_balancer.members(pool.id)}
    assert got == {("10.0.5.1", 5), ("10.0.5.2", 1)}
    conn.load_balancer.put(f"/lbaas/pools/{pool.id}/members", json={"members": []})
    assert list(conn.load_balancer.members(pool.id)) == []


def test_octavia_rejects_what_octavia_rejects(fake: FakeOpenStack, conn) -> None:
    lb = conn.load_balancer.create_load_balancer(**_graph(fake))
    with pytest.raises(os_exc.ConflictException, match="already using protocol TCP and "
                                                       "protocol_port 80"):
        conn.load_balancer.create_listener(loadbalancer_id=lb.id, protocol="TCP",
                                           protocol_port=80)
    with pytest.raises(os_exc.BadRequestException, match="it has children"):
        conn.load_balancer.delete_load_balancer(lb.id)
    udp = conn.load_balancer.create_listener(loadbalancer_id=lb.id, protocol="UDP",
                                             protocol_port=80)
    pool = conn.load_balancer.create_pool(listener_id=udp.id, protocol="UDP",
                                          lb_algorithm="ROUND_ROBIN")
    with pytest.raises(os_exc.BadRequestException, match="UDP-CONNECT/TCP/HTTP"):
        conn.load_balancer.create_health_monitor(pool_id=pool.id, type="PING", delay=5,
                                                 timeout=3, max_retries=2)
    with pytest.raises(os_exc.BadRequestException, match="Validation failure: VIP must"):
        conn.load_balancer.create_load_balancer(name="novip")
    with pytest.raises(os_exc.NotFoundException, match="Load Balancer nope not found."):
        conn.load_balancer.get_load_balancer("nope")


def test_octavia_quota_is_a_403_with_its_message(fake: FakeOpenStack, conn) -> None:
    fake.set_quota(member=0)
    with pytest.raises(os_exc.ForbiddenException) as caught:
        conn.load_balancer.create_load_balancer(**_graph(fake))
    assert caught.value.details == "Quota has been met for resources: Member"
    assert list(conn.load_balancer.load_balancers()) == []


def test_cascade_delete_removes_the_tree_and_detaches_floating_ips(fake: FakeOpenStack,
                                                                   conn) -> None:
    lb = conn.load_balancer.create_load_balancer(**_graph(fake))
    fip = conn.network.create_ip(floating_network_id=fake.public_network["id"],
                                 port_id=lb.vip_port_id, tags=["mine"])
    assert fip.fixed_ip_address == lb.vip_address
    conn.load_balancer.delete_load_balancer(lb.id, cascade=True)
    assert list(conn.load_balancer.load_balancers()) == []
    assert fake.resources("members") == [] and fake.resources("healthmonitors") == []
    assert conn.network.find_port(lb.vip_port_id) is None
    detached = conn.network.get_ip(fip.id)
    assert (detached.port_id, detached.tags) == (None, ["mine"])


def test_neutron_errors_and_tag_filters(fake: FakeOpenStack, conn) -> None:
    net = fake.public_network["id"]
    first = conn.network.create_ip(floating_network_id=net, tags=["a", "b"])
    conn.network.create_ip(floating_network_id=net, tags=["a"])
    assert [f.id for f in conn.network.ips(tags="a,b")] == [first.id]
    assert len(list(conn.network.ips(any_tags="b,a"))) == 2
    with pytest.raises(os_exc.ConflictException, match="already allocated"):
        conn.network.create_ip(floating_network_id=net,
                               floating_ip_address=first.floating_ip_address)
    with pytest.raises(os_exc.BadRequestException, match="not a valid external network"):
        conn.network.create_ip(floating_network_id=fake.private_network["id"])
    with pytest.raises(os_exc.BadRequestException, match="exceeds maximum length of 60"):
        conn.network.create_ip(floating_network_id=net, tags=["x" * 61])
    fake.set_quota(floatingip=2)
    with pytest.raises(os_exc.ConflictException, match=r"Quota exceeded for resources: "
                                                       r"\['floatingip'\]"):
        conn.network.create_ip(floating_network_id=net)
    sg = conn.network.create_security_group(name="sg")
    conn.network.create_security_group_rule(security_group_id=sg.id, direction="ingress",
                                            protocol="tcp", port_range_min=80,
                                            port_range_max=80)
    assert len(conn.network.get_security_group(sg.id).security_group_rules) == 1


def test_nova_servers_carry_their_addresses(fake: FakeOpenStack, conn) -> None:
    server = fake.add_server("node-a", "10.0.3.3")
    [listed] = list(conn.compute.servers())
    assert (listed.id, listed.name) == (server["id"], "node-a")
    assert listed.addresses["k8s-private"][0]["addr"] == "10.0.3.3"


def test_faults_answer_in_the_services_format(fake: FakeOpenStack, conn) -> None:
    fake.inject(Fault(status=429, service="load-balancer", retry_after=3))
    with pytest.raises(os_exc.HttpException) as caught:
        list(conn.load_balancer.load_balancers())
    assert caught.value.status_code == 429
    assert caught.value.response.headers["Retry-After"] == "3"
    assert list(conn.load_balancer.load_balancers()) == []  # times=1: gone


def test_call_log_names_routes(fake: FakeOpenStack, conn) -> None:
    conn.load_balancer.create_load_balancer(**_graph(fake))
    summary = fake.calls.summary()
    assert summary["POST load-balancer /v2/lbaas/loadbalancers"] == 1
    assert fake.calls.count(mutating=True) == 1


def test_stop_leaves_no_thread_behind() -> None:
    before = set(threading.enumerate())
    with FakeOpenStack() as fake:
        conn = openstack.connect(**fake.cloud_config())
        list(conn.network.networks())  # a kept-alive connection is open now
    conn.close()
    assert set(threading.enumerate()) - before == set()
