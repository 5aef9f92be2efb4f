"""Resources of another cluster (or of cloud-provider-gcp) are never touched."""

from __future__ import annotations

import pytest

from cloud_lb.model import Backend
from cloud_lb.provider import CallRecorder, OwnershipError
from cloud_lb.testing.fakegce import FakeGCE
from providers.gcp import naming
from providers.gcp.provider import GCPProvider
from providers.gcp.testing import plant_foreign
from tests.providers.gcp.conftest import ProviderFactory, ref, spec


def test_a_look_alike_of_another_cluster_is_refused_before_any_mutation(
    fake: FakeGCE, provider: GCPProvider, nodes: list[Backend], recorder: CallRecorder
) -> None:
    lb_ref = ref()
    plant_foreign(fake, lb_ref)
    before = fake.snapshot()
    assert provider.get(lb_ref) is None
    assert provider.list_owned() == []
    with pytest.raises(OwnershipError):
        provider.plan(spec(lb_ref, nodes))
    with pytest.raises(OwnershipError):
        provider.ensure(spec(lb_ref, nodes))
    provider.delete(lb_ref)  # ours is gone (it never existed); theirs stays
    assert recorder.mutations() == 0
    assert fake.snapshot() == before


def test_two_clusters_share_a_project_without_touching_each_other(
    fake: FakeGCE, make_provider: ProviderFactory, nodes: list[Backend]
) -> None:
    blue, green = make_provider("blue"), make_provider("green")
    blue_ref, green_ref = ref(cluster="blue"), ref(cluster="green")
    blue.ensure(spec(blue_ref, nodes))
    green.ensure(spec(green_ref, nodes[:2]))
    assert blue.list_owned() == [blue_ref] and green.list_owned() == [green_ref]
    assert naming.instance_group_name("blue") != naming.instance_group_name("green")
    green_before = {r["name"]: r for r in fake.resources() if "green" in r.get("description", "")}
    blue.delete(blue_ref)
    assert {
        r["name"]: r for r in fake.resources() if "green" in r.get("description", "")
    } == green_before
    assert green.plan(spec(green_ref, nodes[:2])) == []


def test_an_instance_group_with_our_name_but_not_ours_is_refused(
    fake: FakeGCE, provider: GCPProvider, nodes: list[Backend], recorder: CallRecorder
) -> None:
    fake.create(
        "instanceGroups",
        "us-central1-a",
        {
            "name": naming.instance_group_name("test-cluster"),
            "description": "hand-made",
            "network": f"projects/{fake.project}/global/networks/default",
        },
    )
    before = fake.snapshot()
    with pytest.raises(OwnershipError, match="instance group"):
        provider.ensure(spec(ref(), nodes))
    assert recorder.mutations() == 0
    assert fake.snapshot() == before


def test_a_ref_of_another_cluster_is_refused(provider: GCPProvider, nodes: list[Backend]) -> None:
    with pytest.raises(OwnershipError):
        provider.ensure(spec(ref(cluster="someone-else"), nodes))
    with pytest.raises(OwnershipError):
        provider.delete(ref(cluster="someone-else"))
