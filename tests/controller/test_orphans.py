"""Orphan collection finds load balancers whose Service is gone, and only those."""

from __future__ import annotations

from cloud_lb.controller.orphans import find_orphans
from cloud_lb.model import LBRef, ObjectKind
from tests.controller.conftest import Harness, wait_until


def _ref(name: str, uid: str, kind: ObjectKind = ObjectKind.SERVICE) -> LBRef:
    return LBRef(cluster="c", kind=kind, namespace="ns", name=name, uid=uid)


def test_only_refs_of_read_kinds_with_a_missing_uid_are_orphans() -> None:
    owned = [_ref("alive", "u1"), _ref("gone", "u2"), _ref("ing", "u3", ObjectKind.INGRESS)]
    assert find_orphans(owned, {"u1"}) == [_ref("gone", "u2")]
    # an Ingress whose kind was not read is never an orphan
    assert _ref("ing", "u3", ObjectKind.INGRESS) not in find_orphans(owned, set())


def test_a_service_removed_behind_the_finalizers_back_is_collected(harness: Harness) -> None:
    harness.create_service("keep")
    harness.create_service("lost")
    harness.address("keep")
    harness.address("lost")
    harness.settle()
    harness.stop()
    # someone strips the finalizer and deletes the Service while the controller is down
    harness.core.patch_namespaced_service("lost", "default", {"metadata": {"finalizers": None}},
                                          _content_type="application/merge-patch+json")
    harness.core.delete_namespaced_service("lost", "default")
    wait_until(lambda: harness.service("lost") is None, message="the Service gone")
    controller = harness.start()
    orphans = controller.collect_orphans()
    assert [r.name for r in orphans] == ["lost"]
    assert [r.name for r in harness.provider.list_owned()] == ["keep"]
    assert controller.collect_orphans() == []
