"""The NLB in moto: scheme, protocols, health checks, attributes, tags, status."""

from __future__ import annotations

import dataclasses

from cloud_lb.model import HealthCheck, HealthCheckProtocol, TrafficPolicy
from providers.aws import annotations as ann
from providers.aws.naming import is_valid_elb_name, load_balancer_name
from tests.providers.aws.conftest import Harness, tcp, udp


def _names(aws: Harness, name: str) -> list[str]:
    return [
        lb["LoadBalancerName"]
        for lb in aws.elb().describe_load_balancers()["LoadBalancers"]
        if lb["LoadBalancerName"] == name
    ]


def test_default_is_an_internet_facing_nlb_with_its_dns_name_as_hostname(aws: Harness) -> None:
    spec = aws.spec()
    status = aws.provider().ensure(spec)
    lb = aws.lb(load_balancer_name(spec.ref))
    assert (lb["Type"], lb["Scheme"], lb["IpAddressType"]) == ("network", "internet-facing", "ipv4")
    assert [p.hostname for p in status.ingress] == [lb["DNSName"]]
    assert status.provider_id == lb["LoadBalancerArn"]
    assert status.to_kube() == {"ingress": [{"hostname": lb["DNSName"]}]}


def test_internal_annotation_and_spec_flag_give_an_internal_nlb(aws: Harness) -> None:
    provider = aws.provider()
    by_annotation = aws.spec(options={ann.INTERNAL: "true"})
    by_spec = aws.spec(internal=True)
    scheme_wins = aws.spec(internal=True, options={ann.SCHEME: "internet-facing"})
    for spec, scheme in (
        (by_annotation, "internal"),
        (by_spec, "internal"),
        (scheme_wins, "internet-facing"),
    ):
        provider.ensure(spec)
        assert aws.lb(load_balancer_name(spec.ref))["Scheme"] == scheme


def test_scheme_change_recreates_under_the_same_name_without_duplicates(aws: Harness) -> None:
    provider = aws.provider()
    spec = aws.spec(listeners=(tcp(80, 30080), tcp(443, 30443)))
    provider.ensure(spec)
    name = load_balancer_name(spec.ref)
    internal = dataclasses.replace(spec, options=((ann.SCHEME, "internal"),))
    assert any("re-create" in str(c) for c in provider.plan(internal))
    provider.ensure(internal)
    lb = aws.lb(name)
    assert lb["Scheme"] == "internal" and _names(aws, name) == [name]
    listeners = aws.elb().describe_listeners(LoadBalancerArn=lb["LoadBalancerArn"])["Listeners"]
    assert sorted(li["Port"] for li in listeners) == [80, 443]
    for tg in aws.target_groups(lb["LoadBalancerArn"]):
        assert aws.targets(tg["TargetGroupArn"]) == {i for i, _, _ in aws.fake.instances[:2]}
    assert provider.plan(internal) == []


def test_tcp_udp_and_tcp_udp_listeners_and_target_groups(aws: Harness) -> None:
    provider = aws.provider()
    spec = aws.spec(listeners=(tcp(80, 30080), udp(5353, 30535), tcp(53, 30053), udp(53, 30053)))
    status = provider.ensure(spec)
    lb = aws.lb(load_balancer_name(spec.ref))
    listeners = aws.elb().describe_listeners(LoadBalancerArn=lb["LoadBalancerArn"])["Listeners"]
    assert sorted((li["Port"], li["Protocol"]) for li in listeners) == [
        (53, "TCP_UDP"),
        (80, "TCP"),
        (5353, "UDP"),
    ]
    groups = {(tg["Protocol"], tg["Port"]) for tg in aws.target_groups(lb["LoadBalancerArn"])}
    assert groups == {("TCP", 30080), ("UDP", 30535), ("TCP_UDP", 30053)}
    for tg in aws.target_groups(lb["LoadBalancerArn"]):
        assert tg["TargetType"] == "instance" and is_valid_elb_name(tg["TargetGroupName"])
    assert status.listeners == ("TCP_UDP/53", "TCP/80", "UDP/5353")
    assert provider.plan(spec) == []


def test_local_traffic_policy_checks_the_health_check_node_port(aws: Harness) -> None:
    local = HealthCheck(protocol=HealthCheckProtocol.HTTP, port=32100, path="/healthz")
    provider = aws.provider()
    spec = aws.spec(listeners=(tcp(80, 30080, local),), traffic_policy=TrafficPolicy.LOCAL)
    provider.ensure(spec)
    [tg] = aws.target_groups(aws.lb(load_balancer_name(spec.ref))["LoadBalancerArn"])
    assert (tg["HealthCheckProtocol"], tg["HealthCheckPort"], tg["HealthCheckPath"]) == (
        "HTTP",
        "32100",
        "/healthz",
    )
    # switching to Cluster with a TCP check on the traffic port modifies the group in place
    cluster = dataclasses.replace(
        spec,
        traffic_policy=TrafficPolicy.CLUSTER,
        listeners=(tcp(80, 30080, HealthCheck(protocol=HealthCheckProtocol.TCP, port=30080)),),
    )
    before = aws.mutations()
    provider.ensure(cluster)
    after = aws.mutations()
    # the health check changes in place (both ports lie in the node-port range the
    # cluster's backend group is admitted on: no rule changes)
    assert {op: n - before.get(op, 0) for op, n in after.items() if n != before.get(op, 0)} == {
        "elbv2:ModifyTargetGroup": 1
    }
    [tg] = aws.target_groups(aws.lb(load_balancer_name(spec.ref))["LoadBalancerArn"])
    assert (tg["HealthCheckProtocol"], tg["HealthCheckPort"]) == ("TCP", "traffic-port")
    assert provider.plan(cluster) == []


