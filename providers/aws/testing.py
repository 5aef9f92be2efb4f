"""moto-backed AWS for tests and the demo (see `cloud_lb.testing.conformance`).

`conformance_target(cluster)` runs in-process moto (`mock_aws`); `demo_cloud(cluster,
nodes)` starts a `ThreadedMotoServer` on 127.0.0.1, port 0. Both give every target its
own AWS account (moto keys its state by account, and STS AssumeRole into a random
account returns credentials that moto maps to it), because moto's state is global to
the process: two targets in one test, or a demo server next to a test, never see each
other's resources.

The fake world: a VPC (10.0.0.0/16 plus an IPv6 /56), two subnets in two AZs tagged for
public and internal NLBs and for the cluster, a node security group tagged for the
cluster, and EC2 instances for the backends (created on demand).
"""

from __future__ import annotations

import logging
import os
import random
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from unittest import mock

from cloud_lb.model import Backend, LBRef
from cloud_lb.provider import CallRecorder, ProviderContext
from cloud_lb.testing.conformance import ConformanceTarget, DemoCloud
from providers.aws.clients import new_session
from providers.aws.config import AWSConfig
from providers.aws.naming import (
    cluster_tag,
    load_balancer_name,
    security_group_name,
    tags_dict,
    tags_list,
)
from providers.aws.provider import AWSProvider
from providers.aws.subnets import ROLE_ELB, ROLE_INTERNAL_ELB

REGION = "eu-west-3"
ZONES = (f"{REGION}a", f"{REGION}b")
IMAGE_ID = "ami-12c6146b"  # one of moto's built-in AMIs
FAST_LIMITS = {
    name: {"perSecond": 10000, "burst": 10000}
    for name in (
        "ec2Read",
        "ec2Mutate",
        "elbv2Read",
        "elbv2Mutate",
        "acmRead",
        "acmMutate",
        "taggingRead",
    )
}
FAST_RETRY = {
    "botocoreMaxAttempts": 1,
    "attempts": 5,
    "initialDelaySeconds": 0.001,
    "maxDelaySeconds": 0.01,
}


