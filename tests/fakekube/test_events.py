"""core/v1 Events and events.k8s.io/v1 Events are one collection, as on a real cluster."""

from __future__ import annotations

from kubernetes import client as k8s

from tests.fakekube.conftest import expect_api_error


def _event(ns: str, name: str, regarding: str) -> dict:
    return {"metadata": {"name": name}, "eventTime": "2024-01-01T00:00:00.000000Z",
            "reportingController": "cloud-lb.dev/service-controller",
            "reportingInstance": "cloud-lb-0", "action": "Ensure", "type": "Warning",
            "reason": "SyncLoadBalancerFailed", "note": "quota exceeded",
            "regarding": {"kind": "Service", "namespace": ns, "name": regarding}}


def test_an_event_written_through_one_api_reads_through_the_other(
        api_client: k8s.ApiClient, ns: str) -> None:
    events_v1 = k8s.EventsV1Api(api_client)
    core = k8s.CoreV1Api(api_client)
    events_v1.create_namespaced_event(ns, _event(ns, "e1", "web"))
    legacy = core.read_namespaced_event("e1", ns)
    assert legacy.involved_object.name == "web" and legacy.message == "quota exceeded"
    assert legacy.reporting_component == "cloud-lb.dev/service-controller"
    assert legacy.reason == "SyncLoadBalancerFailed" and legacy.type == "Warning"

    # (an event without eventTime would read back through events.k8s.io with a null
    # eventTime, which the Python client's EventsV1Event refuses, as with a real cluster)
    core.create_namespaced_event(ns, {"metadata": {"name": "e2"}, "reason": "Old",
                                      "eventTime": "2024-01-01T00:00:00.000000Z",
                                      "message": "from core", "type": "Normal",
                                      "involvedObject": {"kind": "Service", "name": "db",
                                                         "namespace": ns}})
    newer = events_v1.read_namespaced_event("e2", ns)
    assert newer.regarding.name == "db" and newer.note == "from core"
    assert newer.kind == "Event" and newer.api_version == "events.k8s.io/v1"


def test_event_field_selectors(api_client: k8s.ApiClient, ns: str) -> None:
    events_v1 = k8s.EventsV1Api(api_client)
    core = k8s.CoreV1Api(api_client)
    for name, regarding in (("a", "web"), ("b", "db")):
        events_v1.create_namespaced_event(ns, _event(ns, name, regarding))
    by_core = core.list_namespaced_event(
        ns, field_selector="involvedObject.kind=Service,involvedObject.name=web")
    assert [e.metadata.name for e in by_core.items] == ["a"]
    by_new = events_v1.list_namespaced_event(ns, field_selector="regarding.name=db")
    assert [e.metadata.name for e in by_new.items] == ["b"]
    assert len(core.list_namespaced_event(ns, field_selector="reason=SyncLoadBalancerFailed")
               .items) == 2


def test_events_k8s_io_validation(api_client: k8s.ApiClient, ns: str) -> None:
    events_v1 = k8s.EventsV1Api(api_client)
    body = _event(ns, "bad", "web")
    body["type"] = "Catastrophe"
    del body["action"]
    status = expect_api_error(422, lambda: events_v1.create_namespaced_event(ns, body))
    assert {c["field"] for c in status["details"]["causes"]} == {"action", "type"}
