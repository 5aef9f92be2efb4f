"""An Ingress's ALB converges by diff: a changed path is one ModifyRule per listener, a
removed backend takes its rules and target group, nodes move only targets."""

from __future__ import annotations

import dataclasses
from typing import Any

from cloud_lb.model import L7Rule, PathType
from providers.aws.naming import load_balancer_name
from tests.providers.aws.conftest import Harness
from tests.providers.aws.ingress import COFFEE, HOSTS, TEA, cafe, cafe_rules, cert, ingress_ref


def rule_arns(aws: Harness, lb_arn: str) -> dict[tuple[int, str], str]:
    """(listener port, priority) -> rule ARN, default rules left out."""
    out = {}
    for li in aws.elb().describe_listeners(LoadBalancerArn=lb_arn)["Listeners"]:
        for rule in aws.elb().describe_rules(ListenerArn=li["ListenerArn"])["Rules"]:
            if not rule["IsDefault"]:
                out[(li["Port"], str(rule["Priority"]))] = rule["RuleArn"]
    return out


def paths(aws: Harness, lb_arn: str, port: int) -> list[tuple[str, tuple[str, ...], Any]]:
    li = next(
        x
        for x in aws.elb().describe_listeners(LoadBalancerArn=lb_arn)["Listeners"]
        if x["Port"] == port
    )
    ports = {tg["TargetGroupArn"]: tg["Port"] for tg in aws.target_groups(lb_arn)}
    out = []
    for rule in aws.elb().describe_rules(ListenerArn=li["ListenerArn"])["Rules"]:
        if rule["IsDefault"]:
            continue
        (path,) = [c for c in rule["Conditions"] if c["Field"] == "path-pattern"]
        out.append(
            (
                str(rule["Priority"]),
                tuple(path["PathPatternConfig"]["Values"]),
                ports[rule["Actions"][0]["TargetGroupArn"]],
            )
        )
    return sorted(out)


def mutations(aws: Harness) -> dict[str, int]:
    return aws.mutations()


def test_a_changed_path_modifies_only_that_rule_on_each_listener(aws: Harness) -> None:
    provider = aws.provider()
    ref = ingress_ref(aws.cluster)
    spec = cafe(ref, aws.fake.backends(2), tls=(cert(),))
    provider.ensure(spec)
    lb_arn = aws.lb(load_balancer_name(ref))["LoadBalancerArn"]
    before = rule_arns(aws, lb_arn)

    rules = list(cafe_rules())
    assert rules[2].path == "/green"
    rules[2] = dataclasses.replace(rules[2], path="/matcha")
    changed = dataclasses.replace(spec, rules=tuple(rules))
    assert [str(c) for c in provider.plan(changed)] == [
        f"~ listener-rule {li}#3 host tea.example.com path /matcha,/matcha/* -> forward "
        f"{_tg_name(aws, lb_arn, 30102)} (was #3 host tea.example.com path /green,/green/* "
        f"-> forward {_tg_name(aws, lb_arn, 30102)})"
        for li in ("HTTP/80", "HTTPS/443")
    ]
    aws.recorder.reset()
    provider.ensure(changed)

    # one ModifyRule per listener, nothing else; reads as for a resync
    assert mutations(aws) == {"elbv2:ModifyRule": 2}
    assert aws.recorder.count() == 15
    assert rule_arns(aws, lb_arn) == before  # same rules, same priorities
    for port in (80, 443):
        assert paths(aws, lb_arn, port)[2] == ("3", ("/matcha", "/matcha/*"), 30102)
    aws.recorder.reset()
    provider.ensure(changed)
    assert aws.recorder.mutations() == 0


def test_a_removed_backend_takes_its_rules_and_target_group(aws: Harness) -> None:
    provider = aws.provider()
    ref = ingress_ref(aws.cluster)
    spec = cafe(ref, aws.fake.backends(2))
    provider.ensure(spec)
    lb_arn = aws.lb(load_balancer_name(ref))["LoadBalancerArn"]
    tea_group = _tg_name(aws, lb_arn, TEA.node_port)

    # the tea Service is deleted: the translation drops its rules
    without_tea = dataclasses.replace(spec, rules=tuple(r for r in spec.rules if r.backend != TEA))
    aws.recorder.reset()
    provider.ensure(without_tea)

    assert paths(aws, lb_arn, 80) == [
        ("1", ("/coffee", "/coffee/*"), COFFEE.node_port),
        ("2", ("/*",), COFFEE.node_port),
    ]
    assert [tg["Port"] for tg in aws.target_groups(lb_arn)] == [COFFEE.node_port]
    names = [tg["TargetGroupName"] for tg in aws.elb().describe_target_groups()["TargetGroups"]]
    assert tea_group not in names
    # rule slots 1 and 2 take the coffee rules, 3 and 4 go; then the unused group
    assert mutations(aws) == {
        "elbv2:ModifyRule": 2,
        "elbv2:DeleteRule": 2,
        "elbv2:DeleteTargetGroup": 1,
    }
    assert aws.lb(load_balancer_name(ref))["LoadBalancerArn"] == lb_arn