@dataclass
class FakeAWS:
    """One isolated account's world in moto, and raw clients to inspect or change it."""

    cluster: str
    credentials: dict[str, str]
    endpoint_url: str | None = None
    region: str = REGION
    vpc_id: str = ""
    subnets: dict[str, str] = field(default_factory=dict)  # zone -> subnet id
    node_sg: str = ""
    instances: list[tuple[str, str, str]] = field(default_factory=list)  # (id, zone, ip)
    _clients: dict[str, Any] = field(default_factory=dict, repr=False)

    def client(self, service: str) -> Any:
        if service not in self._clients:
            self._clients[service] = new_session().client(
                service, region_name=self.region, endpoint_url=self.endpoint_url, **self.credentials
            )
        return self._clients[service]

    def setup(self) -> FakeAWS:
        ec2 = self.client("ec2")
        vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16", AmazonProvidedIpv6CidrBlock=True)["Vpc"]
        self.vpc_id = vpc["VpcId"]
        ipv6 = ec2.describe_vpcs(VpcIds=[self.vpc_id])["Vpcs"][0].get(
            "Ipv6CidrBlockAssociationSet", []
        )
        ipv6_base = ipv6[0]["Ipv6CidrBlock"].split("::")[0] if ipv6 else ""
        for i, zone in enumerate(ZONES):
            params: dict[str, Any] = {}
            if ipv6_base:
                params["Ipv6CidrBlock"] = f"{ipv6_base[:-1]}{i}::/64"
            subnet = ec2.create_subnet(
                VpcId=self.vpc_id,
                CidrBlock=f"10.0.{i + 1}.0/24",
                AvailabilityZone=zone,
                **params,
                TagSpecifications=[
                    {
                        "ResourceType": "subnet",
                        "Tags": tags_list(
                            {
                                "Name": f"{self.cluster}-{zone}",
                                ROLE_ELB: "1",
                                ROLE_INTERNAL_ELB: "1",
                                cluster_tag(self.cluster): "shared",
                            }
                        ),
                    }
                ],
            )["Subnet"]
            self.subnets[zone] = subnet["SubnetId"]
        self.node_sg = ec2.create_security_group(
            GroupName=f"{self.cluster}-nodes",
            Description="cluster nodes",
            VpcId=self.vpc_id,
            TagSpecifications=[
                {
                    "ResourceType": "security-group",
                    "Tags": tags_list({cluster_tag(self.cluster): "owned"}),
                }
            ],
        )["GroupId"]
        return self

    def config(self, **overrides: Any) -> AWSConfig:
        data: dict[str, Any] = {
            "region": self.region,
            "vpcId": self.vpc_id,
            "endpointUrl": self.endpoint_url,
            "accessKeyId": self.credentials["aws_access_key_id"],
            "secretAccessKey": self.credentials["aws_secret_access_key"],
            "sessionToken": self.credentials["aws_session_token"],
            "rateLimits": FAST_LIMITS,
            "retry": FAST_RETRY,
        }
        data.update(overrides)
        return AWSConfig.model_validate(data)

    def add_instances(self, n: int) -> list[tuple[str, str, str]]:
        """n more instances, alternating zones, in the node security group."""
        ec2 = self.client("ec2")
        created = []
        for _ in range(n):
            zone = ZONES[len(self.instances) % len(ZONES)]
            inst = ec2.run_instances(
                ImageId=IMAGE_ID,
                MinCount=1,
                MaxCount=1,
                InstanceType="t3.small",
                SubnetId=self.subnets[zone],
                SecurityGroupIds=[self.node_sg],
            )["Instances"][0]
            entry = (inst["InstanceId"], zone, inst["PrivateIpAddress"])
            self.instances.append(entry)
            created.append(entry)
        return created

    def backends(self, n: int) -> tuple[Backend, ...]:
        if len(self.instances) < n:
            self.add_instances(n - len(self.instances))
        return tuple(
            Backend(
                node_name=f"node-{i}", address=ip, provider_id=f"aws:///{zone}/{iid}", zone=zone
            )
            for i, (iid, zone, ip) in enumerate(self.instances[:n])
        )

    def plant_foreign(self, ref: LBRef) -> None:
        """An NLB and a security group with `ref`'s names, tagged for another cluster."""
        foreign = {
            cluster_tag(f"{ref.cluster}-foreign"): "owned",
            "kubernetes.io/service-name": ref.key,
        }
        self.client("elbv2").create_load_balancer(
            Name=load_balancer_name(ref),
            Type="network",
            Scheme="internet-facing",
            Subnets=list(self.subnets.values()),
            Tags=tags_list(foreign),
        )
        self.client("ec2").create_security_group(
            GroupName=security_group_name(ref),
            Description="not cloud-lb's",
            VpcId=self.vpc_id,
            TagSpecifications=[{"ResourceType": "security-group", "Tags": tags_list(foreign)}],
        )

    def snapshot(self) -> dict[str, Any]:
        """Every load balancer, listener (rules, certificates), target group, target,
        ACM certificate and security group rule, comparable with ==; instances are left
        out (the tests create them on demand)."""
        elb, ec2 = self.client("elbv2"), self.client("ec2")
        lbs = elb.describe_load_balancers()["LoadBalancers"]
        tgs = elb.describe_target_groups()["TargetGroups"]
        arns = [lb["LoadBalancerArn"] for lb in lbs] + [tg["TargetGroupArn"] for tg in tgs]
        tags = {}
        for i in range(0, len(arns), 20):
            for desc in elb.describe_tags(ResourceArns=arns[i : i + 20])["TagDescriptions"]:
                tags[desc["ResourceArn"]] = tags_dict(desc["Tags"])
        out: dict[str, Any] = {"lbs": {}, "tgs": {}, "sgs": {}}
        for lb in lbs:
            arn = lb["LoadBalancerArn"]
            out["lbs"][arn] = {
                "name": lb["LoadBalancerName"],
                "scheme": lb.get("Scheme"),
                "type": lb.get("Type"),
                "ip": lb.get("IpAddressType"),
                "sgs": sorted(lb.get("SecurityGroups", [])),
                "subnets": sorted(az["SubnetId"] for az in lb.get("AvailabilityZones", [])),
                "tags": tags.get(arn, {}),
                "attributes": elb.describe_load_balancer_attributes(LoadBalancerArn=arn)[
                    "Attributes"
                ],
                "listeners": sorted(
                    (
                        li["Port"],
                        li["Protocol"],
                        str(li["DefaultActions"]),
                        str(li.get("Certificates", [])),
                        str(li.get("SslPolicy") if li["Protocol"] == "HTTPS" else None),
                        sorted(
                            (str(r["Priority"]), str(r["Conditions"]), str(r["Actions"]))
                            for r in elb.describe_rules(ListenerArn=li["ListenerArn"])["Rules"]
                        ),
                    )
                    for li in elb.describe_listeners(LoadBalancerArn=arn)["Listeners"]
                ),
            }
        for tg in tgs:
            arn = tg["TargetGroupArn"]
            health = elb.describe_target_health(TargetGroupArn=arn)["TargetHealthDescriptions"]
            out["tgs"][arn] = {
                **{k: v for k, v in tg.items() if k != "LoadBalancerArns"},
                "lbs": sorted(tg.get("LoadBalancerArns", [])),
                "tags": tags.get(arn, {}),
                "attributes": elb.describe_target_group_attributes(TargetGroupArn=arn)[
                    "Attributes"
                ],
                "targets": sorted(h["Target"]["Id"] for h in health),
            }
        acm = self.client("acm")
        out["certs"] = {
            c["CertificateArn"]: {
                "domain": c.get("DomainName"),
                "tags": tags_dict(
                    acm.list_tags_for_certificate(CertificateArn=c["CertificateArn"]).get("Tags")
                ),
            }
            for c in acm.list_certificates()["CertificateSummaryList"]
        }
        for sg in ec2.describe_security_groups()["SecurityGroups"]:
            out["sgs"][sg["GroupId"]] = {
                "name": sg["GroupName"],
                "tags": tags_dict(sg.get("Tags")),
                "ingress": sorted(str(p) for p in sg.get("IpPermissions", [])),
                "egress": sorted(str(p) for p in sg.get("IpPermissionsEgress", [])),
            }
        return out

    def describe(self) -> str:
        """A printable summary of the load balancers and their wiring (never secrets)."""
        elb, ec2 = self.client("elbv2"), self.client("ec2")
        lines = ["AWS (moto): wiring only: moto does not carry traffic"]
        groups = {g["GroupId"]: g for g in ec2.describe_security_groups()["SecurityGroups"]}
        for lb in elb.describe_load_balancers()["LoadBalancers"]:
            kind = "ALB" if lb.get("Type") == "application" else "NLB"
            lines.append(
                f"{kind} {lb['LoadBalancerName']} {lb['Scheme']} "
                f"{lb.get('IpAddressType', 'ipv4')} hostname={lb['DNSName']}"
            )
            tg_names = {
                tg["TargetGroupArn"]: tg
                for tg in elb.describe_target_groups(LoadBalancerArn=lb["LoadBalancerArn"])[
                    "TargetGroups"
                ]
            }
            for li in elb.describe_listeners(LoadBalancerArn=lb["LoadBalancerArn"])["Listeners"]:
                if kind == "ALB":
                    lines += _alb_listener_lines(elb, li, tg_names)
                    continue
                tg = tg_names.get(li["DefaultActions"][0].get("TargetGroupArn", ""), {})
                targets = (
                    elb.describe_target_health(TargetGroupArn=tg["TargetGroupArn"])[
                        "TargetHealthDescriptions"
                    ]
                    if tg
                    else []
                )
                lines.append(
                    f"  listener {li['Protocol']}/{li['Port']} -> {tg.get('TargetGroupName', '?')} "
                    f"node port {tg.get('Port', '?')} health {tg.get('HealthCheckProtocol')}:"
                    f"{tg.get('HealthCheckPort')}{tg.get('HealthCheckPath') or ''}"
                )
                for t in targets:
                    lines.append(
                        f"    target {t['Target']['Id']}:{t['Target'].get('Port')} "
                        f"{t['TargetHealth']['State']}"
                    )
            for gid in lb.get("SecurityGroups", []):
                lines.append(
                    f"  security group {gid} ({groups.get(gid, {}).get('GroupName', '?')})"
                )
        for _, group in sorted(groups.items()):
            for perm in group.get("IpPermissions", []):
                lo, hi = perm.get("FromPort"), perm.get("ToPort")
                ports = lo if lo == hi else f"{lo}-{hi}"
                sources = [r["CidrIp"] for r in perm.get("IpRanges", [])]
                sources += [r["CidrIpv6"] for r in perm.get("Ipv6Ranges", [])]
                sources += [r["GroupId"] for r in perm.get("UserIdGroupPairs", [])]
                lines.append(
                    f"rule {group['GroupName']}: {perm['IpProtocol']}/{ports} "
                    f"from {', '.join(sources)}"
                )
        return "\n".join(lines)


