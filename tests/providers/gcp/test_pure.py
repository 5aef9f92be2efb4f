"""The pure parts: names, descriptions, annotations, port rendering, diffing and the
order of steps. Each table row says what it proves."""

from __future__ import annotations

import os
import uuid

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cloud_lb.model import LBRef, ObjectKind
from cloud_lb.provider import InvalidSpecError
from providers.gcp import annotations, diff, naming, render
from tests.providers.gcp.conftest import ref, spec

DNS_LABEL = r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?"
EXAMPLES = 500 if os.environ.get("CLOUD_LB_FULL") == "1" else 50


@settings(max_examples=EXAMPLES, deadline=None)
@given(
    cluster=st.text(min_size=1, max_size=200),
    uid=st.text(min_size=1, max_size=80),
    namespace=st.from_regex(DNS_LABEL, fullmatch=True),
    name=st.from_regex(DNS_LABEL, fullmatch=True),
)
def test_every_generated_name_is_a_valid_gce_name_and_descriptions_round_trip(
    cluster: str, uid: str, namespace: str, name: str
) -> None:
    lb_ref = LBRef(
        cluster=cluster, kind=ObjectKind.SERVICE, namespace=namespace, name=name, uid=uid
    )
    names = [
        naming.lb_name(lb_ref),
        naming.forwarding_rule_name(lb_ref, "TCP"),
        naming.forwarding_rule_name(lb_ref, "UDP"),
        naming.firewall_name(lb_ref),
        naming.health_check_firewall_name(lb_ref),
        naming.instance_group_name(cluster),
    ]
    assert all(naming.NAME_RE.fullmatch(n) and len(n) <= 63 for n in names)
    owner = naming.owner(naming.describe(lb_ref))
    assert owner is not None and owner.ref() == lb_ref
    assert naming.owned_by(naming.describe(lb_ref), lb_ref)


@pytest.mark.parametrize(
    ("description", "ours"),
    [
        (None, False),  # no description: not ours
        ('{"kubernetes.io/service-name":"default/web"}', False),  # cloud-provider-gcp's: not ours
        ("not json", False),
        ("same-cluster-other-uid", False),
        ("ours", True),
    ],
)
def test_ownership_needs_our_cluster_and_the_objects_uid(
    description: str | None, ours: bool
) -> None:
    lb_ref = ref()
    if description == "ours":
        description = naming.describe(lb_ref)
    elif description == "same-cluster-other-uid":
        description = naming.describe(
            LBRef(lb_ref.cluster, lb_ref.kind, lb_ref.namespace, lb_ref.name, str(uuid.uuid4()))
        )
    assert naming.owned_by(description, lb_ref) is ours


@pytest.mark.parametrize(
    ("ports", "internal", "expected"),
    [
        ([80], False, {"ports": ["80"]}),  # one port is listed
        ([443, 80, 80], False, {"ports": ["80", "443"]}),  # sorted, deduplicated
        ([1, 2, 3, 4, 5], True, {"ports": ["1", "2", "3", "4", "5"]}),  # five still fit
        ([1, 2, 3, 4, 5, 900], False, {"portRange": "1-900"}),  # external: a range spans them
        ([1, 2, 3, 4, 5, 900], True, {"allPorts": True}),  # internal has no range: all ports
    ],
)
def test_port_fields_follow_gce_limits(ports: list[int], internal: bool, expected: dict) -> None:
    assert render.port_fields(ports, internal=internal) == expected


@pytest.mark.parametrize(
    ("desired", "actual", "differs"),
    [
        ({"a": 1}, {"a": 1, "extra": "set by GCE"}, False),  # fields GCE adds never differ
        ({"a": False}, {}, False),  # false matches an omitted field
        ({"a": []}, {}, False),  # so does an empty list
        ({"a": ["2", "1"]}, {"a": ["1", "2"]}, False),  # scalar lists are sets
        (
            {"link": "projects/p/regions/r/healthChecks/x"},
            {"link": "https://www.googleapis.com/compute/v1/projects/p/regions/r/healthChecks/x"},
            False,
        ),
        ({"n": 8}, {"n": "8"}, False),  # int64 fields may come back as strings
        ({"description": "new"}, {"description": "old"}, False),  # descriptions are not compared
        ({"a": {"b": 1}}, {"a": {"b": 2}}, True),  # nested values are
        ({"l": [{"g": "x", "m": "C"}]}, {"l": [{"g": "x", "m": "C"}, {"g": "y", "m": "C"}]}, True),
        ({"a": 1}, {}, True),
    ],
)
def test_differences_compare_only_what_we_render(
    desired: dict, actual: dict, differs: bool
) -> None:
    assert bool(diff.differences(desired, actual)) is differs