def test_attributes_and_tags(aws: Harness) -> None:
    provider = aws.provider(extraTags={"env": "test"})
    spec = aws.spec(
        options={
            ann.CROSS_ZONE: "true",
            ann.PROXY_PROTOCOL: "*",
            ann.ADDITIONAL_TAGS: "team=web",
            ann.TARGET_GROUP_ATTRIBUTES: "deregistration_delay.timeout_seconds=30",
        }
    )
    provider.ensure(spec)
    lb = aws.lb(load_balancer_name(spec.ref))
    attrs = {
        a["Key"]: a["Value"]
        for a in aws.elb().describe_load_balancer_attributes(LoadBalancerArn=lb["LoadBalancerArn"])[
            "Attributes"
        ]
    }
    assert attrs["load_balancing.cross_zone.enabled"] == "true"
    [tg] = aws.target_groups(lb["LoadBalancerArn"])
    tg_attrs = {
        a["Key"]: a["Value"]
        for a in aws.elb().describe_target_group_attributes(TargetGroupArn=tg["TargetGroupArn"])[
            "Attributes"
        ]
    }
    assert tg_attrs["proxy_protocol_v2.enabled"] == "true"
    assert tg_attrs["deregistration_delay.timeout_seconds"] == "30"
    for arn in (lb["LoadBalancerArn"], tg["TargetGroupArn"]):
        tags = {
            t["Key"]: t["Value"]
            for t in aws.elb().describe_tags(ResourceArns=[arn])["TagDescriptions"][0]["Tags"]
        }
        assert tags[f"kubernetes.io/cluster/{aws.cluster}"] == "owned"
        assert tags["kubernetes.io/service-name"] == "default/web"
        assert tags["cloud-lb.io/uid"] == spec.ref.uid
        assert (tags["team"], tags["env"]) == ("web", "test")
    # turning proxy protocol and cross-zone off converges back, then nothing to do
    plain = dataclasses.replace(spec, options=())
    provider.ensure(plain)
    attrs = {
        a["Key"]: a["Value"]
        for a in aws.elb().describe_load_balancer_attributes(LoadBalancerArn=lb["LoadBalancerArn"])[
            "Attributes"
        ]
    }
    assert attrs["load_balancing.cross_zone.enabled"] == "false"
    assert provider.plan(plain) == []


def test_dualstack_needs_ipv6_subnets_and_sets_the_ip_address_type(aws: Harness) -> None:
    provider = aws.provider()
    spec = aws.spec(options={ann.IP_ADDRESS_TYPE: "dualstack"})
    provider.ensure(spec)
    assert aws.lb(load_balancer_name(spec.ref))["IpAddressType"] == "dualstack"
    assert provider.plan(spec) == []


def test_adding_udp_to_a_tcp_port_turns_its_listener_into_tcp_udp(aws: Harness) -> None:
    provider = aws.provider()
    spec = aws.spec(listeners=(tcp(53, 30053),))
    provider.ensure(spec)
    both = dataclasses.replace(spec, listeners=(tcp(53, 30053), udp(53, 30053)))
    provider.ensure(both)
    lb = aws.lb(load_balancer_name(spec.ref))
    listeners = aws.elb().describe_listeners(LoadBalancerArn=lb["LoadBalancerArn"])["Listeners"]
    assert [(li["Port"], li["Protocol"]) for li in listeners] == [(53, "TCP_UDP")]
    # the TCP group went with its listener: one group left, nothing orphaned
    groups = aws.elb().describe_target_groups()["TargetGroups"]
    assert [(g["Protocol"], g["Port"]) for g in groups] == [("TCP_UDP", 30053)]
    assert provider.plan(both) == []


def test_a_new_node_port_gets_a_new_group_and_the_old_one_is_deleted(aws: Harness) -> None:
    provider = aws.provider()
    spec = aws.spec(listeners=(tcp(80, 30080),))
    provider.ensure(spec)
    moved = dataclasses.replace(spec, listeners=(tcp(80, 31080),))
    before = aws.mutations()
    provider.ensure(moved)
    delta = {
        op: n - before.get(op, 0) for op, n in aws.mutations().items() if n != before.get(op, 0)
    }
    assert delta == {
        "elbv2:CreateTargetGroup": 1,
        "elbv2:ModifyListener": 1,  # switched in place, the listener stays
        "elbv2:RegisterTargets": 1,
        "elbv2:DeleteTargetGroup": 1,
    }
    groups = aws.elb().describe_target_groups()["TargetGroups"]
    assert [g["Port"] for g in groups] == [31080]