def _alb_listener_lines(elb: Any, li: dict[str, Any], tg_names: dict[str, Any]) -> list[str]:
    """An ALB listener's rules in priority order, default last (never certificate PEM)."""

    def action(actions: list[dict[str, Any]]) -> str:
        a = actions[0] if actions else {}
        if a.get("Type") == "forward":
            tg = tg_names.get(a.get("TargetGroupArn", ""), {})
            return f"-> {tg.get('TargetGroupName', '?')} (node port {tg.get('Port', '?')})"
        if a.get("Type") == "redirect":
            c = a.get("RedirectConfig", {})
            return f"redirect {c.get('Protocol')}:{c.get('Port')} {c.get('StatusCode')}"
        return f"{a.get('Type')} {a.get('FixedResponseConfig', {}).get('StatusCode', '')}"

    certs = [c["CertificateArn"].rsplit("/", 1)[-1] for c in li.get("Certificates", [])]
    lines = [
        f"  listener {li['Protocol']}/{li['Port']}"
        + (f" certificate {','.join(certs)}" if certs else "")
    ]
    rules = elb.describe_rules(ListenerArn=li["ListenerArn"])["Rules"]
    for rule in sorted(
        rules,
        key=lambda r: (
            r["IsDefault"],
            int(r["Priority"] or 0) if str(r["Priority"]).isdigit() else 0,
        ),
    ):
        conds = " ".join(
            f"{c['Field']}={','.join(c.get('HostHeaderConfig', c.get('PathPatternConfig', {})).get('Values', []))}"
            for c in rule["Conditions"]
        )
        where = "default" if rule["IsDefault"] else f"#{rule['Priority']} {conds}"
        lines.append(f"    {where} {action(rule['Actions'])}")
    return lines


