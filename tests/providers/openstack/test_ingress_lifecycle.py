"""Ingress load balancers through openstacksdk against the fake: create in one Octavia
call, converge by the smallest writes, rotate certificates in place, delete without
leaving anything in Barbican. Call counts asserted here are the ones reported in
docs/providers/openstack.md."""

from __future__ import annotations

import dataclasses

from cloud_lb.model import PathType
from cloud_lb.testing.fakeopenstack import FakeOpenStack
from providers.openstack import naming
from tests.providers.openstack.ingress_specs import API, WEB, ingress, rule, shop_tls, two_by_two
from tests.providers.openstack.l7_view import ids, listener, routes

LB = "/v2/lbaas/loadbalancers"
RULE = "/v2/lbaas/l7policies/{policy_id}/rules/{id}"
POOL_A_API = "pool_shop-api-80_kube_ingress_prod_shop_shop"
POOL_WEB = "pool_shop-web-80_kube_ingress_prod_shop_shop"
HOST_A = ("HOST_NAME", "EQUAL_TO", "a.example.com")
HOST_B = ("HOST_NAME", "EQUAL_TO", "b.example.com")


def test_2x2_with_tls_is_created_in_one_octavia_call(fake: FakeOpenStack, provider) -> None:
    spec = ingress(certs=(shop_tls(),), redirect=True)
    fake.calls.reset()
    status = provider.ensure(spec)
    summary = fake.calls.summary()
    assert summary[f"POST load-balancer {LB}"] == 1
    assert summary["POST key-manager /v1/secrets"] == 2  # certificate and key
    assert summary["POST key-manager /v1/containers"] == 1
    assert fake.calls.count(mutating=True) == 5  # + the floating IP
    assert fake.calls.count() == 11  # 6 reads: lookups, containers, one wait, floating IPs
    assert routes(fake, "HTTP") == [
        ("REDIRECT_PREFIX", "308 https://a.example.com", [HOST_A]),
        ("REDIRECT_PREFIX", "308 https://b.example.com", [HOST_B])]
    assert routes(fake, "TERMINATED_HTTPS") == [
        ("REDIRECT_TO_POOL", POOL_A_API, sorted([HOST_A, ("PATH", "REGEX", "^/api(/.*)?$")])),
        ("REDIRECT_TO_POOL", POOL_WEB, [HOST_A]),
        ("REDIRECT_TO_POOL", POOL_A_API, sorted([HOST_B, ("PATH", "EQUAL_TO", "/login")])),
        ("REDIRECT_TO_POOL", POOL_WEB, [HOST_B])]
    [container] = fake.resources("containers")
    https = listener(fake, "TERMINATED_HTTPS")
    assert https["default_tls_container_ref"].endswith(container["id"])
    assert https["sni_container_refs"] == []
    assert https["default_pool_id"] is None and listener(fake, "HTTP")["default_pool_id"] is None
    assert container["name"].startswith(naming.barbican_prefix(spec.ref))
    assert sorted(s["name"] for s in fake.resources("secrets")) == [
        container["name"] + ".crt", container["name"] + ".key"]
    pools = {p["name"]: p for p in fake.resources("pools")}
    assert set(pools) == {POOL_A_API, POOL_WEB}
    members = {(m["address"], m["protocol_port"]) for m in fake.resources("members")
               if {"id": m["id"]} in pools[POOL_WEB]["members"]}
    assert members == {(f"10.0.5.{10 + i}", WEB.node_port) for i in range(3)}
    monitors = {m["url_path"] for m in fake.resources("healthmonitors")}
    assert monitors == {"/"} and len(fake.resources("healthmonitors")) == 2
    [fip] = fake.resources("floatingips")
    assert status.ingress[0].ip == fip["floating_ip_address"]
    assert set(status.listeners) == {li["name"] for li in fake.resources("listeners")}


def test_an_unchanged_resync_writes_nothing(fake: FakeOpenStack, provider) -> None:
    spec = ingress(certs=(shop_tls(),), redirect=True, default=WEB)
    first = provider.ensure(spec)
    fake.calls.reset()
    assert provider.plan(spec) == []
    second = provider.ensure(spec)
    provider.update_backends(spec)
    assert fake.calls.count(mutating=True) == 0
    assert second.provider_id == first.provider_id and second.ingress == first.ingress


