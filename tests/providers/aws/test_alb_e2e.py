"""An Ingress end to end on aws: the controller and the fake API server, the provider
through boto3 against a moto server. Two hosts x two paths with a TLS Secret and the
HTTPS redirect; the published hostname is the ALB's; a path change, a Secret rotation
and the deletion each show in AWS (moto does not carry traffic: the wiring is checked)."""

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
from providers.aws.clients import new_session
from providers.aws.testing import demo_cloud
from tests.controller.conftest import wait_until

NS = "default"
HOSTS = ["a.example.com", "b.example.com"]


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    with (
        running_fake_cluster(nodes=2) as cluster,
        demo_cloud("e2e", [(n.name, n.ip) for n in cluster.nodes]) as cloud,
    ):
        for key, value in (cloud.env or {}).items():
            monkeypatch.setenv(key, value)
        cluster.set_provider_ids(cloud.provider_ids)
        config = parse_config(
            {
                "clusterName": "e2e",
                "provider": "aws",
                "aws": cloud.config,
                "controller": {"nodeSyncDebounce": "0.1s"},
                "rateLimit": {"backoffBase": "0.2s", "backoffMax": "2s"},
            }
        )
        provider = build_provider(config, CallRecorder())
        controller = build_controller(config, api=build_api(cluster.kubeconfig), provider=provider)
        controller.start()
        api_client = cluster.kube.api_client()
        session = new_session()
        clients = {
            name: session.client(name, endpoint_url=cloud.config["endpointUrl"])
            for name in ("elbv2", "acm")
        }
        try:
            yield {
                "core": k8s.CoreV1Api(api_client),
                "net": k8s.NetworkingV1Api(api_client),
                **clients,
            }
        finally:
            controller.stop()
            provider.close()
            for c in clients.values():
                c.close()


def _ingress(api_path: str) -> dict[str, Any]:
    paths = [(api_path, "api"), ("/", "web")]
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "Ingress",
        "metadata": {"name": "shop", "annotations": {"cloud-lb.io/ssl-redirect": "true"}},
        "spec": {
            "ingressClassName": "cloud-lb",
            "tls": [{"hosts": HOSTS, "secretName": "shop-tls"}],
            "rules": [
                {
                    "host": host,
                    "http": {
                        "paths": [
                            {
                                "path": path,
                                "pathType": "Prefix",
                                "backend": {"service": {"name": svc, "port": {"number": 80}}},
                            }
                            for path, svc in paths
                        ]
                    },
                }
                for host in HOSTS
            ],
        },
    }


def test_an_ingress_on_aws_from_creation_to_deletion(env: dict[str, Any]) -> None:
    core, net, elb, acm = env["core"], env["net"], env["elbv2"], env["acm"]

    def albs() -> list[dict[str, Any]]:
        return [
            lb
            for lb in elb.describe_load_balancers()["LoadBalancers"]
            if lb["Type"] == "application"
        ]

    def https_paths() -> list[list[str]]:
        (lb,) = albs()
        listeners = elb.describe_listeners(LoadBalancerArn=lb["LoadBalancerArn"])["Listeners"]
        (https,) = [li for li in listeners if li["Protocol"] == "HTTPS"]
        rules = elb.describe_rules(ListenerArn=https["ListenerArn"])["Rules"]
        return [
            c["PathPatternConfig"]["Values"]
            for r in sorted(
                (r for r in rules if not r["IsDefault"]), key=lambda r: int(r["Priority"])
            )
            for c in r["Conditions"]
            if c["Field"] == "path-pattern"
        ]

    def certificates() -> list[str]:
        return [c["CertificateArn"] for c in acm.list_certificates()["CertificateSummaryList"]]

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
        return points[0].hostname if points else None

    hostname = wait_until(published, 60, message="the Ingress's hostname")
    (alb,) = albs()
    assert alb["DNSName"] == hostname
    listeners = elb.describe_listeners(LoadBalancerArn=alb["LoadBalancerArn"])["Listeners"]
    by_port = {li["Port"]: li for li in listeners}
    assert by_port[80]["DefaultActions"][0]["Type"] == "redirect"
    assert https_paths() == [["/api", "/api/*"], ["/*"]] * 2
    (first_cert,) = certificates()

    net.replace_namespaced_ingress("shop", NS, _ingress("/v2"))
    wait_until(lambda: https_paths()[0] == ["/v2", "/v2/*"], 30, message="the new path")

    core.replace_namespaced_secret("shop-tls", NS, tls_secret("shop-tls", *self_signed(HOSTS)))
    # imported, swapped in, the old one deleted: one certificate again, another one
    wait_until(
        lambda: len(now := certificates()) == 1 and now != [first_cert],
        30,
        message="the rotated certificate",
    )
    assert published() == hostname
    assert [lb["LoadBalancerArn"] for lb in albs()] == [alb["LoadBalancerArn"]]

    net.delete_namespaced_ingress("shop", NS)
    wait_until(lambda: not albs() and not certificates(), 30, message="nothing left")
    wait_until(
        lambda: not [i for i in net.list_namespaced_ingress(NS).items if i.metadata.name == "shop"],
        30,
        message="the finalizer released",
    )
