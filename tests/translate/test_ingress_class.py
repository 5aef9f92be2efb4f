"""Which Ingresses are ours, when ours must be cleaned up, and what an Ingress names."""

from __future__ import annotations

from typing import Any

import pytest

from cloud_lb.translate.ingress_class import (
    DEFAULT_FINALIZER,
    IngressReferences,
    IngressSettings,
    finalizer_for,
    is_ours,
    needs_cleanup,
    references,
    should_enqueue,
)

OURS = "cloud-lb.io/ingress-controller"
S = IngressSettings()


def klass(name: str, controller: str = OURS, *, default: bool = False,
          created: str = "2024-01-01T00:00:00Z") -> dict[str, Any]:
    annotations = {"ingressclass.kubernetes.io/is-default-class": "true"} if default else {}
    return {"metadata": {"name": name, "annotations": annotations, "creationTimestamp": created},
            "spec": {"controller": controller}}


def ing(class_name: str | None = None, legacy: str | None = None,
        finalizers: list[str] | None = None, deleting: bool = False) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": "web", "namespace": "shop",
                            "annotations": {"kubernetes.io/ingress.class": legacy} if legacy else {},
                            "finalizers": finalizers or []}
    if deleting:
        meta["deletionTimestamp"] = "2024-01-01T00:00:00Z"
    spec = {"ingressClassName": class_name} if class_name else {}
    return {"metadata": meta, "spec": spec}


MINE, THEIRS = klass("cloud-lb"), klass("nginx", "k8s.io/ingress-nginx")


@pytest.mark.parametrize(("ingress", "classes", "ours"), [
    (ing("cloud-lb"), [MINE, THEIRS], True),  # our class by name
    (ing("nginx"), [MINE, THEIRS], False),  # another controller's class
    (ing("missing"), [MINE], False),  # a class that does not exist is nobody's yet
    (ing(legacy="cloud-lb"), [], True),  # the legacy annotation with our class name
    (ing(legacy="nginx"), [MINE], False),
    (ing("nginx", legacy="cloud-lb"), [MINE, THEIRS], False),  # the field wins
    (ing(), [klass("cloud-lb", default=True), THEIRS], True),  # our class is the default
    (ing(), [MINE, klass("nginx", "k8s.io/ingress-nginx", default=True)], False),
    (ing(), [MINE], False),  # no class and no default: nobody's
    # two defaults: the newest wins, as the admission plugin decides
    (ing(), [klass("cloud-lb", default=True, created="2024-02-01T00:00:00Z"),
             klass("nginx", "k8s.io/ingress-nginx", default=True)], True),
    (ing(), [klass("cloud-lb", default=True),
             klass("nginx", "k8s.io/ingress-nginx", default=True, created="2025-01-01T00:00:00Z")],
     False),
], ids=["by-name", "foreign-name", "missing-class", "legacy-ours", "legacy-foreign",
        "field-over-annotation", "default-ours", "default-foreign", "no-default",
        "newest-default-ours", "newest-default-foreign"])
def test_class_selection(ingress, classes, ours) -> None:
    assert is_ours(ingress, classes, S) is ours


@pytest.mark.parametrize(("ingress", "cleanup"), [
    (ing("cloud-lb", finalizers=[DEFAULT_FINALIZER]), False),  # ours and alive
    (ing("cloud-lb", finalizers=[DEFAULT_FINALIZER], deleting=True), True),
    (ing("nginx", finalizers=[DEFAULT_FINALIZER]), True),  # switched class away from us
    (ing("nginx", finalizers=["other.io/finalizer"]), False),  # never ours
    (ing("cloud-lb", deleting=True), False),  # nothing of ours holds it
], ids=["alive", "deleting", "class-switched", "foreign", "no-finalizer"])
def test_cleanup_needs_our_finalizer_and_deletion_or_a_class_switch(ingress, cleanup) -> None:
    assert needs_cleanup(ingress, [MINE, THEIRS], S) is cleanup
    assert should_enqueue(ingress, [MINE, THEIRS], S) is (cleanup or is_ours(ingress, [MINE, THEIRS], S))


def test_finalizers_differ_per_controller_name_and_are_qualified_names() -> None:
    assert finalizer_for(OURS) == DEFAULT_FINALIZER
    other = finalizer_for("example.com/a/b")
    assert other != DEFAULT_FINALIZER and other.count("/") == 1
    assert IngressSettings(controller_name="example.com/a/b").finalizer == other
    assert finalizer_for("example.com/a/b") == other  # stable


def test_references_are_namespaced_and_tolerate_odd_objects() -> None:
    ingress = {"metadata": {"namespace": "shop"}, "spec": {
        "defaultBackend": {"service": {"name": "fallback"}},
        "rules": [{"http": {"paths": [{"backend": {"service": {"name": "a"}}},
                                      {"backend": {"resource": {"name": "bucket"}}}, "junk"]}},
                  {"host": "no-http"}, None],
        "tls": [{"secretName": "cert"}, {"hosts": ["x"]}, "junk"]}}
    assert references(ingress) == IngressReferences(frozenset({"shop/fallback", "shop/a"}),
                                                    frozenset({"shop/cert"}))
    assert references({}) == IngressReferences()


def test_settings_reject_clashing_ports() -> None:
    with pytest.raises(ValueError):
        IngressSettings(http_port=8080, https_port=8080)