def test_one_changed_path_rewrites_only_its_rule(fake: FakeOpenStack, provider) -> None:
    spec = ingress(certs=(shop_tls(),))  # no redirect: both listeners route
    provider.ensure(spec)
    before = {r["id"]: r for r in fake.resources("l7rules")}
    policies = ids(fake, "l7policies")
    changed = tuple(rule("b.example.com", "/signin", API, PathType.EXACT)
                    if r.path == "/login" else r for r in two_by_two())
    fake.calls.reset()
    provider.ensure(dataclasses.replace(spec, rules=ingress(rules=changed).rules))
    assert fake.calls.count(mutating=True) == 2  # one rule on each listener
    assert fake.calls.count(method="PUT", route=RULE) == 2
    assert fake.calls.count() == 21  # the tree read (16), a wait, status reads
    after = {r["id"]: r for r in fake.resources("l7rules")}
    assert set(after) == set(before) and ids(fake, "l7policies") == policies
    rewritten = {rid for rid in after if after[rid]["value"] != before[rid]["value"]}
    assert {after[rid]["value"] for rid in rewritten} == {"/signin"}
    assert {before[rid]["value"] for rid in rewritten} == {"/login"}


def test_a_longer_path_is_inserted_in_place_without_moving_others(fake: FakeOpenStack,
                                                                   provider) -> None:
    spec = ingress(certs=(shop_tls(),))
    provider.ensure(spec)
    policies = ids(fake, "l7policies")
    longer = ingress(rules=(*two_by_two(), rule("a.example.com", "/api/v2", WEB))).rules
    fake.calls.reset()
    provider.ensure(dataclasses.replace(spec, rules=longer))
    assert fake.calls.count(mutating=True) == 2  # one policy create per listener
    assert fake.calls.count(method="POST", route="/v2/lbaas/l7policies") == 2
    assert policies < ids(fake, "l7policies")
    for protocol in ("HTTP", "TERMINATED_HTTPS"):
        first, second = routes(fake, protocol)[:2]
        assert first == ("REDIRECT_TO_POOL", POOL_WEB,
                         sorted([HOST_A, ("PATH", "REGEX", "^/api/v2(/.*)?$")]))
        assert second[1] == POOL_A_API


def test_rotation_swaps_the_certificate_in_place(fake: FakeOpenStack, provider) -> None:
    spec = ingress(certs=(shop_tls(),), redirect=True)
    status = provider.ensure(spec)
    [old] = fake.resources("containers")
    old_secrets = ids(fake, "secrets")
    fake.calls.reset()
    rotated = dataclasses.replace(spec, tls=(shop_tls(serial=1),))
    assert provider.ensure(rotated).provider_id == status.provider_id
    assert fake.calls.count(method="POST", route=LB) == 0
    [new] = fake.resources("containers")
    assert new["id"] != old["id"]
    assert listener(fake, "TERMINATED_HTTPS")["default_tls_container_ref"].endswith(new["id"])
    assert not old_secrets & ids(fake, "secrets") and len(fake.resources("secrets")) == 2
    # writes: 2 secrets + container, the listener, the old container + 2 secrets
    assert fake.calls.count(mutating=True) == 7
    fake.calls.reset()
    provider.ensure(rotated)
    assert fake.calls.count(mutating=True) == 0


def test_a_removed_backend_takes_its_pool_and_policies(fake: FakeOpenStack, provider) -> None:
    spec = ingress(certs=(shop_tls(),))
    provider.ensure(spec)
    web_pool = next(p for p in fake.resources("pools") if p["name"] == POOL_WEB)
    web_members = ids(fake, "members") & {m["id"] for m in web_pool["members"]}
    only_web = tuple(r for r in two_by_two() if r.backend == WEB)
    fake.calls.reset()
    provider.ensure(dataclasses.replace(spec, rules=ingress(rules=only_web).rules))
    fake.settle()
    # two policies per listener, then the pool (its members and monitor with it)
    assert fake.calls.count(method="DELETE", route="/v2/lbaas/l7policies/{id}") == 4
    assert fake.calls.count(method="DELETE", route="/v2/lbaas/pools/{id}") == 1
    assert fake.calls.count(mutating=True) == 5
    assert [p["name"] for p in fake.resources("pools")] == [POOL_WEB]
    assert web_members <= ids(fake, "members")
    for protocol in ("HTTP", "TERMINATED_HTTPS"):
        assert [r[1] for r in routes(fake, protocol)] == [POOL_WEB, POOL_WEB]


def test_default_backend_is_both_listeners_default_pool(fake: FakeOpenStack, provider) -> None:
    spec = ingress(certs=(shop_tls(),), default=WEB, rules=())
    provider.ensure(spec)
    [pool] = fake.resources("pools")
    assert {li["default_pool_id"] for li in fake.resources("listeners")} == {pool["id"]}
    assert fake.resources("l7policies") == []
    fake.calls.reset()
    provider.ensure(dataclasses.replace(spec, default_backend=None))
    fake.settle()
    assert {li["default_pool_id"] for li in fake.resources("listeners")} == {None}
    assert fake.resources("pools") == []


