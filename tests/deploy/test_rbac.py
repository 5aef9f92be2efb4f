"""The RBAC in deploy/ grants exactly what `cloud-lb run` calls.

Two independent checks, both failing on a missing and on an extra permission:
- static: the permissions derived from the code (tests/deploy/callsites.py: every
  Kubernetes call `cloud-lb run` can reach) equal the rules of the ClusterRole and Role;
- dynamic: a controller (local provider, so Ingress support on) and a leader elector
  run through a Service's and an Ingress's lifecycle against the fake API server
  behind a recording proxy; the requests they make, read off the wire, equal the base's
  rules too.
"""

from __future__ import annotations

import ast
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from kubernetes import client as k8s

from cloud_lb.commands.wiring import build_controller, build_provider
from cloud_lb.config import parse_config
from cloud_lb.kube.client import KubeAPI
from cloud_lb.kube.leader import LeaderElector
from cloud_lb.provider import CallRecorder
from cloud_lb.testing.fakecluster import FakeCluster, running_fake_cluster
from cloud_lb.translate.ingress_class import DEFAULT_CONTROLLER_NAME
from providers.local.testing import private_subnet
from tests.deploy.callsites import INGRESS_FEATURE, Endpoint, endpoint_of, needed_permissions
from tests.deploy.conftest import DEPLOY, REPO, Rendering
from tests.deploy.kustomize import build
from tests.deploy.recording import RecordingProxy, permission
from tests.leader.runner import wait_until

Permission = tuple[str, str, str]
LEASES = ("coordination.k8s.io", "leases")


def grants(rules: list[dict]) -> set[Permission]:
    return {(group, resource, verb) for rule in rules for group in rule["apiGroups"]
            for resource in rule["resources"] for verb in rule["verbs"]}


def granted(objects: list[dict]) -> tuple[set[Permission], set[Permission]]:
    """(cluster-wide grants, grants in the Role's namespace), of roles that are bound."""
    bound = {(b["roleRef"]["kind"], b["roleRef"]["name"]) for b in objects
             if b["kind"] in ("ClusterRoleBinding", "RoleBinding")}
    roles = {(o["kind"], o["metadata"]["name"]): o for o in objects
             if o["kind"] in ("ClusterRole", "Role")}
    assert set(roles) == bound, f"roles {sorted(roles)} but bindings of {sorted(bound)}"
    cluster = {p for (kind, _), o in roles.items() if kind == "ClusterRole"
               for p in grants(o["rules"])}
    namespaced = {p for (kind, _), o in roles.items() if kind == "Role" for p in grants(o["rules"])}
    return cluster, namespaced


def has_l7(provider: str) -> bool:
    """The `l7` the provider declares in its `Capabilities(...)` (what makes the
    controller build its Ingress feature), read from its source: importing the cloud
    SDKs would cost seconds for one boolean."""
    source = (REPO / "providers" / provider / "provider.py").read_text()
    values = {kw.value.value for node in ast.walk(ast.parse(source))
              if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "Capabilities"
              for kw in node.keywords if kw.arg == "l7" and isinstance(kw.value, ast.Constant)}
    assert len(values) <= 1, f"{provider}: several l7 capabilities {values}"
    return bool(values and values.pop())  # Capabilities' default: no L7


def explain(needed: dict[Permission, frozenset[str]], allowed: set[Permission]) -> str:
    missing = {p: sorted(needed[p]) for p in sorted(set(needed) - allowed)}
    extra = sorted(allowed - set(needed))
    return f"missing (needed by): {missing}\nextra (nothing calls it): {extra}"


def test_the_code_needs_exactly_what_the_roles_grant(rendering: Rendering) -> None:
    config = parse_config(rendering.config_text())
    # the controller builds its Ingress feature only for a provider with L7, and when
    # the config does not turn Ingress support off
    ingress = has_l7(config.provider) and config.controller.ingress.enabled
    needed = needed_permissions(without=() if ingress else INGRESS_FEATURE)
    cluster, namespaced = granted(rendering.objects)
    assert set(needed) == cluster | namespaced, explain(needed, cluster | namespaced)
    # the Lease lives in our namespace only: never a cluster-wide lease grant
    assert {p for p in cluster if p[:2] == LEASES} == set()
    assert {p[:2] for p in namespaced} == {LEASES}


def test_the_rules_use_no_wildcards_and_names_only_where_they_can(rendering: Rendering) -> None:
    cluster_rules = [r for role in rendering.all("ClusterRole") for r in role["rules"]]
    (role,) = rendering.all("Role")
    for rule in cluster_rules + role["rules"]:
        assert "*" not in rule["apiGroups"] + rule["resources"] + rule["verbs"], rule
        if rule.get("resourceNames"):
            # create cannot be limited by name, list/watch are not by the API server
            assert set(rule["verbs"]) <= {"get", "update", "patch", "delete"}, rule
    assert not any(r.get("resourceNames") for r in cluster_rules)


@pytest.mark.parametrize(("path", "method", "expected"), [
    ("/api/v1/services", "GET", Endpoint("", "services", False, "GET")),
    ("/api/v1/namespaces/{namespace}/services/{name}/status", "PATCH",
     Endpoint("", "services/status", True, "PATCH")),
    ("/apis/coordination.k8s.io/v1/namespaces/{namespace}/leases/{name}", "PUT",
     Endpoint("coordination.k8s.io", "leases", True, "PUT")),
    ("/apis/networking.k8s.io/v1/ingresses", "GET",
     Endpoint("networking.k8s.io", "ingresses", False, "GET")),
    ("/apis/", "GET", None),
])
def test_client_urls_map_to_rbac_terms(path: str, method: str, expected: Endpoint | None) -> None:
    assert endpoint_of(path, method) == expected