def isolated_credentials(endpoint_url: str | None = None) -> dict[str, str]:
    """Credentials of a fresh random moto account (see the module docstring)."""
    account = f"{random.SystemRandom().randrange(10**11, 10**12):012d}"
    sts = new_session().client(
        "sts",
        region_name=REGION,
        endpoint_url=endpoint_url,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    creds = sts.assume_role(
        RoleArn=f"arn:aws:iam::{account}:role/cloud-lb", RoleSessionName="cloud-lb-tests"
    )["Credentials"]
    return {
        "aws_access_key_id": creds["AccessKeyId"],
        "aws_secret_access_key": creds["SecretAccessKey"],
        "aws_session_token": creds["SessionToken"],
    }


@contextmanager
def _quick_moto() -> Iterator[None]:
    """moto loads ~5000 default AMIs into every new account's EC2 backend (0.4 s each);
    our instances need none (moto accepts any image ID)."""
    with mock.patch.dict(os.environ, {"MOTO_EC2_LOAD_DEFAULT_AMIS": "false"}):
        yield


@contextmanager
def fake_aws(cluster: str) -> Iterator[FakeAWS]:
    """An isolated, prepared account in in-process moto."""
    from moto import mock_aws

    with _quick_moto(), mock_aws():
        yield FakeAWS(cluster=cluster, credentials=isolated_credentials()).setup()


@contextmanager
def conformance_target(cluster: str) -> Iterator[ConformanceTarget]:
    with fake_aws(cluster) as fake:
        recorder = CallRecorder()
        provider = AWSProvider(
            fake.config(), ProviderContext(cluster_name=cluster, recorder=recorder)
        )
        try:
            yield ConformanceTarget(
                provider=provider,
                recorder=recorder,
                backends=fake.backends,
                plant_foreign=fake.plant_foreign,
                snapshot=fake.snapshot,
            )
        finally:
            provider.close()


@contextmanager
def demo_cloud(cluster: str, nodes: list[tuple[str, str]]) -> Iterator[DemoCloud]:
    """A moto server on 127.0.0.1 (port 0) with one instance per node."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    # one access-log line per AWS call would drown the demo's own output
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    with _quick_moto():
        server.start()
        try:
            yield _demo(server, cluster, nodes)
        finally:
            server.stop()


def _demo(server: Any, cluster: str, nodes: list[tuple[str, str]]) -> DemoCloud:
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    fake = FakeAWS(
        cluster=cluster, credentials=isolated_credentials(endpoint), endpoint_url=endpoint
    ).setup()
    fake.add_instances(len(nodes))
    provider_ids = {
        name: f"aws:///{zone}/{iid}"
        for (name, _ip), (iid, zone, _) in zip(nodes, fake.instances, strict=True)
    }
    return DemoCloud(
        provider="aws",
        config={
            "region": fake.region,
            "vpcId": fake.vpc_id,
            "endpointUrl": endpoint,
            "retry": {"botocoreMaxAttempts": 2, "initialDelaySeconds": 0.2},
        },
        provider_ids=provider_ids,
        describe=fake.describe,
        # credentials of the fake account, the way a real deployment passes them
        env={
            "AWS_ACCESS_KEY_ID": fake.credentials["aws_access_key_id"],
            "AWS_SECRET_ACCESS_KEY": fake.credentials["aws_secret_access_key"],
            "AWS_SESSION_TOKEN": fake.credentials["aws_session_token"],
            "AWS_DEFAULT_REGION": fake.region,
        },
    )
