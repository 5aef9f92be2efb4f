"""The fake's Octavia L7 and Barbican answer openstacksdk as the real services do:
policy positions as Octavia's ordering list, Octavia's validation of policies, rules
and TLS listeners, Barbican's paging."""

from __future__ import annotations

from typing import Any

import openstack
import pytest
from openstack import exceptions as os_exc

from cloud_lb.testing.fakeopenstack import FakeOpenStack


@pytest.fixture
def conn(fake: FakeOpenStack):
    connection = openstack.connect(**fake.cloud_config())
    yield connection
    connection.close()


def _lb(fake: FakeOpenStack, conn: Any, **listener: Any) -> tuple[str, str, str]:
    """(lb id, HTTP listener id, pool id) of an ACTIVE load balancer."""
    lb = conn.load_balancer.create_load_balancer(
        name="lb", vip_subnet_id=fake.private_subnet["id"],
        pools=[{"name": "web", "protocol": "HTTP", "lb_algorithm": "ROUND_ROBIN"}],
        listeners=[{"name": "http", "protocol": "HTTP", "protocol_port": 80,
                    "default_pool": {"name": "web"}, **listener}])
    fake.settle()
    [li] = conn.load_balancer.listeners(load_balancer_id=lb.id)
    [pool] = conn.load_balancer.pools(loadbalancer_id=lb.id)
    return lb.id, li.id, pool.id


def _policy(conn: Any, fake: FakeOpenStack, listener_id: str, name: str,
            **extra: Any) -> str:
    body = {"listener_id": listener_id, "name": name, "action": "REJECT", **extra}
    response = conn.load_balancer.post("/lbaas/l7policies", json={"l7policy": body})
    os_exc.raise_from_response(response)
    fake.settle()
    return str(response.json()["l7policy"]["id"])


def _order(conn: Any, listener_id: str) -> list[str]:
    policies = conn.load_balancer.l7_policies(listener_id=listener_id)
    return [p.name for p in sorted(policies, key=lambda p: p.position)]


def test_positions_insert_move_and_close_gaps(fake: FakeOpenStack, conn) -> None:
    _, listener_id, _ = _lb(fake, conn)
    for name in ("a", "b", "c"):
        _policy(conn, fake, listener_id, name)
    _policy(conn, fake, listener_id, "first", position=1)
    _policy(conn, fake, listener_id, "far", position=99)
    assert _order(conn, listener_id) == ["first", "a", "b", "c", "far"]
    b = next(p for p in conn.load_balancer.l7_policies(listener_id=listener_id)
             if p.name == "b")
    conn.load_balancer.update_l7_policy(b.id, position=1)
    fake.settle()
    assert _order(conn, listener_id) == ["b", "first", "a", "c", "far"]
    conn.load_balancer.delete_l7_policy(b.id)
    fake.settle()
    positions = sorted(p.position for p in conn.load_balancer.l7_policies(
        listener_id=listener_id))
    assert positions == [1, 2, 3, 4] and _order(conn, listener_id)[0] == "first"


def test_a_policy_comes_with_its_rules_and_they_are_checked(fake: FakeOpenStack,
                                                            conn) -> None:
    _, listener_id, pool_id = _lb(fake, conn)
    policy_id = _policy(conn, fake, listener_id, "api", action="REDIRECT_TO_POOL",
                        redirect_pool_id=pool_id, rules=[
                            {"type": "PATH", "compare_type": "REGEX", "value": "^/api(/.*)?$"},
                            {"type": "HOST_NAME", "compare_type": "EQUAL_TO",
                             "value": "a.example.com"}])
    got = {(r.type, r.rule_value) for r in conn.load_balancer.l7_rules(policy_id)}
    assert got == {("PATH", "^/api(/.*)?$"), ("HOST_NAME", "a.example.com")}
    for bad, message in (({"type": "PATH", "compare_type": "REGEX", "value": "^(/"},
                          "regular expression"),
                         ({"type": "PATH", "compare_type": "EQUAL_TO", "value": "/a b"},
                          "Invalid characters"),
                         ({"type": "PATH", "compare_type": "LIKE", "value": "/a"},
                          "compare_type")):
        with pytest.raises(os_exc.BadRequestException, match=message):
            conn.load_balancer.create_l7_rule(policy_id, **{
                k if k != "value" else "rule_value": v for k, v in bad.items()})
    with pytest.raises(os_exc.BadRequestException, match="redirect_pool_id"):
        _policy(conn, fake, listener_id, "x", action="REDIRECT_TO_POOL")
    with pytest.raises(os_exc.BadRequestException, match="invalid"):
        _policy(conn, fake, listener_id, "x", action="REDIRECT_PREFIX",
                redirect_prefix="ftp://a.example.com")


