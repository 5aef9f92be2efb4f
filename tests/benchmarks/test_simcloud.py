"""The simulated cloud behaves like the parts of Octavia that set a controller's pace:
throttling on an empty bucket, 409 while a load balancer is pending, both creation
styles, batch member replacement, asynchronous deletion. Driven through its manager
connection, as the controller process uses it."""

from __future__ import annotations

import time

import pytest

from benchmarks.simcloud import ACTIVE, PENDING_CREATE, CloudSettings, ConflictError, ThrottledError
from benchmarks.simserver import serve_cloud


def _populated(name: str, members: int = 3) -> dict:
    return {"name": name, "tags": ["kube_cluster=test"], "listeners": [{
        "name": "http", "protocol": "TCP", "protocol_port": 80, "allowed_cidrs": ["0.0.0.0/0"],
        "default_pool": {"name": "http", "protocol": "TCP",
                         "members": [{"name": f"n{i}", "address": f"10.0.0.{i}",
                                      "protocol_port": 30080} for i in range(members)],
                         "healthmonitor": {"type": "HTTP", "port": 10256, "url_path": "/healthz",
                                           "delay": 5, "timeout": 3, "max_retries": 3}}}]}


def _wait_active(client, lb_id: str) -> None:
    for _ in range(200):
        if client.get_load_balancer(lb_id)["provisioning_status"] == ACTIVE:
            return
        time.sleep(0.02)
    raise AssertionError(f"{lb_id} never became ACTIVE")


def test_a_fully_populated_create_is_one_call_and_builds_the_whole_tree(cloud) -> None:
    client = cloud.client()
    lb = client.create_load_balancer(_populated("tree"))
    assert lb["provisioning_status"] == PENDING_CREATE
    listeners = client.list_listeners(lb["id"])
    pools = client.list_pools(lb["id"])
    assert [li["protocol_port"] for li in listeners] == [80]
    assert len(client.list_members(pools[0]["id"])) == 3
    assert len(client.list_monitors(lb["id"])) == 1


def test_a_pending_load_balancer_refuses_writes_with_409(cloud) -> None:
    client = cloud.client()
    lb = client.create_load_balancer(_populated("pending"))
    listener = client.list_listeners(lb["id"])[0]
    with pytest.raises(ConflictError, match="immutable while PENDING_CREATE"):
        client.update_listener(listener["id"], allowed_cidrs=["10.0.0.0/8"])
    _wait_active(client, lb["id"])
    client.update_listener(listener["id"], allowed_cidrs=["10.0.0.0/8"])
    assert client.get_load_balancer(lb["id"])["provisioning_status"] == "PENDING_UPDATE"


def test_batch_update_replaces_a_pools_members_in_one_call(cloud) -> None:
    client = cloud.client()
    lb = client.create_load_balancer(_populated("batch"))
    _wait_active(client, lb["id"])
    pool = client.list_pools(lb["id"])[0]
    before = _writes(client.stats(), "batch_update_members")
    client.batch_update_members(pool["id"], [{"name": "x", "address": "10.9.9.9",
                                              "protocol_port": 30080}])
    assert [m["name"] for m in client.list_members(pool["id"])] == ["x"]
    assert _writes(client.stats(), "batch_update_members") == before + 1


def test_deletion_is_asynchronous_and_then_the_load_balancer_is_gone(cloud) -> None:
    client = cloud.client()
    lb = client.create_load_balancer(_populated("gone"))
    _wait_active(client, lb["id"])
    client.delete_load_balancer(lb["id"])
    assert client.get_load_balancer(lb["id"])["provisioning_status"] == "PENDING_DELETE"
    deadline = time.monotonic() + 10
    while client.get_load_balancer(lb["id"]) is not None:
        assert time.monotonic() < deadline, "never deleted"
        time.sleep(0.02)
    assert "gone" not in str(client.pool_members())


def test_an_empty_bucket_answers_throttling_and_counts_it() -> None:
    # one token, refilled at 1/s: the second write within the write latency has none
    server = serve_cloud(CloudSettings(read_latency=0.001, write_latency=0.001,
                                       provision_seconds=0.1, rate=1.0, burst=1))
    try:
        client = server.client()
        client.create_load_balancer({"name": "first", "tags": []})
        with pytest.raises(ThrottledError, match="rate limit"):
            client.create_load_balancer({"name": "second", "tags": []})
        calls = {(op, res): n for op, _, res, n in client.stats()["calls"]}
        assert calls[("create_load_balancer", "ok")] == 1
        assert calls[("create_load_balancer", "throttled")] == 1
    finally:
        server.stop()


def _writes(stats: dict, op: str) -> int:
    return sum(n for o, mutating, res, n in stats["calls"] if o == op and mutating and res == "ok")
