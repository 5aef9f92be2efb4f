"""An Ingress with 2 hosts x 2 paths and TLS becomes one ALB, as AWS (moto) reports it.

Exact call counts on purpose (as in test_call_budget.py): they are the per-Ingress API
cost quoted in docs/providers/aws.md.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from providers.aws.naming import (
    CERT_FINGERPRINT_TAG,
    CERT_SECRET_TAG,
    KIND_TAG,
    UID_TAG,
    load_balancer_name,
    security_group_name,
    tags_dict,
)
from tests.providers.aws.conftest import Harness
from tests.providers.aws.ingress import cafe, cert, ingress_ref


def listeners(aws: Harness, lb_arn: str) -> dict[int, dict[str, Any]]:
    return {
        li["Port"]: li for li in aws.elb().describe_listeners(LoadBalancerArn=lb_arn)["Listeners"]
    }


def routing(aws: Harness, listener_arn: str) -> list[tuple[str, str, str, int | str]]:
    """(priority, host, paths, node port or action) per rule, in priority order."""
    ports = {
        tg["TargetGroupArn"]: tg["Port"]
        for tg in aws.elb().describe_target_groups()["TargetGroups"]
    }
    out = []
    for rule in aws.elb().describe_rules(ListenerArn=listener_arn)["Rules"]:
        values = {
            c["Field"]: ",".join(
                c.get("HostHeaderConfig", c.get("PathPatternConfig", {}))["Values"]
            )
            for c in rule["Conditions"]
        }
        action = rule["Actions"][0]
        where = ports.get(action.get("TargetGroupArn", ""), action["Type"])
        out.append(
            (
                str(rule["Priority"]),
                values.get("host-header", ""),
                values.get("path-pattern", ""),
                where,
            )
        )
    return sorted(out, key=lambda r: (not r[0].isdigit(), int(r[0]) if r[0].isdigit() else 0))


EXPECTED_ROUTES = [
    # cafe.example.com: Exact /tea before Prefix /coffee (Exact first, then longest)
    ("1", "cafe.example.com", "/tea", 30102),
    ("2", "cafe.example.com", "/coffee,/coffee/*", 30101),
    # tea.example.com: Prefix /green before Prefix / (longest first); `/` is `/*`
    ("3", "tea.example.com", "/green,/green/*", 30102),
    ("4", "tea.example.com", "/*", 30101),
    ("default", "", "", "fixed-response"),
]


def test_two_hosts_two_paths_and_tls_make_one_alb_with_ordered_rules(aws: Harness) -> None:
    provider = aws.provider()
    ref = ingress_ref(aws.cluster)
    tls = cert()
    spec = cafe(ref, aws.fake.backends(2), tls=(tls,))

    status = provider.ensure(spec)
    created = aws.recorder.count(), aws.recorder.mutations()

    lb = aws.lb(load_balancer_name(ref))
    assert lb["Type"] == "application" and lb["Scheme"] == "internet-facing"
    assert status.ingress[0].hostname == lb["DNSName"]
    assert status.listeners == ("HTTP/80", "HTTPS/443")
    tags = tags_dict(
        aws.elb().describe_tags(ResourceArns=[lb["LoadBalancerArn"]])["TagDescriptions"][0]["Tags"]
    )
    assert tags[UID_TAG] == ref.uid and tags[KIND_TAG] == "Ingress"

    by_port = listeners(aws, lb["LoadBalancerArn"])
    assert {p: li["Protocol"] for p, li in by_port.items()} == {80: "HTTP", 443: "HTTPS"}
    for li in by_port.values():
        assert routing(aws, li["ListenerArn"]) == EXPECTED_ROUTES
    assert by_port[80]["DefaultActions"][0]["FixedResponseConfig"]["StatusCode"] == "404"
    assert by_port[443]["SslPolicy"] == "ELBSecurityPolicy-TLS13-1-2-2021-06"

    # one target group per backend Service port: HTTP to the node port, instance targets,
    # health-checked as the spec says
    groups = {tg["Port"]: tg for tg in aws.target_groups(lb["LoadBalancerArn"])}
    assert sorted(groups) == [30101, 30102]
    for port, path in ((30101, "/"), (30102, "/healthz")):
        tg = groups[port]
        assert (tg["Protocol"], tg["TargetType"], tg["HealthCheckProtocol"]) == (
            "HTTP",
            "instance",
            "HTTP",
        )
        assert (tg["HealthCheckPort"], tg["HealthCheckPath"]) == ("traffic-port", path)
        assert aws.targets(tg["TargetGroupArn"]) == {iid for iid, _, _ in aws.fake.instances[:2]}

    # the certificate went to ACM from the Secret, tagged as this Ingress's, and is the
    # HTTPS listener's default
    acm = aws.fake.client("acm")
    (summary,) = acm.list_certificates()["CertificateSummaryList"]
    arn = summary["CertificateArn"]
    assert by_port[443]["Certificates"] == [{"CertificateArn": arn}]
    cert_tags = tags_dict(acm.list_tags_for_certificate(CertificateArn=arn)["Tags"])
    assert cert_tags[UID_TAG] == ref.uid
    assert cert_tags[CERT_SECRET_TAG] == "cafe-tls"
    assert cert_tags[CERT_FINGERPRINT_TAG] == tls.fingerprint

    # the ALB's own group admits everyone on 80 and 443; the nodes admit the cluster's
    # backend group (which the ALB carries too) on the node-port range
    frontend = next(g for g in lb["SecurityGroups"] if g != _backend_group(aws, lb))
    assert aws.ec2().describe_security_groups(GroupIds=[frontend])["SecurityGroups"][0][
        "GroupName"
    ] == security_group_name(ref)
    assert sorted(
        (p["FromPort"], r["CidrIp"]) for p in aws.ingress(frontend) for r in p["IpRanges"]
    ) == [
        (80, "0.0.0.0/0"),
        (443, "0.0.0.0/0"),
    ]
    node_rules = [
        (p["FromPort"], p["ToPort"], g["GroupId"])
        for p in aws.ingress(aws.fake.node_sg)
        for g in p["UserIdGroupPairs"]
    ]
    assert node_rules == [(30000, 32767, _backend_group(aws, lb))]

    # the call budget: 2 security groups, 2 rule batches, ALB, 2 target groups, 2
    # registrations, 1 ACM import, 2 listeners, 8 rules (4 paths x 2 listeners)
    assert created == (29, 20)

    aws.recorder.reset()
    again = provider.ensure(spec)
    # backends_healthy moves with health checks (moto: healthy once registered)
    assert dataclasses.replace(again, backends_healthy=None) == status
    # unchanged resync: reads only (ALB, target groups, tags, instances, security
    # groups, subnets, 2 x target health, listeners, 2 x rules, listener
    # certificates, certificates by tag)
    assert (aws.recorder.count(), aws.recorder.mutations()) == (13, 0)
    assert provider.plan(spec) == []


def test_an_internal_alb_with_inbound_cidrs_and_no_tls(aws: Harness) -> None:
    provider = aws.provider()
    ref = ingress_ref(aws.cluster)
    spec = cafe(
        ref,
        aws.fake.backends(1),
        options={
            "alb.ingress.kubernetes.io/scheme": "internal",
            "alb.ingress.kubernetes.io/inbound-cidrs": "10.1.0.0/16,192.168.0.0/24",
        },
    )
    provider.ensure(spec)
    lb = aws.lb(load_balancer_name(ref))
    assert lb["Scheme"] == "internal"
    assert list(listeners(aws, lb["LoadBalancerArn"])) == [80]
    frontend = next(g for g in lb["SecurityGroups"] if g != _backend_group(aws, lb))
    assert sorted(
        (p["FromPort"], r["CidrIp"]) for p in aws.ingress(frontend) for r in p["IpRanges"]
    ) == [
        (80, "10.1.0.0/16"),
        (80, "192.168.0.0/24"),
    ]
    assert aws.fake.client("acm").list_certificates()["CertificateSummaryList"] == []


def _backend_group(aws: Harness, lb: dict[str, Any]) -> str:
    return next(
        g["GroupId"]
        for g in aws.ec2().describe_security_groups(GroupIds=lb["SecurityGroups"])["SecurityGroups"]
        if g["GroupName"].startswith("k8s-traffic-")
    )
