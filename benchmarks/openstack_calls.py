"""Octavia/Neutron API calls: cloud-lb's openstack provider vs. a step-by-step build.

Run: `python -m benchmarks.openstack_calls [--services 100]`. Everything runs against
the in-process fake OpenStack through openstacksdk and counts the HTTP requests that
reached the fake (Keystone excluded). The fake completes provisioning at the next
request, so each "wait for ACTIVE" costs exactly one GET here: on a real cloud waits
poll several times, which widens the gap (the step-by-step build waits far more often).

Step-by-step is how a naive controller (and older OCCM code paths) builds a Service:
create the load balancer, then each listener, pool, member and monitor, waiting for
ACTIVE after each write because Octavia refuses writes while PENDING_*; a node change
deletes and creates members one by one, waiting after each.
"""

from __future__ import annotations

import argparse
import dataclasses
import uuid
from collections.abc import Callable
from typing import Any

from cloud_lb.model import (
    Backend,
    HealthCheck,
    HealthCheckProtocol,
    LBRef,
    Listener,
    LoadBalancerSpec,
    ObjectKind,
    Protocol,
)
from cloud_lb.provider import ProviderContext
from cloud_lb.testing.fakeopenstack import FakeOpenStack

CHECK = HealthCheck(protocol=HealthCheckProtocol.HTTP, port=10256)
PORTS = (Listener("http", Protocol.TCP, 80, 30080, CHECK),
         Listener("https", Protocol.TCP, 443, 30443, CHECK),
         Listener("dns", Protocol.UDP, 53, 30053, CHECK))


def nodes(first: int, count: int) -> tuple[Backend, ...]:
    return tuple(Backend(f"node-{i}", f"10.0.5.{i}") for i in range(first, first + count))


def spec(name: str, backends: tuple[Backend, ...]) -> LoadBalancerSpec:
    ref = LBRef("bench", ObjectKind.SERVICE, "default", name, str(uuid.uuid4()))
    return LoadBalancerSpec(ref=ref, listeners=PORTS, backends=backends)


def counted(fake: FakeOpenStack, action: Callable[[], Any]) -> tuple[int, int]:
    """(all calls, mutating calls) that `action` sent to Octavia and Neutron."""
    fake.calls.reset()
    action()
    return fake.calls.count(), fake.calls.count(mutating=True)


def step_by_step_create(conn: Any, fake: FakeOpenStack, name: str,
                        backends: tuple[Backend, ...]) -> str:
    lb_api = conn.load_balancer

    def wait(lb_id: str) -> None:
        while lb_api.get_load_balancer(lb_id).provisioning_status != "ACTIVE":
            pass

    lb = lb_api.create_load_balancer(name=name, vip_subnet_id=fake.private_subnet["id"])
    wait(lb.id)
    for port in PORTS:
        listener = lb_api.create_listener(loadbalancer_id=lb.id, protocol=port.protocol.value,
                                          protocol_port=port.port)
        wait(lb.id)
        pool = lb_api.create_pool(listener_id=listener.id, protocol=port.protocol.value,
                                  lb_algorithm="ROUND_ROBIN")
        wait(lb.id)
        for b in backends:
            lb_api.create_member(pool, address=b.address, protocol_port=port.node_port,
                                 monitor_port=10256)
            wait(lb.id)
        lb_api.create_health_monitor(pool_id=pool.id, type="HTTP", delay=5, timeout=3,
                                     max_retries=2, url_path="/healthz")
        wait(lb.id)
    conn.network.create_ip(floating_network_id=fake.public_network["id"],
                           port_id=lb.vip_port_id)
    return str(lb.id)


def step_by_step_node_change(conn: Any, lb_id: str, old: tuple[Backend, ...],
                             new: tuple[Backend, ...]) -> None:
    lb_api = conn.load_balancer
    gone = {b.address for b in old} - {b.address for b in new}
    added = [b for b in new if b.address not in {o.address for o in old}]
    for pool in lb_api.pools(loadbalancer_id=lb_id):
        node_port = next(m.protocol_port for m in lb_api.members(pool.id))
        for member in list(lb_api.members(pool.id)):
            if member.address in gone:
                lb_api.delete_member(member, pool)
                while lb_api.get_load_balancer(lb_id).provisioning_status != "ACTIVE":
                    pass
        for b in added:
            lb_api.create_member(pool, address=b.address, protocol_port=node_port,
                                 monitor_port=10256)
            while lb_api.get_load_balancer(lb_id).provisioning_status != "ACTIVE":
                pass


def main() -> None:
    import openstack

    from providers.openstack.provider import OpenStackProvider
    from providers.openstack.testing import fake_config

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--services", type=int, default=100)
    parser.add_argument("--nodes", type=int, default=3)
    args = parser.parse_args()
    before, after = nodes(0, args.nodes), nodes(1, args.nodes)  # one node replaced
    rows = []
    with FakeOpenStack() as fake:
        fake.set_quota(floatingip=-1)
        provider = OpenStackProvider(fake_config(fake), ProviderContext(cluster_name="bench"))
        one = spec("one", before)
        rows.append(("cloud-lb: 3-port Service create", *counted(fake, lambda: provider.ensure(one))))
        rows.append(("cloud-lb: unchanged resync (ensure)",
                     *counted(fake, lambda: provider.ensure(one))))
        rows.append(("cloud-lb: unchanged resync (update_backends)",
                     *counted(fake, lambda: provider.update_backends(one))))
        many = [spec(f"svc-{i}", before) for i in range(args.services)]
        for s in many:
            provider.ensure(s)
        changed = [dataclasses.replace(s, backends=after) for s in many]
        rows.append((f"cloud-lb: node change on {args.services} Services",
                     *counted(fake, lambda: [provider.update_backends(s) for s in changed])))
        provider.close()
    with FakeOpenStack() as fake:
        fake.set_quota(floatingip=-1)
        conn = openstack.connect(**fake.cloud_config())
        holder: dict[str, str] = {}
        rows.append(("step-by-step: 3-port Service create", *counted(
            fake, lambda: holder.update(one=step_by_step_create(conn, fake, "one", before)))))
        ids = [step_by_step_create(conn, fake, f"svc-{i}", before) for i in range(args.services)]
        rows.append((f"step-by-step: node change on {args.services} Services", *counted(
            fake, lambda: [step_by_step_node_change(conn, lb_id, before, after)
                           for lb_id in ids])))
        conn.close()
    width = max(len(r[0]) for r in rows)
    print(f"{'scenario':<{width}}  {'calls':>6}  {'writes':>6}")
    for label, total, writes in rows:
        print(f"{label:<{width}}  {total:>6}  {writes:>6}")


if __name__ == "__main__":
    main()