def _desired(
    lb_ref: LBRef,
    ip_user: str | None = None,
    internal: bool = False,
    protocols: tuple[str, ...] = ("TCP",),
) -> diff.Desired:
    ports = tuple((p, 80 + i, 30080 + i) for i, p in enumerate(protocols))
    s = spec(
        lb_ref,
        [],
        ports=ports,
        static_ip=ip_user,
        options=(("networking.gke.io/load-balancer-type", "Internal"),) if internal else (),
    )
    options = annotations.parse(s, default_tier="PREMIUM")
    placement = render.Placement(
        "p", "r", "projects/p/global/networks/default", "projects/p/regions/r/subnetworks/default"
    )
    return diff.Desired(
        address=None if ip_user else render.address(s, options, placement),
        user_ip=ip_user,
        health_check=render.health_check(s, options, placement),
        backend_service=render.backend_service(s, options, placement, []),
        forwarding_rules=render.forwarding_rules(s, options, placement, None),
        firewalls={},
    )


def _as_actual(desired: diff.Desired, ip: str = "203.0.113.9") -> diff.Actual:
    address = {**desired.address, "address": ip} if desired.address else None
    use = desired.user_ip or ip
    return diff.Actual(
        address=address,
        health_check=desired.health_check,
        backend_service={**desired.backend_service, "fingerprint": "f1"},
        forwarding_rules={
            n: render.fill_address(b, use) for n, b in desired.forwarding_rules.items()
        },
    )


def _steps(steps: list[diff.Step]) -> list[str]:
    out = []
    for s in steps:
        suffix = s.name.rsplit("-", 1)[-1] if s.kind == "forwardingRule" else ""
        out.append(f"{s.action} {s.kind} {suffix}".strip())
    return out


def test_a_new_load_balancer_is_created_address_first_rules_last() -> None:
    assert _steps(diff.plan(_desired(ref()), diff.Actual())) == [
        "create address",
        "create healthCheck",
        "create backendService",
        "create forwardingRule tcp",
    ]


def test_a_converged_load_balancer_needs_no_step() -> None:
    desired = _desired(ref())
    assert diff.plan(desired, _as_actual(desired)) == []


def test_a_dropped_protocol_deletes_its_rule_and_updates_the_backend_service() -> None:
    lb_ref = ref()
    before = _as_actual(_desired(lb_ref, protocols=("TCP", "UDP")))
    steps = diff.plan(_desired(lb_ref, protocols=("TCP",)), before)
    assert _steps(steps) == ["delete forwardingRule udp", "update backendService"]
    assert steps[1].fingerprint == "f1"  # updates carry the fingerprint they read


def test_switching_scheme_tears_down_rule_service_address_before_rebuilding() -> None:
    lb_ref = ref()
    before = _as_actual(_desired(lb_ref))
    assert _steps(diff.plan(_desired(lb_ref, internal=True), before)) == [
        "delete forwardingRule tcp",
        "delete backendService",
        "delete address",
        "create address",
        "create backendService",
        "create forwardingRule tcp",
    ]


def test_moving_to_a_users_address_deletes_ours_only_after_the_rule() -> None:
    lb_ref = ref()
    before = _as_actual(_desired(lb_ref))
    steps = diff.plan(_desired(lb_ref, ip_user="198.51.100.7"), before)
    assert _steps(steps) == [
        "delete forwardingRule tcp",
        "delete address",
        "create forwardingRule tcp",
    ]
    assert steps[-1].body is not None and steps[-1].body["IPAddress"] == "198.51.100.7"


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ((("networking.gke.io/load-balancer-type", "Inside"),), "Internal"),
        ((("cloud.google.com/network-tier", "Gold"),), "Premium"),
        (
            (("networking.gke.io/internal-load-balancer-subnet", "x"),),
            "internal load balancers only",
        ),
        ((("cloud.google.com/l4-rbs", "disabled"),), "enabled"),
        (
            (
                ("networking.gke.io/load-balancer-type", "Internal"),
                ("networking.gke.io/internal-load-balancer-allow-global-access", "yes"),
            ),
            "true",
        ),
    ],
)
def test_bad_annotation_values_name_the_annotation(options: tuple, message: str) -> None:
    with pytest.raises(InvalidSpecError, match=message) as caught:
        annotations.parse(spec(ref(), [], options=options), default_tier="PREMIUM")
    assert caught.value.field is not None and caught.value.field.startswith("metadata.annotations[")


def test_standard_tier_annotation_reaches_address_and_rule() -> None:
    s = spec(ref(), [], options=(("cloud.google.com/network-tier", "Standard"),))
    options = annotations.parse(s, default_tier="PREMIUM")
    placement = render.Placement("p", "r", "projects/p/global/networks/default", None)
    assert render.address(s, options, placement)["networkTier"] == "STANDARD"
    assert {
        r["networkTier"] for r in render.forwarding_rules(s, options, placement, None).values()
    } == {"STANDARD"}