def test_node_changes_are_one_batch_update_per_pool(fake: FakeOpenStack, provider) -> None:
    spec = ingress()
    provider.ensure(spec)
    fake.calls.reset()
    provider.update_backends(dataclasses.replace(spec, backends=spec.backends[:1]))
    assert fake.calls.count(mutating=True) == 2
    assert fake.calls.count(method="PUT", route="/v2/lbaas/pools/{pool_id}/members") == 2


def test_an_http_only_ingress_never_asks_barbican(fake: FakeOpenStack, provider) -> None:
    spec = ingress()
    fake.calls.reset()
    provider.ensure(spec)
    provider.ensure(dataclasses.replace(spec, rules=spec.rules[:2]))
    assert fake.calls.count(service="key-manager") == 0
    assert [li["protocol"] for li in fake.resources("listeners")] == ["HTTP"]


def test_dropping_tls_drops_the_https_listener_and_the_certificates(fake: FakeOpenStack,
                                                                     provider) -> None:
    spec = ingress(certs=(shop_tls(),), redirect=True)
    provider.ensure(spec)
    provider.ensure(ingress(uid=spec.ref.uid))
    fake.settle()
    assert [li["protocol"] for li in fake.resources("listeners")] == ["HTTP"]
    assert len(routes(fake, "HTTP")) == 4  # the redirects gave way to the routes
    assert fake.resources("containers") == [] and fake.resources("secrets") == []


def test_delete_leaves_nothing_behind(fake: FakeOpenStack, provider) -> None:
    spec = ingress(certs=(shop_tls(), ), redirect=True)
    provider.ensure(spec)
    provider.delete(spec.ref)
    fake.settle()
    for collection in ("loadbalancers", "listeners", "pools", "l7policies", "l7rules",
                       "containers", "secrets", "floatingips"):
        assert fake.resources(collection) == [], collection
    assert provider.list_owned() == []
    provider.delete(spec.ref)  # gone is success


def test_list_owned_reports_ingresses(provider) -> None:
    spec = ingress()
    provider.ensure(spec)
    assert provider.list_owned() == [spec.ref]
    assert provider.get(spec.ref) is not None


def test_tls_added_later_creates_the_https_listener_with_its_policies(fake: FakeOpenStack,
                                                                       provider) -> None:
    spec = ingress(default=WEB)
    lb_id = provider.ensure(spec).provider_id
    fake.calls.reset()
    secured = dataclasses.replace(spec, listeners=ingress(certs=(shop_tls(),)).listeners,
                                  tls=(shop_tls(),), https_redirect=True)
    assert provider.ensure(secured).provider_id == lb_id
    # 2 secrets + container; the listener; 4 policies on it; HTTP: 2 redirects in front
    # of its 4 routes, which give way (deleted) since they would never match
    assert fake.calls.count(service="load-balancer", method="POST",
                            route="/v2/lbaas/listeners") == 1
    https = listener(fake, "TERMINATED_HTTPS")
    assert https["default_pool_id"] == listener(fake, "HTTP")["default_pool_id"]
    assert [r[1] for r in routes(fake, "TERMINATED_HTTPS")] == [POOL_A_API, POOL_WEB,
                                                                POOL_A_API, POOL_WEB]
    fake.settle()
    assert [r[0] for r in routes(fake, "HTTP")] == ["REDIRECT_PREFIX"] * 2
    fake.calls.reset()
    provider.ensure(secured)
    assert fake.calls.count(mutating=True) == 0


def test_a_rule_sent_to_another_backend_is_one_policy_update(fake: FakeOpenStack,
                                                            provider) -> None:
    spec = ingress(certs=(shop_tls(),), redirect=True)
    provider.ensure(spec)
    policies = ids(fake, "l7policies")
    switched = tuple(rule(r.host, r.path, WEB, r.path_type) if r.path == "/api" else r
                     for r in two_by_two())
    fake.calls.reset()
    provider.ensure(dataclasses.replace(spec, rules=ingress(rules=switched).rules))
    assert fake.calls.count(mutating=True) == 1  # a.example.com is redirected on HTTP
    assert fake.calls.count(method="PUT", route="/v2/lbaas/l7policies/{id}") == 1
    assert ids(fake, "l7policies") == policies
    assert [r[1] for r in routes(fake, "TERMINATED_HTTPS")][:2] == [POOL_WEB, POOL_WEB]
