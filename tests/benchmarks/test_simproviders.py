"""The two provider models make the calls they claim, counted by the CallRecorder:
cloud-lb's one fully-populated create, zero writes when nothing changed, one batch call
per pool for a node change, one write for an allow-list change, one cascade delete; the
sequential anchor's step-by-step create (load balancer, listener, pool, a call per
member, monitor) and a call per member change. Counts only, never times."""

from __future__ import annotations

import dataclasses
import time

import pytest

from benchmarks.simrender import lb_name
from cloud_lb.model import Backend
from cloud_lb.provider import CallRecorder, OwnershipError, PendingError
from tests.benchmarks.conftest import spec


def _writes(recorder: CallRecorder) -> dict[str, int]:
    return {op: n for (op, mutating, result), n in recorder.calls.items()
            if mutating and result == "ok"}


def _converge(provider, the_spec, timeout: float = 10.0):
    deadline = time.monotonic() + timeout
    while True:
        try:
            return provider.ensure(the_spec)
        except PendingError as exc:
            assert time.monotonic() < deadline, f"still pending: {exc}"
            time.sleep(exc.retry_after)


def _settle(provider, the_spec, timeout: float = 10.0) -> None:
    """Until the load balancer is ACTIVE again (a write leaves it PENDING_UPDATE)."""
    deadline = time.monotonic() + timeout
    while provider.client.read("find_load_balancers", name=lb_name(the_spec.ref))[0][
            "provisioning_status"] != "ACTIVE":
        assert time.monotonic() < deadline
        time.sleep(0.02)


def test_cloud_lb_creates_in_one_call_and_resyncs_with_none(make_provider) -> None:
    provider, recorder = make_provider()
    web = spec("one-call")
    with pytest.raises(PendingError):
        provider.ensure(web)  # created; provisioning
    status = _converge(provider, web)
    assert status.ingress[0].ip
    assert _writes(recorder) == {"create_load_balancer": 1}
    recorder.reset()
    assert provider.ensure(web) == status
    assert _writes(recorder) == {}


def test_cloud_lb_node_change_is_one_batch_call_per_pool(make_provider) -> None:
    provider, recorder = make_provider()
    web = spec("churn")
    _converge(provider, web)
    _settle(provider, web)
    recorder.reset()
    grown = dataclasses.replace(web, backends=(*web.backends, Backend("node-9", "10.0.0.99")))
    provider.update_backends(grown)
    assert _writes(recorder) == {"batch_update_members": 1}
    _settle(provider, web)
    provider.update_backends(grown)  # already there: reads only
    assert _writes(recorder) == {"batch_update_members": 1}


def test_cloud_lb_allow_list_change_is_one_write_and_delete_is_one(make_provider) -> None:
    provider, recorder = make_provider()
    web = spec("ranges")
    _converge(provider, web)
    _settle(provider, web)
    recorder.reset()
    provider.ensure(dataclasses.replace(web, source_ranges=("10.0.0.0/8",)))
    assert _writes(recorder) == {"update_listener": 1}
    _settle(provider, web)
    provider.delete(web.ref)
    provider.delete(web.ref)  # already being deleted: nothing more
    assert _writes(recorder) == {"update_listener": 1, "delete_load_balancer": 1}


def test_sequential_model_builds_step_by_step_with_a_call_per_member(make_provider) -> None:
    provider, recorder = make_provider("sequential")
    web = spec("steps", nodes=3)
    status = provider.ensure(web)  # blocks until done, as upstream does
    assert status.ingress[0].ip
    assert _writes(recorder) == {"create_load_balancer": 1, "create_listener": 1,
                                 "create_pool": 1, "create_member": 3, "create_monitor": 1}
    recorder.reset()
    provider.ensure(web)
    assert _writes(recorder) == {}
    fewer = dataclasses.replace(web, backends=web.backends[:1])
    provider.update_backends(fewer)
    assert _writes(recorder) == {"delete_member": 2}


def test_both_models_build_the_same_load_balancer(make_provider, cloud) -> None:
    ours, _ = make_provider()
    theirs, _ = make_provider("sequential")
    _converge(ours, spec("same-a"))
    theirs.ensure(spec("same-b"))
    members = cloud.client().pool_members()
    assert members[lb_name(spec("same-a").ref)] == members[lb_name(spec("same-b").ref)]


def test_a_load_balancer_with_our_name_but_not_our_tags_is_never_touched(make_provider,
                                                                          cloud) -> None:
    provider, recorder = make_provider()
    web = spec("foreign")
    cloud.client().create_load_balancer({"name": lb_name(web.ref), "tags": ["someone-else"]})
    with pytest.raises(OwnershipError):
        provider.ensure(web)
    with pytest.raises(OwnershipError):
        provider.delete(web.ref)
    assert _writes(recorder) == {}