@pytest.mark.parametrize(("method", "target", "expected"), [
    ("GET", "/api/v1/services?limit=500", ("", "services", "list")),
    ("GET", "/api/v1/nodes?watch=True&resourceVersion=5", ("", "nodes", "watch")),
    ("PATCH", "/api/v1/namespaces/default/services/web/status", ("", "services/status", "patch")),
    ("POST", "/api/v1/namespaces/default/events", ("", "events", "create")),
    ("GET", "/apis/coordination.k8s.io/v1/namespaces/ns/leases/cloud-lb",
     ("coordination.k8s.io", "leases", "get")),
    ("GET", "/api/v1/namespaces/default", ("", "namespaces", "get")),
    ("GET", "/version/", None),
])
def test_requests_map_to_rbac_terms(method: str, target: str,
                                    expected: Permission | None) -> None:
    assert permission(method, target) == expected


# -- dynamic ------------------------------------------------------------------------------
@pytest.fixture
def cluster() -> Iterator[FakeCluster]:
    with running_fake_cluster(nodes=1) as c:
        yield c


def test_a_real_run_makes_exactly_the_granted_requests(cluster: FakeCluster,
                                                       tmp_path: Path) -> None:
    cluster_grants, namespace_grants = granted(build(DEPLOY / "base"))
    proxy = RecordingProxy(cluster.kube.url)
    api_client = cluster.kube.api_client()
    api_client.configuration.host = proxy.url
    api_client = k8s.ApiClient(api_client.configuration)
    config = parse_config({
        "clusterName": "test", "provider": "local",
        "local": {"stateDir": str(tmp_path / "state"), "addressPool": str(private_subnet())},
        "controller": {"workers": 1, "nodeSyncDebounce": "0.1s",
                       "ingress": {"httpPort": 18080, "httpsPort": 18443}},
        "rateLimit": {"backoffBase": "0.2s", "backoffMax": "1s"},
    })
    provider = build_provider(config, CallRecorder())
    controller = build_controller(config, api=KubeAPI(api_client), provider=provider)
    elector = LeaderElector(api_client, name="cloud-lb", namespace="kube-system",
                            identity="recorded", lease_duration=3, renew_deadline=2,
                            retry_period=0.2)
    core = k8s.CoreV1Api(cluster.kube.api_client())  # the test's own calls: not recorded
    thread = threading.Thread(target=elector.run, daemon=True, kwargs={
        "on_started_leading": controller.start_workers, "on_stopped_leading": lambda: None})
    try:
        controller.start_informers()
        thread.start()
        wait_until(lambda: elector.is_leader, 10, message="leadership")
        core.create_namespaced_service("default", {
            "apiVersion": "v1", "kind": "Service", "metadata": {"name": "web"},
            "spec": {"type": "LoadBalancer", "selector": {"app": "web"},
                     "ports": [{"name": "http", "port": 8080, "targetPort": 8080}]}})

        def address() -> bool:
            lb = core.read_namespaced_service("web", "default").status.load_balancer
            return bool(lb and lb.ingress)
        wait_until(address, 15, message="an address")
        # the same change twice: the second "Updated load balancer" event is a patch
        for port in (8081, 8082):
            core.patch_namespaced_service("web", "default", {"spec": {"ports": [
                {"name": "http", "port": port, "targetPort": 8080}]}},
                _content_type="application/merge-patch+json")
            time.sleep(0.3)
            assert controller.wait_idle(10)
        # an Ingress of our class in front of it: finalizer, status, then cleanup
        net = k8s.NetworkingV1Api(cluster.kube.api_client())
        net.create_ingress_class({"apiVersion": "networking.k8s.io/v1", "kind": "IngressClass",
                                  "metadata": {"name": "cloud-lb"},
                                  "spec": {"controller": DEFAULT_CONTROLLER_NAME}})
        net.create_namespaced_ingress("default", {
            "apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "metadata": {"name": "site"},
            "spec": {"ingressClassName": "cloud-lb", "defaultBackend": {
                "service": {"name": "web", "port": {"number": 8082}}}}})

        def ingress_address() -> bool:
            lb = net.read_namespaced_ingress("site", "default").status.load_balancer
            return bool(lb and lb.ingress)
        wait_until(ingress_address, 15, message="an address for the Ingress")
        net.delete_namespaced_ingress("site", "default")
        wait_until(lambda: not net.list_namespaced_ingress("default").items, 15,
                   message="the Ingress's finalizer to be removed")
        core.delete_namespaced_service("web", "default")
        wait_until(lambda: "web" not in {s.metadata.name for s in
                                         core.list_namespaced_service("default").items},
                   15, message="the finalizer to be removed")
    finally:
        controller.stop()
        provider.close()
        elector.stop()
        thread.join(10)
        elector.release()
        proxy.close()
    made = proxy.permissions()
    allowed = cluster_grants | namespace_grants
    assert made == allowed, (f"made but not granted: {sorted(made - allowed)}\n"
                             f"granted but never made: {sorted(allowed - made)}")