def test_a_pool_an_l7_policy_uses_cannot_be_deleted(fake: FakeOpenStack, conn) -> None:
    _, listener_id, pool_id = _lb(fake, conn)
    policy_id = _policy(conn, fake, listener_id, "to-web", action="REDIRECT_TO_POOL",
                        redirect_pool_id=pool_id)
    with pytest.raises(os_exc.ConflictException, match=f"in use by L7 policy {policy_id}"):
        conn.load_balancer.delete_pool(pool_id)


def test_graph_policies_name_their_pools(fake: FakeOpenStack, conn) -> None:
    _lb_id, listener_id, pool_id = _lb(fake, conn, l7policies=[
        {"name": "p2", "action": "REDIRECT_TO_POOL", "redirect_pool": {"name": "web"},
         "rules": [{"type": "PATH", "compare_type": "STARTS_WITH", "value": "/"}]},
        {"name": "p1", "action": "REDIRECT_PREFIX", "position": 1,
         "redirect_prefix": "https://a.example.com", "redirect_http_code": 308,
         "rules": [{"type": "HOST_NAME", "compare_type": "EQUAL_TO",
                    "value": "a.example.com"}]}])
    assert _order(conn, listener_id) == ["p1", "p2"]
    raw = conn.load_balancer.get("/lbaas/l7policies").json()["l7policies"]
    assert {(p["name"], p["redirect_pool_id"], p["redirect_http_code"]) for p in raw} == {
        ("p2", pool_id, None), ("p1", None, 308)}
    with pytest.raises(os_exc.BadRequestException, match="Missing details for Pool"):
        _lb(fake, conn, l7policies=[{"name": "x", "action": "REDIRECT_TO_POOL",
                                     "redirect_pool": {"name": "nope"}}])


def _certificate(conn: Any, name: str, *, key: bool = True) -> str:
    km = conn.key_manager
    refs = []
    for role in ("certificate", "private_key") if key else ("certificate",):
        response = km.post("/secrets", json={"name": f"{name}-{role}", "payload": "x",
                                             "payload_content_type": "text/plain"})
        os_exc.raise_from_response(response)
        refs.append({"name": role, "secret_ref": response.json()["secret_ref"]})
    response = km.post("/containers", json={"name": name, "type": "certificate",
                                            "secret_refs": refs})
    os_exc.raise_from_response(response)
    return str(response.json()["container_ref"])


def test_terminated_https_needs_a_certificate_that_loads(fake: FakeOpenStack, conn) -> None:
    good, keyless = _certificate(conn, "good"), _certificate(conn, "keyless", key=False)
    lb_id, _, pool_id = _lb(fake, conn)

    def https(**refs: Any) -> Any:
        return conn.load_balancer.create_listener(
            load_balancer_id=lb_id, protocol="TERMINATED_HTTPS", protocol_port=443,
            default_pool_id=pool_id, **refs)

    with pytest.raises(os_exc.BadRequestException, match="default certificate"):
        https()
    for ref in (keyless, good.replace(good.rsplit("/", 1)[1], "missing")):
        with pytest.raises(os_exc.BadRequestException, match="Could not retrieve certificate"):
            https(default_tls_container_ref=ref)
    with pytest.raises(os_exc.BadRequestException, match="only allowed on TERMINATED_HTTPS"):
        conn.load_balancer.create_listener(load_balancer_id=lb_id, protocol="HTTP",
                                           protocol_port=8080, default_tls_container_ref=good)
    listener = https(default_tls_container_ref=good, sni_container_refs=[good])
    assert listener.default_tls_container_ref == good


def test_barbican_lists_in_pages_that_openstacksdk_follows(fake: FakeOpenStack, conn) -> None:
    names = {f"c{i:02d}" for i in range(13)}
    for name in names:
        fake.plant_certificate(name)
    first = conn.key_manager.get("/containers").json()
    assert len(first["containers"]) == 10 and first["total"] == 13 and "next" in first
    assert {c.name for c in conn.key_manager.containers()} == names
    assert len(conn.key_manager.get("/secrets", params={"limit": 100}).json()["secrets"]) == 26
    only = conn.key_manager.get("/containers", params={"name": "c07"}).json()
    assert [c["name"] for c in only["containers"]] == ["c07"]
