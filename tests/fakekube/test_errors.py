"""Every refusal is a Kubernetes `Status` with the right code, a reason and a message
that says what is wrong (the official client raises ApiException carrying it)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from kubernetes import client as k8s

from cloud_lb.testing.fakekube import FakeKubeServer
from tests.fakekube.conftest import expect_api_error

Call = Callable[[k8s.ApiClient, str], Any]


def _raw(method: str, path: str, body: Any = None, content_type: str = "application/json") -> Call:
    def call(api_client: k8s.ApiClient, ns: str) -> Any:
        return api_client.call_api(
            path.format(ns=ns), method, body=body, header_params={"Content-Type": content_type,
                                                                  "Accept": "application/json"},
            auth_settings=["BearerToken"], _preload_content=False)
    return call


def _core(fn: Callable[[k8s.CoreV1Api, str], Any]) -> Call:
    return lambda api_client, ns: fn(k8s.CoreV1Api(api_client), ns)


SVC = {"metadata": {"name": "web"}, "spec": {"ports": [{"port": 80}]}}

CASES: list[tuple[str, int, str, Call, str]] = [
    ("bad label selector", 400, "BadRequest",
     _core(lambda c, ns: c.list_namespaced_service(ns, label_selector="a in (b")),
     "unable to parse requirement"),
    ("unsupported field selector", 400, "BadRequest",
     _core(lambda c, ns: c.list_namespaced_service(ns, field_selector="spec.ports=1")),
     "field label not supported: spec.ports"),
    ("name in body differs from URL", 400, "BadRequest",
     _core(lambda c, ns: c.replace_namespaced_service("web", ns, {
         "metadata": {"name": "other"}, "spec": {"ports": [{"port": 80}]}})),
     "does not match the name on the URL (web)"),
    ("resourceVersion on create", 400, "BadRequest",
     _core(lambda c, ns: c.create_namespaced_config_map(ns, {
         "metadata": {"name": "x", "resourceVersion": "5"}})),
     "resourceVersion should not be set on objects to be created"),
    ("namespace in body differs", 400, "BadRequest",
     _core(lambda c, ns: c.create_namespaced_config_map(ns, {
         "metadata": {"name": "x", "namespace": "kube-system"}})),
     "does not match the namespace sent on the request"),
    ("body is not an object", 400, "BadRequest",
     _raw("POST", "/api/v1/namespaces/{ns}/configmaps", body="just a string"),
     "must be a JSON object"),
    ("missing object", 404, "NotFound",
     _core(lambda c, ns: c.read_namespaced_service("absent", ns)), 'services "absent" not found'),
    ("unknown resource", 404, "NotFound", _raw("GET", "/api/v1/widgets"),
     "could not find the requested resource"),
    ("unknown group", 404, "NotFound", _raw("GET", "/apis/example.com/v1"),
     "could not find the requested resource"),
    ("create without a namespace", 405, "MethodNotAllowed",
     _raw("POST", "/api/v1/services", body=SVC), "does not allow this method"),
    ("delete of a subresource", 405, "MethodNotAllowed",
     _raw("DELETE", "/api/v1/namespaces/{ns}/services/web/status"), "does not allow this method"),
    ("already exists", 409, "AlreadyExists",
     _core(lambda c, ns: c.create_namespaced_service(ns, SVC)), 'services "web" already exists'),
    ("stale resourceVersion", 409, "Conflict",
     _core(lambda c, ns: c.patch_namespaced_service("web", ns, {
         "metadata": {"resourceVersion": "1"}})), "the object has been modified"),
    ("protobuf body", 415, "UnsupportedMediaType",
     _raw("POST", "/api/v1/namespaces/{ns}/configmaps", body=b"\x6b\x38\x73\x00",
          content_type="application/vnd.kubernetes.protobuf"), "accepts JSON request bodies only"),
    ("invalid Service", 422, "Invalid",
     _core(lambda c, ns: c.create_namespaced_service(ns, {
         "metadata": {"name": "bad"}, "spec": {"ports": [{"port": 99999}]}})),
     "spec.ports[0].port: Invalid value: 99999: must be between 1 and 65535, inclusive"),
    ("invalid name", 422, "Invalid",
     _core(lambda c, ns: c.create_namespaced_config_map(ns, {"metadata": {"name": "Not_OK"}})),
     "metadata.name: Invalid value: \"Not_OK\": a lowercase RFC 1123 subdomain"),
    ("missing name", 422, "Invalid",
     _core(lambda c, ns: c.create_namespaced_config_map(ns, {"metadata": {}})),
     "metadata.name: Required value: name or generateName is required"),
    ("invalid label", 422, "Invalid",
     _core(lambda c, ns: c.create_namespaced_config_map(ns, {
         "metadata": {"name": "x", "labels": {"ok": "not ok"}}})), "metadata.labels"),
    ("invalid events.k8s.io event", 422, "Invalid",
     lambda api, ns: k8s.EventsV1Api(api).create_namespaced_event(ns, {
         "metadata": {"name": "e"}, "eventTime": "2024-01-01T00:00:00.000000Z",
         "type": "Normal"}),
     "reportingController: Required value"),
    ("immutable ConfigMap", 422, "Invalid",
     _core(lambda c, ns: c.patch_namespaced_config_map("frozen", ns, {"data": {"a": "2"}})),
     "field is immutable when `immutable` is set"),
]


@pytest.mark.parametrize(("what", "code", "reason", "call", "text"), CASES,
                         ids=[c[0] for c in CASES])
def test_errors_are_status_objects_with_a_useful_message(
        api_client: k8s.ApiClient, ns: str, what: str, code: int, reason: str, call: Call,
        text: str) -> None:
    core = k8s.CoreV1Api(api_client)
    core.create_namespaced_service(ns, SVC)
    core.create_namespaced_config_map(ns, {"metadata": {"name": "frozen"}, "data": {"a": "1"},
                                           "immutable": True})
    status = expect_api_error(code, lambda: call(api_client, ns))
    assert status["reason"] == reason
    assert text in status["message"], status["message"]


def test_invalid_errors_name_every_field(core: k8s.CoreV1Api, ns: str) -> None:
    status = expect_api_error(422, lambda: core.create_namespaced_service(ns, {
        "metadata": {"name": "bad"},
        "spec": {"type": "LoadBalancer", "ports": [{"port": 0, "protocol": "ICMP"}],
                 "loadBalancerSourceRanges": ["x"]}}))
    fields = [c["field"] for c in status["details"]["causes"]]
    # targetPort defaults to port, so it is invalid too, as on a real server
    assert fields == ["spec.ports[0].port", "spec.ports[0].protocol", "spec.ports[0].targetPort",
                      "spec.loadBalancerSourceRanges[0]"]
    assert status["message"].startswith('Service "bad" is invalid: [spec.ports[0].port: ')


def test_secret_values_never_appear_in_errors(core: k8s.CoreV1Api, ns: str) -> None:
    status = expect_api_error(422, lambda: core.create_namespaced_secret(ns, {
        "metadata": {"name": "s"}, "data": {"password": "hunter2-not-base64!"}}))
    assert "hunter2" not in str(status)
    assert status["details"]["causes"][0]["field"] == "data[password]"


def test_injected_throttling_says_so(kube: FakeKubeServer, core: k8s.CoreV1Api, ns: str) -> None:
    # a create: urllib3 itself retries idempotent requests answered 429 + Retry-After
    kube.faults.fail_next(1, status=429, resource="configmaps", verb="create")
    status = expect_api_error(429, lambda: core.create_namespaced_config_map(
        ns, {"metadata": {"name": "c"}}))
    assert status["reason"] == "TooManyRequests"
    assert "injected throttling of create configmaps" in status["message"]
    assert status["details"]["retryAfterSeconds"] == 1
