"""Table tests of the Service predicates, one sentence per case."""

from __future__ import annotations

from typing import Any

import pytest

from cloud_lb.translate.predicates import (
    FINALIZER,
    has_finalizer,
    is_being_deleted,
    is_ours_by_class,
    needs_cleanup,
    should_enqueue,
    wants_load_balancer,
)
from cloud_lb.translate.settings import TranslateSettings

from .conftest import make_service

UNCLASSED = TranslateSettings(cluster_name="c")
CLASSED = TranslateSettings(cluster_name="c", load_balancer_class="cloud-lb.io/lb")
CLASSED_ONLY = TranslateSettings(cluster_name="c", load_balancer_class="cloud-lb.io/lb",
                                 manage_unclassed=False)


def svc(*, type_: str = "LoadBalancer", cls: str | None = None, finalizer: bool = False,
        deleting: bool = False) -> dict[str, Any]:
    s = make_service(type=type_)
    if cls is not None:
        s["spec"]["loadBalancerClass"] = cls
    if finalizer:
        s["metadata"]["finalizers"] = ["foo.example/other", FINALIZER]
    if deleting:
        s["metadata"]["deletionTimestamp"] = "2024-01-01T00:00:00Z"
    return s


WANTS = [
    ("an unclassed LoadBalancer Service is ours by default", svc(), UNCLASSED, True),
    ("a ClusterIP Service never wants a load balancer", svc(type_="ClusterIP"), UNCLASSED, False),
    ("a NodePort Service never wants a load balancer", svc(type_="NodePort"), UNCLASSED, False),
    ("a Service of our class is ours", svc(cls="cloud-lb.io/lb"), CLASSED, True),
    ("a Service of another class is never ours", svc(cls="other.io/lb"), CLASSED, False),
    ("a classed Service is not ours when we have no class", svc(cls="cloud-lb.io/lb"), UNCLASSED, False),
    ("an unclassed Service is ours when we have a class and manage unclassed", svc(), CLASSED, True),
    ("an unclassed Service is not ours when manage_unclassed is off", svc(), CLASSED_ONLY, False),
    ("our class is still ours when manage_unclassed is off", svc(cls="cloud-lb.io/lb"), CLASSED_ONLY, True),
    ("an empty class string counts as unset", svc(cls=""), UNCLASSED, True),
]


@pytest.mark.parametrize("sentence,service,settings,expected", WANTS, ids=[w[0] for w in WANTS])
def test_wants_load_balancer(sentence: str, service: dict, settings: TranslateSettings,
                             expected: bool) -> None:
    assert wants_load_balancer(service, settings) is expected, sentence


CLEANUP = [
    ("without our finalizer there is nothing to clean up", svc(deleting=True), UNCLASSED, False),
    ("a live LoadBalancer Service with the finalizer keeps its LB", svc(finalizer=True), UNCLASSED, False),
    ("a Service being deleted with the finalizer needs cleanup",
     svc(finalizer=True, deleting=True), UNCLASSED, True),
    ("a Service changed to ClusterIP with the finalizer needs cleanup",
     svc(type_="ClusterIP", finalizer=True), UNCLASSED, True),
    ("a type change wipes the class, so an unclassed ClusterIP is cleaned up even when unclassed are not ours",
     svc(type_="ClusterIP", finalizer=True), CLASSED_ONLY, True),
    ("a Service of another class being deleted is the other controller's to clean up",
     svc(cls="other.io/lb", finalizer=True, deleting=True), CLASSED, False),
    ("a live Service of another class with the shared finalizer is never touched",
     svc(cls="other.io/lb", finalizer=True), CLASSED, False),
    ("a non-LoadBalancer Service still naming a foreign class is not ours",
     svc(type_="ClusterIP", cls="other.io/lb", finalizer=True), CLASSED, False),
    ("a Service of our class being deleted needs cleanup",
     svc(cls="cloud-lb.io/lb", finalizer=True, deleting=True), CLASSED, True),
    ("an unclassed Service being deleted belongs to the other CCM when unclassed are not ours",
     svc(finalizer=True, deleting=True), CLASSED_ONLY, False),
]


@pytest.mark.parametrize("sentence,service,settings,expected", CLEANUP, ids=[c[0] for c in CLEANUP])
def test_needs_cleanup(sentence: str, service: dict, settings: TranslateSettings,
                       expected: bool) -> None:
    assert needs_cleanup(service, settings) is expected, sentence


def test_should_enqueue_is_wants_or_cleanup() -> None:
    assert should_enqueue(svc(), UNCLASSED)
    assert should_enqueue(svc(type_="ClusterIP", finalizer=True), UNCLASSED)
    assert not should_enqueue(svc(type_="ClusterIP"), UNCLASSED)
    assert not should_enqueue(svc(cls="other.io/lb", finalizer=True), CLASSED)


def test_object_helpers_tolerate_missing_and_odd_metadata() -> None:
    assert not is_being_deleted({})
    assert not is_being_deleted({"metadata": None})
    assert is_being_deleted({"metadata": {"deletionTimestamp": "2024-01-01T00:00:00Z"}})
    assert not has_finalizer({"metadata": {"finalizers": None}}, FINALIZER)
    assert has_finalizer({"metadata": {"finalizers": [FINALIZER]}}, FINALIZER)
    assert not wants_load_balancer({}, UNCLASSED)
    assert not is_ours_by_class({"spec": {"loadBalancerClass": "x"}}, UNCLASSED)