def test_default_backend_redirect_and_back(aws: Harness) -> None:
    provider = aws.provider()
    ref = ingress_ref(aws.cluster)
    spec = cafe(ref, aws.fake.backends(1), tls=(cert(),), default_backend=TEA)
    provider.ensure(spec)
    lb_arn = aws.lb(load_balancer_name(ref))["LoadBalancerArn"]
    http, _ = _listeners(aws, lb_arn)
    tea_arn = next(
        tg["TargetGroupArn"] for tg in aws.target_groups(lb_arn) if tg["Port"] == TEA.node_port
    )
    assert http["DefaultActions"] == [{"Type": "forward", "TargetGroupArn": tea_arn}]

    # HTTP -> HTTPS redirect: the HTTP listener only redirects, HTTPS keeps the rules
    provider.ensure(dataclasses.replace(spec, https_redirect=True))
    http, _ = _listeners(aws, lb_arn)
    config = http["DefaultActions"][0]["RedirectConfig"]
    assert (config["Protocol"], config["Port"], config["StatusCode"]) == (
        "HTTPS",
        "443",
        "HTTP_301",
    )
    assert paths(aws, lb_arn, 80) == []
    assert len(paths(aws, lb_arn, 443)) == 4

    # and back: the rules return to HTTP, the default forwards again
    provider.ensure(spec)
    http, _ = _listeners(aws, lb_arn)
    assert http["DefaultActions"] == [{"Type": "forward", "TargetGroupArn": tea_arn}]
    assert paths(aws, lb_arn, 80) == paths(aws, lb_arn, 443)


def test_node_changes_touch_only_targets(aws: Harness) -> None:
    provider = aws.provider()
    ref = ingress_ref(aws.cluster)
    spec = cafe(ref, aws.fake.backends(2))
    provider.ensure(spec)
    moved = dataclasses.replace(spec, backends=aws.fake.backends(3)[1:])

    aws.recorder.reset()
    provider.update_backends(moved)
    assert mutations(aws) == {"elbv2:RegisterTargets": 2, "elbv2:DeregisterTargets": 2}
    lb_arn = aws.lb(load_balancer_name(ref))["LoadBalancerArn"]
    want = {iid for iid, _, _ in aws.fake.instances[1:3]}
    for tg in aws.target_groups(lb_arn):
        assert aws.targets(tg["TargetGroupArn"]) == want
    aws.recorder.reset()
    provider.ensure(moved)
    assert aws.recorder.mutations() == 0


def test_a_new_rule_in_front_shifts_the_slots_after_it(aws: Harness) -> None:
    provider = aws.provider()
    ref = ingress_ref(aws.cluster)
    spec = cafe(ref, aws.fake.backends(1))
    provider.ensure(spec)
    extra = L7Rule(HOSTS[0], "/coffee/espresso", PathType.PREFIX, TEA)
    grown = dataclasses.replace(spec, rules=(spec.rules[0], extra, *spec.rules[1:]))
    aws.recorder.reset()
    provider.ensure(grown)
    lb_arn = aws.lb(load_balancer_name(ref))["LoadBalancerArn"]
    assert [p[1][0] for p in paths(aws, lb_arn, 80)] == [
        "/tea",
        "/coffee/espresso",
        "/coffee",
        "/green",
        "/*",
    ]
    # slots 2-4 take their new rules, slot 5 is new; priorities stay unique throughout
    assert mutations(aws) == {"elbv2:ModifyRule": 3, "elbv2:CreateRule": 1}


def _listeners(aws: Harness, lb_arn: str) -> list[dict[str, Any]]:
    return sorted(
        aws.elb().describe_listeners(LoadBalancerArn=lb_arn)["Listeners"], key=lambda li: li["Port"]
    )


def _tg_name(aws: Harness, lb_arn: str, port: int) -> str:
    return next(tg["TargetGroupName"] for tg in aws.target_groups(lb_arn) if tg["Port"] == port)
