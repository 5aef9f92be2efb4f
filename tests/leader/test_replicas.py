"""Two `cloud-lb run` processes (the two replicas of the Deployment) against one fake
cluster, with leader election on: who reconciles is read from the Lease, from each
process's /metrics and from the load balancers that exist (the local provider's state
file and real sockets)."""

from __future__ import annotations

import socket
from pathlib import Path

from kubernetes import client as k8s
from kubernetes.client.exceptions import ApiException

from cloud_lb.testing.fakecluster import FakeCluster
from providers.local.state import StateFile
from tests.leader.conftest import Replicas, lease_holder
from tests.leader.runner import RunProcess, wait_until

NS = "default"
PORT = 8080


def create_service(core: k8s.CoreV1Api, name: str) -> None:
    core.create_namespaced_service(NS, {
        "apiVersion": "v1", "kind": "Service", "metadata": {"name": name},
        "spec": {"type": "LoadBalancer", "selector": {"app": name},
                 "ports": [{"name": "http", "port": PORT, "targetPort": 8080}]}})


def addresses(core: k8s.CoreV1Api, name: str) -> list[str]:
    try:
        svc = core.read_namespaced_service(name, NS)
    except ApiException:
        return []
    ingress = (svc.status.load_balancer.ingress if svc.status.load_balancer else None) or []
    return [i.ip or i.hostname for i in ingress]


def answers(address: str) -> str:
    """The first line a node's kube-proxy simulator answers through the LB, or ''."""
    try:
        with socket.create_connection((address, PORT), timeout=2) as sock:
            sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            data = b""
            while chunk := sock.recv(4096):
                data += chunk
    except OSError:
        return ""
    return data.split(b"\r\n\r\n", 1)[-1].decode(errors="replace")


def elect(replicas: Replicas, a: RunProcess, b: RunProcess) -> tuple[RunProcess, RunProcess]:
    """(leader, standby) once both are ready and one holds the Lease."""
    api = replicas.cluster.kube.api_client()
    for process in (a, b):
        wait_until(process.ready, 30, message=f"pid {process.proc.pid} ready\n{replicas.logs()}")
    holder = wait_until(lambda: lease_holder(api), 15, message="a lease holder")
    by_identity = {a.identity: a, b.identity: b}
    assert holder in by_identity, f"holder {holder!r} is neither replica"
    leader = by_identity[holder]
    return leader, (b if leader is a else a)


def served(core: k8s.CoreV1Api, names: list[str]) -> dict[str, str]:
    """name -> its one address, once every Service has exactly one."""
    found = {n: addresses(core, n) for n in names}
    if all(len(a) == 1 for a in found.values()):
        return {n: a[0] for n, a in found.items()}
    return {}


def test_only_the_leader_reconciles_and_a_killed_leader_is_replaced_without_duplicates(
        cluster: FakeCluster, replicas: Replicas, tmp_path: Path) -> None:
    # one stateDir for both: the local provider's "cloud" is that file plus this host's
    # sockets, shared like a real cloud account, so a duplicate would show in it
    shared = tmp_path / "state"
    a = replicas.start("a", state_dir=shared)
    b = replicas.start("b", state_dir=shared)
    leader, standby = elect(replicas, a, b)
    core = k8s.CoreV1Api(cluster.kube.api_client())
    for name in ("one", "two"):
        create_service(core, name)
    before = wait_until(lambda: served(core, ["one", "two"]), 20,
                        message=f"addresses for one and two\n{replicas.logs()}")

    # exactly one reconciles: the leader's provider did the work, the standby's nothing
    wait_until(lambda: leader.metrics().total("cloudlb_reconciles_total", kind="Service",
                                              result="synced") >= 2, 10,
               message="the leader's synced reconciles")
    lead, stand = leader.metrics(), standby.metrics()
    assert lead.value("cloudlb_leader") == 1 and stand.value("cloudlb_leader") == 0
    assert lead.total("cloudlb_cloud_api_calls_total", provider="local", mutating="true") > 0
    assert lead.value("cloudlb_managed_load_balancers", provider="local", kind="Service") == 2
    assert stand.total("cloudlb_reconciles_total") == 0
    assert stand.total("cloudlb_cloud_api_calls_total") == 0
    assert stand.value("cloudlb_managed_load_balancers", provider="local", kind="Service") == 0
    assert standby.get("/readyz") == (200, "ok: standby\n")
    assert leader.get("/readyz") == (200, "ok: leader\n")

    leader.kill()
    create_service(core, "three")  # created while nobody leads
    api = cluster.kube.api_client()
    # the lease (3 s) must expire first; the wait is generous for a loaded machine
    wait_until(lambda: lease_holder(api) == standby.identity, 15,
               message=f"the standby to take the lease\n{replicas.logs()}")
    after = wait_until(lambda: served(core, ["one", "two", "three"]), 20,
                       message=f"all three served by the new leader\n{replicas.logs()}")

    # no duplicate: the same addresses (adopted, not re-allocated), one record each
    assert after["one"] == before["one"] and after["two"] == before["two"]
    assert len(set(after.values())) == 3
    records = StateFile(shared, "test").records()
    assert sorted(dict(r.tags)["name"] for r in records) == ["one", "three", "two"]
    assert sorted(r.address for r in records) == sorted(after.values())
    wait_until(lambda: standby.metrics().value("cloudlb_managed_load_balancers", kind="Service",
                                               provider="local") == 3, 10,
               message="the new leader to manage all three")
    assert standby.metrics().value("cloudlb_leader") == 1
    # and it really serves them: traffic through each address reaches a node
    for address in after.values():
        wait_until(lambda address=address: "node=" in answers(address), 10,
                   message=f"traffic through {address}")


def test_sigterm_hands_the_lease_over_without_waiting_for_it_to_expire(
        cluster: FakeCluster, replicas: Replicas) -> None:
    # each replica its own stateDir, as each pod has its own emptyDir; a 30 s lease, so
    # a takeover within a few seconds can only come from the release
    lease = ("30s", "20s", "0.5s")
    a = replicas.start("a", lease=lease)
    b = replicas.start("b", lease=lease)
    leader, standby = elect(replicas, a, b)
    core = k8s.CoreV1Api(cluster.kube.api_client())
    create_service(core, "web")
    wait_until(lambda: served(core, ["web"]), 20, message=f"an address\n{replicas.logs()}")

    assert leader.terminate() == 0, leader.logs()
    api = cluster.kube.api_client()
    wait_until(lambda: lease_holder(api) == standby.identity, 10,
               message=f"the standby to take the released lease\n{replicas.logs()}")
    lease_obj = k8s.CoordinationV1Api(api).read_namespaced_lease("cloud-lb", "kube-system")
    assert lease_obj.spec.lease_transitions == 1
    assert standby.alive
    create_service(core, "after")
    wait_until(lambda: served(core, ["web", "after"]), 20,
               message=f"the new leader to serve both\n{replicas.logs()}")
    wait_until(lambda: standby.metrics().value("cloudlb_leader") == 1, 5,
               message="the leader gauge to follow")
    assert '"msg": "released leadership"' in leader.logs()
