"""Discovery and the official `dynamic.DynamicClient`: every resource is found with its
kind, scope, verbs and subresources, and works through the generic client."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from kubernetes import client as k8s
from kubernetes import dynamic

from cloud_lb.testing.fakekube.resources import RESOURCES


@pytest.fixture
def dyn(api_client: k8s.ApiClient, tmp_path: Path) -> dynamic.DynamicClient:
    # the discovery cache file defaults to one shared path in the temp dir
    return dynamic.DynamicClient(api_client, cache_file=str(tmp_path / "discovery.json"))


@pytest.mark.parametrize("rt", RESOURCES, ids=[f"{r.group or 'core'}/{r.plural}"
                                               for r in RESOURCES])
def test_every_resource_is_discoverable(dyn: dynamic.DynamicClient, rt) -> None:
    resource = dyn.resources.get(api_version=rt.api_version, kind=rt.kind)
    assert resource.name == rt.plural and resource.namespaced == rt.namespaced
    assert set(resource.verbs) >= {"get", "list", "watch", "create", "update", "patch", "delete"}
    for sub in rt.subresources:
        assert sub in resource.subresources


def test_dynamic_client_crud_and_status(dyn: dynamic.DynamicClient, ns: str) -> None:
    services = dyn.resources.get(api_version="v1", kind="Service")
    created = services.create(body={"apiVersion": "v1", "kind": "Service",
                                    "metadata": {"name": "web"},
                                    "spec": {"type": "LoadBalancer", "ports": [{"port": 80}]}},
                              namespace=ns)
    assert created.spec.ports[0].nodePort >= 30000
    got = services.get(name="web", namespace=ns)
    assert got.metadata.uid == created.metadata.uid
    patched = services.patch(name="web", namespace=ns,
                             body={"metadata": {"labels": {"app": "web"}}},
                             content_type="application/merge-patch+json")
    assert patched.metadata.labels.app == "web"
    status = services.status.patch(name="web", namespace=ns, body={"status": {"loadBalancer": {
        "ingress": [{"ip": "192.0.2.4"}]}}}, content_type="application/merge-patch+json")
    assert status.status.loadBalancer.ingress[0].ip == "192.0.2.4"
    listed = services.get(namespace=ns, label_selector="app=web")
    assert [i.metadata.name for i in listed.items] == ["web"]
    body = status.to_dict()
    body["spec"]["sessionAffinity"] = "ClientIP"
    replaced = services.replace(body=body, namespace=ns)
    assert replaced.metadata.generation == 2
    services.delete(name="web", namespace=ns)
    assert services.get(namespace=ns).items == []


def test_dynamic_client_watch(dyn: dynamic.DynamicClient, ns: str) -> None:
    leases = dyn.resources.get(api_version="coordination.k8s.io/v1", kind="Lease")
    rv = leases.get(namespace=ns).metadata.resourceVersion
    leases.create(body={"metadata": {"name": "leader"}, "spec": {"holderIdentity": "a"}},
                  namespace=ns)
    for event in leases.watch(namespace=ns, resource_version=rv, timeout=5):
        assert event["type"] == "ADDED"
        assert event["raw_object"]["spec"]["holderIdentity"] == "a"
        break


def test_discovery_documents(api_client: k8s.ApiClient) -> None:
    version = k8s.VersionApi(api_client).get_code()
    assert version.major == "1" and version.git_version.startswith("v1.")
    groups = {g.name for g in k8s.ApisApi(api_client).get_api_versions().groups}
    assert groups == {"events.k8s.io", "discovery.k8s.io", "networking.k8s.io",
                      "coordination.k8s.io"}
    core = k8s.CoreV1Api(api_client).get_api_resources()
    names = {r.name for r in core.resources}
    assert {"services", "services/status", "nodes/status", "endpoints", "events"} <= names
    raw = api_client.call_api("/healthz", "GET", _preload_content=False,
                              auth_settings=["BearerToken"])
    assert raw.data == b"ok"
    openapi = api_client.call_api("/openapi/v3", "GET", _preload_content=False,
                                  auth_settings=["BearerToken"])
    assert "api/v1" in json.loads(openapi.data)["paths"]
