"""Fault injection: latency, failed requests by resource and verb, request counts."""

from __future__ import annotations

import time

import pytest
from kubernetes import client as k8s

from cloud_lb.testing.fakekube import FakeKubeServer
from tests.fakekube.conftest import expect_api_error


def test_fail_next_counts_down_and_filters_by_resource_and_verb(
        kube: FakeKubeServer, core: k8s.CoreV1Api, ns: str) -> None:
    kube.faults.fail_next(2, status=500, resource="services", verb="create")
    core.create_namespaced_config_map(ns, {"metadata": {"name": "other-resource"}})
    core.list_namespaced_service(ns)  # other verb
    body = {"metadata": {"name": "web"}, "spec": {"ports": [{"port": 80}]}}
    for _ in range(2):
        status = expect_api_error(500, lambda: core.create_namespaced_service(ns, body))
        assert status["reason"] == "InternalError"
        assert "injected failure of create services" in status["message"]
    assert core.create_namespaced_service(ns, body).metadata.name == "web"


def test_a_resource_rule_covers_its_subresources_unless_it_names_one(
        kube: FakeKubeServer, core: k8s.CoreV1Api, ns: str) -> None:
    core.create_namespaced_service(ns, {"metadata": {"name": "web"},
                                        "spec": {"type": "LoadBalancer", "ports": [{"port": 80}]}})
    kube.faults.fail_next(1, status=500, resource="services/status")
    core.patch_namespaced_service("web", ns, {"metadata": {"labels": {"a": "b"}}})
    expect_api_error(500, lambda: core.patch_namespaced_service_status(
        "web", ns, {"status": {"loadBalancer": {}}}))
    kube.faults.fail_next(1, status=500, resource="services")
    expect_api_error(500, lambda: core.patch_namespaced_service_status(
        "web", ns, {"status": {"loadBalancer": {}}}))


def test_throttling_of_a_read_reaches_a_client_that_does_not_retry(
        kube: FakeKubeServer, ns: str) -> None:
    api_client = kube.api_client()
    api_client.configuration.retries = False  # else urllib3 retries after Retry-After
    api_client.rest_client = type(api_client.rest_client)(api_client.configuration)
    core = k8s.CoreV1Api(api_client)
    kube.faults.fail_next(1, status=429, resource="services", verb="list")
    status = expect_api_error(429, lambda: core.list_namespaced_service(ns))
    assert status["reason"] == "TooManyRequests"
    assert kube.request_count(verb="list", resource="services") == 1
    api_client.close()


def test_latency_delays_matching_requests(kube: FakeKubeServer, core: k8s.CoreV1Api,
                                          ns: str) -> None:
    kube.faults.add_latency(0.3, resource="configmaps", verb="get")
    core.create_namespaced_config_map(ns, {"metadata": {"name": "c"}})
    started = time.monotonic()
    core.read_namespaced_config_map("c", ns)
    assert time.monotonic() - started >= 0.3  # a lower bound: never flaky
    kube.faults.clear()
    kube.faults.fail_next(1, resource="configmaps")
    kube.faults.clear()
    assert core.read_namespaced_config_map("c", ns).metadata.name == "c"


def test_fail_next_accepts_only_500_and_429(kube: FakeKubeServer) -> None:
    with pytest.raises(ValueError):
        kube.faults.fail_next(1, status=404)


def test_request_count(kube: FakeKubeServer, core: k8s.CoreV1Api, ns: str) -> None:
    before = kube.request_count()
    core.list_namespaced_service(ns)
    core.list_namespaced_service(ns)
    core.create_namespaced_config_map(ns, {"metadata": {"name": "c"}})
    core.read_namespaced_config_map("c", ns)
    assert kube.request_count() == before + 4
    assert kube.request_count(verb="list", resource="services") == 2
    assert kube.request_count(resource="configmaps") == 2
    assert kube.request_count(verb="create") >= 2  # the namespace and the config map
    assert kube.request_count(verb="patch") == 0
