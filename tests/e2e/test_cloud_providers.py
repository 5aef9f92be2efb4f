"""The controller, the fake API server and each cloud provider against its fake cloud:
the same Service lifecycle the local provider proves with traffic, proven here by the
cloud's own state (through the provider) and the Service's status."""

from __future__ import annotations

import importlib
import os
from collections.abc import Iterator
from typing import Any

import pytest
from kubernetes import client as k8s

from cloud_lb.commands.wiring import build_api, build_controller, build_provider
from cloud_lb.config import parse_config
from cloud_lb.provider import CallRecorder
from cloud_lb.testing.fakecluster import running_fake_cluster
from tests.controller.conftest import wait_until

CLOUDS = ["openstack", "aws", "gcp"]


@pytest.fixture(params=CLOUDS)
def env(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    name = request.param
    testing = importlib.import_module(f"providers.{name}.testing")
    with running_fake_cluster(nodes=3) as cluster:
        with testing.demo_cloud("e2e", [(n.name, n.ip) for n in cluster.nodes]) as cloud:
            for key, value in (cloud.env or {}).items():
                monkeypatch.setenv(key, value)
            cluster.set_provider_ids(cloud.provider_ids)
            config = parse_config({
                "clusterName": "e2e", "provider": name, name: cloud.config,
                "controller": {"nodeSyncDebounce": "0.1s"},
                "rateLimit": {"backoffBase": "0.2s", "backoffMax": "2s"},
            })
            recorder = CallRecorder()
            provider = build_provider(config, recorder)
            controller = build_controller(config, api=build_api(cluster.kubeconfig),
                                          provider=provider)
            controller.start()
            try:
                yield {"name": name, "cluster": cluster, "cloud": cloud, "provider": provider,
                       "controller": controller, "recorder": recorder,
                       "core": k8s.CoreV1Api(cluster.kube.api_client())}
            finally:
                controller.stop()
                provider.close()


def _published(core: k8s.CoreV1Api, name: str) -> Any:
    svc = core.read_namespaced_service(name, "default")
    ingress = svc.status.load_balancer.ingress if svc.status.load_balancer else None
    return ingress[0] if ingress else None


def test_service_lifecycle_against_each_cloud(env: dict[str, Any]) -> None:
    core, provider, controller, recorder = env["core"], env["provider"], env["controller"], env["recorder"]
    core.create_namespaced_service("default", {
        "apiVersion": "v1", "kind": "Service", "metadata": {"name": "web"},
        "spec": {"type": "LoadBalancer", "selector": {"app": "web"},
                 "ports": [{"name": "http", "port": 80, "targetPort": 8080},
                           {"name": "https", "port": 443, "targetPort": 8443}]}})
    point = wait_until(lambda: _published(core, "web"), 60, message="an address")
    assert point.ip or point.hostname
    if env["name"] == "aws":
        assert point.hostname and not point.ip  # NLBs publish a DNS name
    refs = provider.list_owned()
    assert [r.name for r in refs] == ["web"]
    status = provider.get(refs[0])
    assert status is not None and status.backends_total == 3
    controller.wait_idle(30)

    # an unchanged resync converges with zero mutating calls
    mutations = recorder.mutations()
    controller.resync()
    wait_until(lambda: controller.wait_idle(1), 30, message="resync done")
    assert recorder.mutations() == mutations

    # a node leaves: backends follow, listeners untouched
    env["cluster"].remove_node(env["cluster"].nodes[0].name)
    wait_until(lambda: provider.get(refs[0]).backends_total == 2, 30, message="2 backends")

    core.delete_namespaced_service("web", "default")
    wait_until(lambda: not core.list_namespaced_service(
        "default", field_selector="metadata.name=web").items, 60, message="the Service gone")
    assert provider.list_owned() == []
    reasons = {e.reason for e in core.list_namespaced_event("default").items
               if e.involved_object.name == "web"}
    assert {"EnsuredLoadBalancer", "DeletedLoadBalancer"} <= reasons
