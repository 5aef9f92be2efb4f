"""Every verb on every resource, through the typed clients of the official `kubernetes`
package: create, get, list (namespaced and all namespaces), watch, update (PUT), patch,
delete, deletecollection, and the `status` subresource where the resource has one."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from kubernetes import client as k8s
from kubernetes import watch

from cloud_lb.testing.fakekube import FakeKubeServer
from tests.fakekube.conftest import expect_api_error

Body = Callable[[str, str], dict[str, Any]]


@dataclass(frozen=True)
class Case:
    api: type
    suffix: str  # the typed client's method suffix: create_namespaced_<suffix> ...
    namespaced: bool
    body: Body  # (name, namespace) -> manifest
    status: dict[str, Any] | None = None  # a valid status, when there is a /status
    all_namespaces: str | None = None  # list_<this>_for_all_namespaces

    def call(self, api_client: k8s.ApiClient, verb: str, *args: Any, **kwargs: Any) -> Any:
        api = self.api(api_client)
        if self.namespaced:
            return getattr(api, f"{verb}_namespaced_{self.suffix}")(*args, **kwargs)
        args = tuple(a for a in args if a is not _NS)
        return getattr(api, f"{verb}_{self.suffix}")(*args, **kwargs)


_NS = object()  # placeholder removed for cluster-scoped resources

CASES = {
    "services": Case(k8s.CoreV1Api, "service", True,
                     lambda n, ns: {"metadata": {"name": n}, "spec": {"ports": [{"port": 80}]}},
                     {"loadBalancer": {"ingress": [{"ip": "192.0.2.1", "ipMode": "VIP"}]}},
                     "service"),
    "nodes": Case(k8s.CoreV1Api, "node", False,
                  lambda n, ns: {"metadata": {"name": n},
                                 "status": {"conditions": [{"type": "Ready", "status": "True"}]}},
                  {"conditions": [{"type": "Ready", "status": "False"}]}),
    "namespaces": Case(k8s.CoreV1Api, "namespace", False, lambda n, ns: {"metadata": {"name": n}},
                       {"phase": "Active"}),
    "endpoints": Case(k8s.CoreV1Api, "endpoints", True,
                      lambda n, ns: {"metadata": {"name": n}, "subsets": [
                          {"addresses": [{"ip": "10.0.0.1"}], "ports": [{"port": 80}]}]},
                      all_namespaces="endpoints"),
    "secrets": Case(k8s.CoreV1Api, "secret", True,
                    lambda n, ns: {"metadata": {"name": n}, "stringData": {"key": "value"}},
                    all_namespaces="secret"),
    "configmaps": Case(k8s.CoreV1Api, "config_map", True,
                       lambda n, ns: {"metadata": {"name": n}, "data": {"key": "value"}},
                       all_namespaces="config_map"),
    "events": Case(k8s.CoreV1Api, "event", True,
                   lambda n, ns: {"metadata": {"name": n},
                                  "involvedObject": {"kind": "Service", "name": "web",
                                                     "namespace": ns},
                                  "reason": "EnsuringLoadBalancer", "message": "m",
                                  "type": "Normal"},
                   all_namespaces="event"),
    "pods": Case(k8s.CoreV1Api, "pod", True,
                 lambda n, ns: {"metadata": {"name": n},
                                "spec": {"containers": [{"name": "c", "image": "busybox"}]}},
                 {"phase": "Running"}, "pod"),
    "events.k8s.io": Case(k8s.EventsV1Api, "event", True,
                          lambda n, ns: {"metadata": {"name": n},
                                         "eventTime": "2024-01-01T00:00:00.000000Z",
                                         "reportingController": "cloud-lb.dev/controller",
                                         "reportingInstance": "cloud-lb-0", "action": "Ensure",
                                         "reason": "EnsuredLoadBalancer", "type": "Normal",
                                         "regarding": {"kind": "Service", "name": "web",
                                                       "namespace": ns},
                                         "note": "done"},
                          all_namespaces="event"),
    "endpointslices": Case(k8s.DiscoveryV1Api, "endpoint_slice", True,
                           lambda n, ns: {"metadata": {"name": n}, "addressType": "IPv4",
                                          "endpoints": [{"addresses": ["10.0.0.1"]}],
                                          "ports": [{"port": 80}]},
                           all_namespaces="endpoint_slice"),
    "ingresses": Case(k8s.NetworkingV1Api, "ingress", True,
                      lambda n, ns: {"metadata": {"name": n}, "spec": {"defaultBackend": {
                          "service": {"name": "web", "port": {"number": 80}}}}},
                      {"loadBalancer": {"ingress": [{"ip": "192.0.2.10"}]}}, "ingress"),
    "ingressclasses": Case(k8s.NetworkingV1Api, "ingress_class", False,
                           lambda n, ns: {"metadata": {"name": n},
                                          "spec": {"controller": "cloud-lb.dev/ingress"}}),
    "leases": Case(k8s.CoordinationV1Api, "lease", True,
                   lambda n, ns: {"metadata": {"name": n},
                                  "spec": {"holderIdentity": "me", "leaseDurationSeconds": 15}},
                   all_namespaces="lease"),
}


@pytest.mark.parametrize("resource", sorted(CASES))
def test_every_verb(resource: str, kube: FakeKubeServer, api_client: k8s.ApiClient,
                    ns: str) -> None:
    case = CASES[resource]
    sanitize = api_client.sanitize_for_serialization
    name = f"{resource.split('.')[0][:10]}-one"

    created = sanitize(case.call(api_client, "create", _NS if not case.namespaced else ns,
                                 case.body(name, ns)))
    meta = created["metadata"]
    assert meta["name"] == name and meta["uid"] and meta["creationTimestamp"]
    assert created["kind"] and created["apiVersion"]
    start_rv = meta["resourceVersion"]

    read = sanitize(case.call(api_client, "read", name, _NS if not case.namespaced else ns))
    assert read["metadata"]["resourceVersion"] == start_rv

    listed = case.call(api_client, "list", *([ns] if case.namespaced else []))
    assert name in [i.metadata.name for i in listed.items]
    assert int(listed.metadata.resource_version) >= int(start_rv)
    if case.all_namespaces:
        api = case.api(api_client)
        everywhere = getattr(api, f"list_{case.all_namespaces}_for_all_namespaces")()
        assert (ns, name) in [(i.metadata.namespace, i.metadata.name) for i in everywhere.items]

    where = (name, ns) if case.namespaced else (name,)
    read["metadata"].setdefault("labels", {})["step"] = "replaced"
    replaced = case.call(api_client, "replace", *where, read)
    assert replaced.metadata.labels["step"] == "replaced"
    assert int(replaced.metadata.resource_version) > int(start_rv)
    # the same stale body again: 409 Conflict
    expect_api_error(409, lambda: case.call(api_client, "replace", *where, read))

    patched = case.call(api_client, "patch", *where, {"metadata": {"labels": {"step": "patched"}}})
    assert patched.metadata.labels["step"] == "patched"

    if case.status is not None:
        before = sanitize(case.call(api_client, "read", *where))
        after = sanitize(getattr(case.api(api_client), _status_method(case, "patch"))(
            *where, {"status": case.status}))
        for key, value in case.status.items():
            assert after["status"][key] == value
        assert after.get("spec") == before.get("spec")
        read_status = getattr(case.api(api_client), _status_method(case, "read"))(*where)
        assert sanitize(read_status)["status"] == after["status"]
        replaced_status = getattr(case.api(api_client), _status_method(case, "replace"))(
            *where, read_status)
        assert sanitize(replaced_status)["status"] == after["status"]

    case.call(api_client, "delete", *where)
    expect_api_error(404, lambda: case.call(api_client, "read", *where))

    # the watch from the create's resourceVersion replays everything that followed
    seen = []
    w = watch.Watch()
    for event in w.stream(getattr(case.api(api_client), _list_method(case)),
                          *([ns] if case.namespaced else []), resource_version=start_rv,
                          timeout_seconds=5):
        if event["raw_object"]["metadata"]["name"] == name:
            seen.append(event["type"])
            if event["type"] == "DELETED":
                w.stop()
    assert seen[-1] == "DELETED" and set(seen[:-1]) == {"MODIFIED"}
    assert len(seen) >= 3  # replace, patch (and status writes, termination) then delete

    if case.namespaced:
        for i in range(3):
            body = case.body(f"{name}-{i}", ns)
            body["metadata"]["labels"] = {"batch": "yes" if i < 2 else "no"}
            case.call(api_client, "create", ns, body)
        case.call(api_client, "delete_collection", ns, label_selector="batch=yes")
        left = case.call(api_client, "list", ns).items
        assert sorted(i.metadata.name for i in left) == [f"{name}-2"]
    assert kube.request_count(verb="deletecollection") == (1 if case.namespaced else 0)


def _status_method(case: Case, verb: str) -> str:
    scope = "namespaced_" if case.namespaced else ""
    return f"{verb}_{scope}{case.suffix}_status"


def _list_method(case: Case) -> str:
    scope = "namespaced_" if case.namespaced else ""
    return f"list_{scope}{case.suffix}"


def test_delete_collection_of_cluster_scoped_resources(api_client: k8s.ApiClient) -> None:
    core = k8s.CoreV1Api(api_client)
    for i in range(3):
        core.create_node({"metadata": {"name": f"node-{i}",
                                       "labels": {"pool": "a" if i else "b"}}})
    core.delete_collection_node(label_selector="pool=a")
    assert [n.metadata.name for n in core.list_node().items] == ["node-0"]


def test_generate_name_gives_unique_names(core: k8s.CoreV1Api, ns: str) -> None:
    names = {core.create_namespaced_config_map(ns, {"metadata": {"generateName": "cm-"}})
             .metadata.name for _ in range(20)}
    assert len(names) == 20 and all(n.startswith("cm-") and len(n) == 8 for n in names)


def test_secret_string_data_is_stored_base64_in_data(core: k8s.CoreV1Api, ns: str) -> None:
    created = core.create_namespaced_secret(ns, {"metadata": {"name": "s"},
                                                 "stringData": {"password": "hunter2"}})
    assert created.data == {"password": "aHVudGVyMg=="} and created.string_data is None
    assert created.type == "Opaque"


def test_put_creates_leases_but_not_services(core: k8s.CoreV1Api, api_client: k8s.ApiClient,
                                             ns: str) -> None:
    leases = k8s.CoordinationV1Api(api_client)
    lease = leases.replace_namespaced_lease("leader", ns, {"metadata": {"name": "leader"},
                                                           "spec": {"holderIdentity": "a"}})
    assert lease.spec.holder_identity == "a"
    expect_api_error(404, lambda: core.replace_namespaced_service(
        "web", ns, {"metadata": {"name": "web"}, "spec": {"ports": [{"port": 80}]}}))
