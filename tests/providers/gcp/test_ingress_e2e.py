"""An Ingress end to end on gcp: the controller and the fake API server, the provider
through google-cloud-compute against the fake GCE. Two hosts x two paths with a TLS
Secret and the HTTPS redirect; the published address is the reserved global address;
a path change, a Secret rotation and the deletion each show in the cloud."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from kubernetes import client as k8s

from cloud_lb.commands.wiring import build_api, build_controller, build_provider
from cloud_lb.config import parse_config
from cloud_lb.provider import CallRecorder
from cloud_lb.testing.certs import self_signed, tls_secret
from cloud_lb.testing.fakecluster import running_fake_cluster
from cloud_lb.translate.ingress_class import DEFAULT_CONTROLLER_NAME
from providers.gcp.testing import demo_cloud
from tests.controller.conftest import wait_until
from tests.providers.gcp.gce_routing import route

NS = "default"
HOSTS = ["a.example.com", "b.example.com"]
GLOBAL_KINDS = (
    "globalAddress",
    "globalHealthCheck",
    "globalBackendService",
    "sslCertificate",
    "urlMap",
    "targetHttpProxy",
    "targetHttpsProxy",
    "globalForwardingRule",
    "firewall",
)


@pytest.fixture
def env() -> Iterator[dict[str, Any]]:
    with (
        running_fake_cluster(nodes=3) as cluster,
        demo_cloud("e2e", [(n.name, n.ip) for n in cluster.nodes]) as cloud,
    ):
        cluster.set_provider_ids(cloud.provider_ids)
        config = parse_config(
            {
                "clusterName": "e2e",
                "provider": "gcp",
                "gcp": cloud.config,
                "controller": {"nodeSyncDebounce": "0.1s"},
                "rateLimit": {"backoffBase": "0.2s", "backoffMax": "2s"},
            }
        )
        provider = build_provider(config, CallRecorder())
        controller = build_controller(config, api=build_api(cluster.kubeconfig), provider=provider)
        controller.start()
        api_client = cluster.kube.api_client()
        try:
            yield {
                "provider": provider,
                "core": k8s.CoreV1Api(api_client),
                "net": k8s.NetworkingV1Api(api_client),
            }
        finally:
            controller.stop()
            provider.close()


def _paths(*entries: tuple[str, str]) -> dict[str, Any]:
    return {
        "paths": [
            {
                "path": path,
                "pathType": "Prefix",
                "backend": {"service": {"name": service, "port": {"number": 80}}},
            }
            for path, service in entries
        ]
    }


def _ingress(api_path: str) -> dict[str, Any]:
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "Ingress",
        "metadata": {"name": "shop", "annotations": {"cloud-lb.io/ssl-redirect": "true"}},
        "spec": {
            "ingressClassName": "cloud-lb",
            "tls": [{"hosts": HOSTS, "secretName": "shop-tls"}],
            "rules": [
                {"host": host, "http": _paths((api_path, "api"), ("/", "web"))} for host in HOSTS
            ],
        },
    }


def test_an_ingress_on_gcp_from_creation_to_deletion(env: dict[str, Any]) -> None:
    core, net, provider = env["core"], env["net"], env["provider"]
    compute = provider.compute

    def cloud(kind: str) -> list[dict[str, Any]]:
        return compute.list_resources(kind, filter='name eq "k8s-.*"')

    def served(host: str, path: str) -> str:
        (url_map,) = [m for m in cloud("urlMap") if m["name"].endswith("-um")]
        return route(url_map, host, path)

    net.create_ingress_class(
        {
            "apiVersion": "networking.k8s.io/v1",
            "kind": "IngressClass",
            "metadata": {"name": "cloud-lb"},
            "spec": {"controller": DEFAULT_CONTROLLER_NAME},
        }
    )
    for name in ("api", "web"):
        core.create_namespaced_service(
            NS,
            {
                "apiVersion": "v1",
                "kind": "Service",
                "metadata": {"name": name},
                "spec": {
                    "type": "NodePort",
                    "selector": {"app": name},
                    "ports": [{"port": 80, "targetPort": 8080}],
                },
            },
        )
    core.create_namespaced_secret(NS, tls_secret("shop-tls", *self_signed(HOSTS)))
    net.create_namespaced_ingress(NS, _ingress("/api"))

    def published() -> str | None:
        status = net.read_namespaced_ingress("shop", NS).status
        points = status.load_balancer.ingress if status and status.load_balancer else None
        return points[0].ip if points else None

    ip = wait_until(published, 60, message="the Ingress's address")
    (address,) = cloud("globalAddress")
    assert address["address"] == ip
    # the Secret may reach the controller's cache after the Ingress: HTTPS follows then
    wait_until(lambda: {r["portRange"] for r in cloud("globalForwardingRule")}
               == {"80-80", "443-443"}, 60, message="the HTTP and HTTPS forwarding rules")
    (http,) = cloud("targetHttpProxy")
    assert http["urlMap"].endswith("-rm")  # HTTP answers with the redirect to HTTPS
    api, web = served("a.example.com", "/api/orders"), served("a.example.com", "/")
    assert api != web and api.startswith("k8s-") and web.startswith("k8s-")
    assert (served("b.example.com", "/api"), served("b.example.com", "/apix")) == (api, web)
    assert served("c.example.com", "/") == "404"
    (first_cert,) = cloud("sslCertificate")

    net.replace_namespaced_ingress("shop", NS, _ingress("/v2"))
    wait_until(lambda: served("a.example.com", "/v2/orders") == api, 30, message="the new path")
    assert served("a.example.com", "/api/orders") == web

    core.replace_namespaced_secret("shop-tls", NS, tls_secret("shop-tls", *self_signed(HOSTS)))
    wait_until(
        lambda: [c["name"] for c in cloud("sslCertificate")] not in ([], [first_cert["name"]]),
        30,
        message="the rotated certificate",
    )
    assert len(cloud("sslCertificate")) == 1 and published() == ip
    assert [a["address"] for a in cloud("globalAddress")] == [ip]

    net.delete_namespaced_ingress("shop", NS)
    wait_until(lambda: not any(cloud(kind) for kind in GLOBAL_KINDS), 30, message="nothing left")
    wait_until(
        lambda: not [i for i in net.list_namespaced_ingress(NS).items if i.metadata.name == "shop"],
        30,
        message="the finalizer released",
    )
