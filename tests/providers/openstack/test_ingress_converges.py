"""Whatever an Ingress becomes, the load balancer converges to exactly the rendering of
the new spec (policies in order, their rules, pools), through the fake's ordering
semantics, and a resync after that writes nothing."""

from __future__ import annotations

import dataclasses
import os
import uuid
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cloud_lb.model import L7Rule, PathType
from cloud_lb.testing.fakeopenstack import FakeOpenStack
from providers.openstack.annotations import ServiceOptions
from providers.openstack.l7_render import render_ingress
from providers.openstack.render import Placement
from providers.openstack.testing import fake_config
from tests.providers.openstack.ingress_specs import API, WEB, ingress, rule, shop_tls
from tests.providers.openstack.l7_view import routes

EXAMPLES = 25 if os.environ.get("CLOUD_LB_FULL") == "1" else 6
HOSTS = ("a.example.com", "b.example.com", "*.shop.example", "")
PATHS = ("/", "/api", "/api/v2", "/login")

rules = st.lists(
    st.builds(lambda host, path, exact, to: rule(host, path, to,
                                                 PathType.EXACT if exact else PathType.PREFIX),
              st.sampled_from(HOSTS), st.sampled_from(PATHS), st.booleans(),
              st.sampled_from((WEB, API))),
    max_size=6, unique_by=lambda r: (r.host, r.path, r.path_type))


def expected(fake: FakeOpenStack, spec: Any) -> dict[str, list[Any]]:
    desired = render_ingress(spec, ServiceOptions(), fake_config(fake), Placement())
    return {li.protocol: [(p.action, p.redirect_pool or
                           f"{p.redirect_http_code} {p.redirect_prefix}",
                           sorted((r.type, r.compare_type, r.value) for r in p.rules))
                          for p in li.policies]
            for li in desired.listeners}


@settings(max_examples=EXAMPLES, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture,
                                 HealthCheck.too_slow])
@given(first=rules, then=rules, redirect=st.booleans())
def test_any_rule_change_converges_exactly(fake: FakeOpenStack, provider,
                                           first: list[L7Rule], then: list[L7Rule],
                                           redirect: bool) -> None:
    spec = ingress(f"shop-{uuid.uuid4().hex[:8]}", rules=tuple(first), certs=(shop_tls(),),
                   redirect=redirect)
    provider.ensure(spec)
    changed = dataclasses.replace(spec, rules=ingress(rules=tuple(then)).rules)
    provider.ensure(changed)
    fake.calls.reset()
    provider.ensure(changed)  # also waits out the last write
    assert fake.calls.count(mutating=True) == 0
    fake.settle()
    mine = [li for li in fake.resources("listeners") if li["loadbalancers"] == [
        {"id": provider.get(spec.ref).provider_id}]]
    assert {li["protocol"] for li in mine} == {"HTTP", "TERMINATED_HTTPS"}
    want = expected(fake, changed)
    for protocol, policies in want.items():
        assert routes(fake, protocol, lb_listeners={li["id"] for li in mine}) == policies
    used = {p[1] for policies in want.values() for p in policies
            if p[0] == "REDIRECT_TO_POOL"}
    pools = {p["name"] for p in fake.resources("pools")
             if p["loadbalancers"] == mine[0]["loadbalancers"]}
    assert pools == used
    provider.delete(spec.ref)  # the next example starts from an empty cloud
    fake.settle()
