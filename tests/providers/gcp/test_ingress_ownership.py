"""An Ingress's load balancer never touches what is not its own: look-alikes of another
cluster, a foreign resource under its prefix, a user's reserved address, the groups and
named ports other load balancers share; and deletion gets as far as it can when
something else still uses a piece."""

from __future__ import annotations

import json
import time

import pytest

from cloud_lb.model import Backend, LBRef
from cloud_lb.provider import CallRecorder, InvalidSpecError, OwnershipError, PendingError
from cloud_lb.testing.fakegce import FakeGCE
from providers.gcp import naming
from providers.gcp.provider import GCPProvider
from providers.gcp.testing import plant_foreign
from tests.providers.gcp.conftest import ProviderFactory, by_name, ref, spec
from tests.providers.gcp.ingress_specs import (
    HOSTS,
    backend,
    certificate,
    ingress_ref,
    ingress_spec,
    rule,
)

STATIC = "kubernetes.io/ingress.global-static-ip-name"


def test_look_alikes_of_another_cluster_are_refused_before_any_mutation(
    fake: FakeGCE, provider: GCPProvider, nodes: list[Backend], recorder: CallRecorder
) -> None:
    lb_ref = ingress_ref()
    plant_foreign(fake, lb_ref)
    before = fake.snapshot()
    assert provider.get(lb_ref) is None and provider.list_owned() == []
    wanted = ingress_spec(lb_ref, nodes, tls=(certificate(*HOSTS),))
    with pytest.raises(OwnershipError, match="not owned"):
        provider.plan(wanted)
    with pytest.raises(OwnershipError, match="not owned"):
        provider.ensure(wanted)
    provider.delete(lb_ref)  # ours never existed; theirs stays
    assert recorder.mutations() == 0
    assert fake.snapshot() == before


def test_a_foreign_resource_under_our_prefix_that_we_do_not_need_is_left_alone(
    fake: FakeGCE, provider: GCPProvider, nodes: list[Backend]
) -> None:
    lb_ref = ingress_ref()
    stranger = fake.create(
        "healthChecks",
        "",
        {
            "name": naming.ingress_name(lb_ref, "be-someone"),
            "description": "made by hand",
            "type": "TCP",
            "tcpHealthCheck": {"port": 22},
        },
    )
    provider.ensure(ingress_spec(lb_ref, nodes))
    provider.delete(lb_ref)
    assert by_name(fake, "healthChecks") == {stranger["name"]: stranger}


def test_a_named_static_address_is_used_and_never_released(
    fake: FakeGCE, provider: GCPProvider, nodes: list[Backend], recorder: CallRecorder
) -> None:
    lb_ref = ingress_ref()
    ours = provider.ensure(ingress_spec(lb_ref, nodes))  # first on an address of ours
    reserved = fake.create("globalAddresses", "", {"name": "my-ingress-ip"})
    fake.reset_calls()
    status = provider.ensure(ingress_spec(lb_ref, nodes, options={STATIC: "my-ingress-ip"}))
    assert status.ingress[0].ip == reserved["address"] != ours.ingress[0].ip
    # the rule moves to the user's address, then ours goes
    assert [c.verb for c in fake.calls if c.mutating] == [
        "globalForwardingRules.delete",
        "globalForwardingRules.insert",
        "globalAddresses.delete",
    ]
    provider.delete(lb_ref)
    (left,) = fake.resources("globalAddresses")
    assert (left["name"], left["address"], left["status"]) == (
        "my-ingress-ip",
        reserved["address"],
        "RESERVED",
    )


def test_a_named_static_address_that_does_not_exist_is_an_invalid_spec(
    fake: FakeGCE, provider: GCPProvider, nodes: list[Backend], recorder: CallRecorder
) -> None:
    with pytest.raises(InvalidSpecError, match="not a reserved global address"):
        provider.ensure(ingress_spec(ingress_ref(), nodes, options={STATIC: "nope"}))
    assert recorder.mutations() == 0


def test_another_ingress_and_a_service_keep_the_shared_groups_and_named_ports(
    fake: FakeGCE, provider: GCPProvider, nodes: list[Backend]
) -> None:
    first, second = ingress_ref("first"), ingress_ref("second")
    provider.ensure(ingress_spec(first, nodes, rules=(rule("", "/", backend("one", 30901)),)))
    provider.ensure(ingress_spec(second, nodes, rules=(rule("", "/", backend("two", 30902)),)))
    service = ref("svc")
    provider.ensure(spec(service, nodes))
    provider.delete(first)
    groups = fake.resources("instanceGroups")
    assert len(groups) == 3
    assert all({"port30901", "port30902"} <= {p["name"] for p in g["namedPorts"]} for g in groups)
    assert (
        provider.plan(ingress_spec(second, nodes, rules=(rule("", "/", backend("two", 30902)),)))
        == []
    )
    provider.delete(second)
    assert len(fake.resources("instanceGroups")) == 3  # the Service still uses them
    provider.delete(service)
    assert fake.resources("instanceGroups") == []


def test_deletion_goes_as_far_as_it_can_when_something_else_uses_a_piece(
    fake: FakeGCE, provider: GCPProvider, nodes: list[Backend]
) -> None:
    lb_ref = ingress_ref()
    target = backend("app", 31001)
    provider.ensure(ingress_spec(lb_ref, nodes, rules=(rule("", "/", target),)))
    ours = naming.ingress_backend_name(lb_ref, target.service, target.port)
    fake.create(
        "urlMaps",
        "",
        {
            "name": "someone-elses-map",
            "defaultService": f"projects/{fake.project}/global/backendServices/{ours}",
        },
    )
    with pytest.raises(PendingError, match="still in use"):
        provider.delete(lb_ref)
    # everything that did not depend on the used backend service is gone
    assert not fake.resources("globalForwardingRules") and not fake.resources("globalAddresses")
    assert list(by_name(fake, "backendServices")) == [ours]
    assert list(by_name(fake, "healthChecks")) == [ours]  # the service still names it
    # the other user lets go
    provider.compute.delete("urlMap", "someone-elses-map", deadline=time.monotonic() + 10)
    provider.delete(lb_ref)
    assert not fake.resources("backendServices") and not fake.resources("healthChecks")


def test_a_ref_of_another_cluster_is_refused(make_provider: ProviderFactory) -> None:
    provider = make_provider()
    other = LBRef(cluster="elsewhere", kind=ingress_ref().kind, namespace="n", name="x", uid="u")
    with pytest.raises(OwnershipError):
        provider.delete(other)


def test_descriptions_name_the_ingress_cluster_and_uid(
    fake: FakeGCE, provider: GCPProvider, nodes: list[Backend]
) -> None:
    lb_ref = ingress_ref()
    provider.ensure(ingress_spec(lb_ref, nodes, tls=(certificate(*HOSTS),), redirect=True))
    prefix = naming.ingress_prefix(lb_ref)
    mine = [r for r in fake.resources() if r["name"].startswith(prefix)]
    assert len(mine) == 18
    for body in mine:
        assert json.loads(body["description"]) == {
            "kubernetes.io/ingress-name": "default/web",
            "kubernetes.io/cluster": "test-cluster",
            "kubernetes.io/uid": lb_ref.uid,
            "managed-by": "cloud-lb",
        }
