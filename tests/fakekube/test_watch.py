"""Watches through `kubernetes.watch.Watch`: resume from a resourceVersion, 410 Gone,
bookmarks, timeoutSeconds, selectors, initial events, dropped watches."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from kubernetes import client as k8s
from kubernetes import watch
from kubernetes.client.rest import ApiException

from cloud_lb.testing.fakekube import FakeKubeServer, running_fake_kube

Event = dict[str, Any]


def collect(func: Callable[..., Any], *args: Any, until: Callable[[list[Event]], bool],
            **kwargs: Any) -> list[Event]:
    """Events from a watch until `until(events)` holds (the server's timeout is the net)."""
    events: list[Event] = []
    w = watch.Watch()
    kwargs.setdefault("timeout_seconds", 10)
    for event in w.stream(func, *args, **kwargs):
        events.append(event)
        if until(events):
            w.stop()
    return events


def _writes(core: k8s.CoreV1Api, ns: str, prefix: str, n: int) -> list[tuple[str, str, str]]:
    """n creates, updates and deletes; returns (type, name, resourceVersion) as committed."""
    done = []
    for i in range(n):
        name = f"{prefix}{i}"
        c = core.create_namespaced_config_map(ns, {"metadata": {"name": name}})
        done.append(("ADDED", name, c.metadata.resource_version))
        if i % 2 == 0:
            m = core.patch_namespaced_config_map(name, ns, {"data": {"i": str(i)}})
            done.append(("MODIFIED", name, m.metadata.resource_version))
        if i % 3 == 0:
            core.delete_namespaced_config_map(name, ns)
            # the DELETED event carries the resourceVersion of the deletion
            done.append(("DELETED", name, None))
    return done


def _shape(events: list[Event]) -> list[tuple[str, str]]:
    return [(e["type"], e["raw_object"]["metadata"]["name"]) for e in events]


def test_resume_from_a_resource_version_misses_and_repeats_nothing(core: k8s.CoreV1Api,
                                                                   ns: str) -> None:
    start = core.list_namespaced_config_map(ns).metadata.resource_version
    expected = _writes(core, ns, "c", 12)
    total = len(expected)

    everything = collect(core.list_namespaced_config_map, ns, resource_version=start,
                         until=lambda ev: len(ev) == total)
    assert _shape(everything) == [(t, n) for t, n, _ in expected]
    versions = [int(e["raw_object"]["metadata"]["resourceVersion"]) for e in everything]
    assert versions == sorted(versions) and len(set(versions)) == total

    # a client that stops half way and resumes from the last resourceVersion it saw
    first = collect(core.list_namespaced_config_map, ns, resource_version=start,
                    until=lambda ev: len(ev) == total // 2)
    resume_at = first[-1]["raw_object"]["metadata"]["resourceVersion"]
    rest = collect(core.list_namespaced_config_map, ns, resource_version=resume_at,
                   until=lambda ev: len(ev) == total - total // 2)
    assert _shape(first + rest) == _shape(everything)


def test_watch_without_resource_version_starts_with_the_current_objects(
        core: k8s.CoreV1Api, ns: str) -> None:
    for i in range(3):
        core.create_namespaced_config_map(ns, {"metadata": {"name": f"c{i}"}})

    def create_later() -> None:
        core.create_namespaced_config_map(ns, {"metadata": {"name": "late"}})

    timer = threading.Timer(0.2, create_later)
    timer.start()
    events = collect(core.list_namespaced_config_map, ns, until=lambda ev: len(ev) == 4)
    timer.join()
    assert _shape(events) == [("ADDED", "c0"), ("ADDED", "c1"), ("ADDED", "c2"), ("ADDED", "late")]


def test_too_old_resource_version_gives_410_then_a_relist_recovers() -> None:
    with running_fake_kube(history_size=5) as kube:
        api_client = kube.api_client()
        core = k8s.CoreV1Api(api_client)
        first = core.create_namespaced_config_map("default", {"metadata": {"name": "c0"}})
        for i in range(1, 10):
            core.create_namespaced_config_map("default", {"metadata": {"name": f"c{i}"}})
        with pytest.raises(ApiException) as info:
            collect(core.list_namespaced_config_map, "default",
                    resource_version=first.metadata.resource_version, until=lambda ev: False)
        assert info.value.status == 410
        assert "too old resource version" in info.value.reason

        listed = core.list_namespaced_config_map("default")
        core.create_namespaced_config_map("default", {"metadata": {"name": "after"}})
        events = collect(core.list_namespaced_config_map, "default",
                         resource_version=listed.metadata.resource_version,
                         until=lambda ev: len(ev) == 1)
        assert _shape(events) == [("ADDED", "after")]
        api_client.close()


def test_bookmarks_carry_only_a_resource_version_and_are_safe_to_resume_from(
        core: k8s.CoreV1Api, ns: str) -> None:
    made = core.create_namespaced_config_map(ns, {"metadata": {"name": "before"}})
    events = collect(core.list_namespaced_config_map, ns,
                     resource_version=made.metadata.resource_version,
                     allow_watch_bookmarks=True, until=lambda ev: ev[-1]["type"] == "BOOKMARK")
    bookmark = events[-1]["raw_object"]
    assert set(bookmark) == {"kind", "apiVersion", "metadata"}
    assert bookmark["kind"] == "ConfigMap" and bookmark["apiVersion"] == "v1"
    assert set(bookmark["metadata"]) == {"resourceVersion"}
    assert int(bookmark["metadata"]["resourceVersion"]) >= int(made.metadata.resource_version)

    core.create_namespaced_config_map(ns, {"metadata": {"name": "after"}})
    resumed = collect(core.list_namespaced_config_map, ns,
                      resource_version=bookmark["metadata"]["resourceVersion"],
                      until=lambda ev: len(ev) == 1)
    assert _shape(resumed) == [("ADDED", "after")]


def test_no_bookmarks_unless_allowed(kube: FakeKubeServer, core: k8s.CoreV1Api, ns: str) -> None:
    # the fixture's bookmark interval is 0.2 s: a 1 s watch would have seen several
    events = collect(core.list_namespaced_config_map, ns, resource_version="1",
                     timeout_seconds=1, until=lambda ev: False)
    assert [e["type"] for e in events if e["type"] == "BOOKMARK"] == []


def test_timeout_seconds_ends_the_watch(core: k8s.CoreV1Api, ns: str) -> None:
    rv = core.list_namespaced_config_map(ns).metadata.resource_version
    events = collect(core.list_namespaced_config_map, ns, resource_version=rv,
                     timeout_seconds=1, until=lambda ev: False)
    assert events == []


def test_label_selector_watch_sees_objects_enter_and_leave(core: k8s.CoreV1Api, ns: str) -> None:
    rv = core.list_namespaced_config_map(ns).metadata.resource_version
    core.create_namespaced_config_map(ns, {"metadata": {"name": "a", "labels": {"app": "web"}}})
    core.create_namespaced_config_map(ns, {"metadata": {"name": "b"}})
    core.patch_namespaced_config_map("a", ns, {"metadata": {"labels": {"app": "db"}}})
    core.patch_namespaced_config_map("b", ns, {"metadata": {"labels": {"app": "web"}}})
    core.patch_namespaced_config_map("b", ns, {"data": {"x": "1"}})
    core.delete_namespaced_config_map("b", ns)
    events = collect(core.list_namespaced_config_map, ns, resource_version=rv,
                     label_selector="app=web", until=lambda ev: len(ev) == 5)
    assert _shape(events) == [("ADDED", "a"), ("DELETED", "a"), ("ADDED", "b"),
                              ("MODIFIED", "b"), ("DELETED", "b")]


def test_field_selector_and_scope_narrow_a_watch(core: k8s.CoreV1Api, ns: str) -> None:
    rv = core.list_namespaced_config_map(ns).metadata.resource_version
    core.create_namespace({"metadata": {"name": f"{ns}-other"}})
    core.create_namespaced_config_map(f"{ns}-other", {"metadata": {"name": "x"}})
    core.create_namespaced_secret(ns, {"metadata": {"name": "x"}})
    core.create_namespaced_config_map(ns, {"metadata": {"name": "y"}})
    core.create_namespaced_config_map(ns, {"metadata": {"name": "x"}})
    events = collect(core.list_namespaced_config_map, ns, resource_version=rv,
                     field_selector="metadata.name=x", until=lambda ev: len(ev) == 1)
    assert [(e["type"], e["raw_object"]["metadata"]["namespace"]) for e in events] == [
        ("ADDED", ns)]
    everywhere = collect(core.list_config_map_for_all_namespaces, resource_version=rv,
                         field_selector="metadata.name=x", until=lambda ev: len(ev) == 2)
    assert {e["raw_object"]["metadata"]["namespace"] for e in everywhere} == {ns, f"{ns}-other"}


def test_send_initial_events_ends_with_an_annotated_bookmark(core: k8s.CoreV1Api,
                                                             ns: str) -> None:
    for name in ("a", "b"):
        core.create_namespaced_config_map(ns, {"metadata": {"name": name}})
    events = collect(core.list_namespaced_config_map, ns, send_initial_events=True,
                     resource_version_match="NotOlderThan", allow_watch_bookmarks=True,
                     until=lambda ev: ev[-1]["type"] == "BOOKMARK")
    assert [e["type"] for e in events] == ["ADDED", "ADDED", "BOOKMARK"]
    assert events[-1]["raw_object"]["metadata"]["annotations"] == {
        "k8s.io/initial-events-end": "true"}


def test_dropped_watches_end_and_the_client_resumes_without_a_gap(
        kube: FakeKubeServer, core: k8s.CoreV1Api, ns: str) -> None:
    rv = core.list_namespaced_config_map(ns).metadata.resource_version
    seen: list[str] = []
    first_seen = threading.Event()
    w = watch.Watch()

    def consume() -> None:
        for event in w.stream(core.list_namespaced_config_map, ns, resource_version=rv):
            seen.append(event["raw_object"]["metadata"]["name"])
            first_seen.set()
            if len(seen) == 4:
                w.stop()

    thread = threading.Thread(target=consume)
    thread.start()
    core.create_namespaced_config_map(ns, {"metadata": {"name": "a"}})
    assert first_seen.wait(10)
    assert kube.faults.drop_watches() == 1
    for name in ("b", "c", "d"):
        core.create_namespaced_config_map(ns, {"metadata": {"name": name}})
    thread.join(10)
    assert not thread.is_alive()
    assert seen == ["a", "b", "c", "d"]
    assert kube.request_count(verb="watch", resource="configmaps") == 2


def test_a_dropped_watch_stream_ends_cleanly(kube: FakeKubeServer, core: k8s.CoreV1Api,
                                             ns: str) -> None:
    response = core.list_namespaced_config_map(ns, watch=True, _preload_content=False)
    core.create_namespaced_config_map(ns, {"metadata": {"name": "a"}})
    kube.faults.drop_watches()
    lines = response.read().splitlines()  # returns: the chunked stream was terminated
    assert len(lines) == 1 and b'"type":"ADDED"' in lines[0] and b'"name":"a"' in lines[0]
    response.release_conn()


def test_expired_watch_makes_the_client_relist(kube: FakeKubeServer, core: k8s.CoreV1Api,
                                               ns: str) -> None:
    listed = core.list_namespaced_config_map(ns)
    core.create_namespaced_config_map(ns, {"metadata": {"name": "missed"}})
    kube.faults.expire_next_watch()
    # the very next watch fails whatever it asks for, and the history is compacted
    with pytest.raises(ApiException) as info:
        collect(core.list_namespaced_config_map, ns, timeout_seconds=5, until=lambda ev: False)
    assert info.value.status == 410
    with pytest.raises(ApiException) as info:
        collect(core.list_namespaced_config_map, ns,
                resource_version=listed.metadata.resource_version, until=lambda ev: False)
    assert info.value.status == 410
    fresh = core.list_namespaced_config_map(ns).metadata.resource_version
    core.create_namespaced_config_map(ns, {"metadata": {"name": "a"}})
    events = collect(core.list_namespaced_config_map, ns, resource_version=fresh,
                     until=lambda ev: len(ev) == 1)
    assert _shape(events) == [("ADDED", "a")]
