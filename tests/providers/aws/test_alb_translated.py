"""The translation's output, not a hand-made spec: raw Ingress, Service, Secret and Node
objects -> `ingress_to_spec` with the AWS provider's capabilities -> an ALB in moto."""

from __future__ import annotations

import base64
from typing import Any

from cloud_lb.testing.certs import self_signed
from cloud_lb.translate.ingress import ingress_to_spec
from cloud_lb.translate.ingress_class import IngressSettings
from cloud_lb.translate.settings import TranslateSettings
from providers.aws.naming import load_balancer_name
from tests.providers.aws.conftest import Harness


def service(name: str, node_port: int) -> dict[str, Any]:
    return {
        "metadata": {"name": name, "namespace": "shop", "uid": f"uid-{name}"},
        "spec": {
            "type": "NodePort",
            "ports": [{"name": "http", "port": 80, "protocol": "TCP", "nodePort": node_port}],
        },
    }


def node(name: str, ip: str, provider_id: str) -> dict[str, Any]:
    return {
        "metadata": {"name": name, "labels": {}},
        "spec": {"providerID": provider_id},
        "status": {
            "conditions": [{"type": "Ready", "status": "True"}],
            "addresses": [{"type": "InternalIP", "address": ip}],
        },
    }


def path(p: str, kind: str, svc: str) -> dict[str, Any]:
    return {
        "path": p,
        "pathType": kind,
        "backend": {"service": {"name": svc, "port": {"name": "http"}}},
    }


def test_a_translated_ingress_becomes_the_alb_it_describes(aws: Harness) -> None:
    cert_pem, key_pem = self_signed(["shop.example.com"])
    secret = {
        "metadata": {"name": "shop-tls", "namespace": "shop"},
        "type": "kubernetes.io/tls",
        "data": {
            "tls.crt": base64.b64encode(cert_pem.encode()).decode(),
            "tls.key": base64.b64encode(key_pem.encode()).decode(),
        },
    }
    ingress = {
        "metadata": {
            "name": "shop",
            "namespace": "shop",
            "uid": "5e1f0c4e-0000-4000-8000-000000000001",
            "annotations": {
                "cloud-lb.io/ssl-redirect": "true",
                "alb.ingress.kubernetes.io/scheme": "internal",
            },
        },
        "spec": {
            "ingressClassName": "cloud-lb",
            "tls": [{"hosts": ["shop.example.com"], "secretName": "shop-tls"}],
            "defaultBackend": {"service": {"name": "web", "port": {"number": 80}}},
            "rules": [
                {
                    "host": "shop.example.com",
                    "http": {
                        "paths": [
                            path("/api", "Prefix", "api"),
                            path("/api/v2/health", "Exact", "web"),
                        ]
                    },
                }
            ],
        },
    }
    nodes = [
        node(f"node-{i}", ip, f"aws:///{zone}/{iid}")
        for i, (iid, zone, ip) in enumerate(aws.fake.add_instances(2))
    ]
    provider = aws.provider()
    translated = ingress_to_spec(
        ingress,
        nodes,
        services={"shop/api": service("api", 31001), "shop/web": service("web", 31002)},
        secrets={"shop/shop-tls": secret},
        settings=TranslateSettings(cluster_name=aws.cluster),
        ingress_settings=IngressSettings(),
        capabilities=provider.capabilities,
        provider_name="aws",
    )
    assert translated.warnings == ()
    status = provider.ensure(translated.spec)

    lb = aws.lb(load_balancer_name(translated.spec.ref))
    assert lb["Scheme"] == "internal" and status.ingress[0].hostname == lb["DNSName"]
    by_port = {
        li["Port"]: li
        for li in aws.elb().describe_listeners(LoadBalancerArn=lb["LoadBalancerArn"])["Listeners"]
    }
    assert by_port[80]["DefaultActions"][0]["Type"] == "redirect"
    ports = {tg["TargetGroupArn"]: tg["Port"] for tg in aws.target_groups(lb["LoadBalancerArn"])}
    https = aws.elb().describe_rules(ListenerArn=by_port[443]["ListenerArn"])["Rules"]
    routes = sorted(
        (
            str(r["Priority"]),
            [c.get("PathPatternConfig", {}).get("Values") for c in r["Conditions"]],
            ports[r["Actions"][0]["TargetGroupArn"]],
        )
        for r in https
    )
    # Exact /api/v2/health wins over Prefix /api; the rest goes to the default backend
    assert routes == [
        ("1", [None, ["/api/v2/health"]], 31002),
        ("2", [None, ["/api", "/api/*"]], 31001),
        ("default", [], 31002),
    ]
    assert all(aws.targets(arn) == {iid for iid, _, _ in aws.fake.instances[:2]} for arn in ports)
