"""Names obey ELBv2's rules for any namespace/name, are stable, and identify the UID."""

from __future__ import annotations

import os
import string

from hypothesis import given, settings
from hypothesis import strategies as st

from cloud_lb.model import LBRef, ObjectKind
from providers.aws import naming
from providers.aws.render import instance_id

EXAMPLES = 500 if os.environ.get("CLOUD_LB_FULL") == "1" else 60
dns_label = st.from_regex(r"\A[a-z]([-a-z0-9]{0,61}[a-z0-9])?\Z", fullmatch=True)
refs = st.builds(
    LBRef,
    cluster=st.text(string.ascii_lowercase + "-", min_size=1, max_size=30),
    kind=st.just(ObjectKind.SERVICE),
    namespace=dns_label,
    name=dns_label,
    uid=st.uuids().map(str),
)


@settings(max_examples=EXAMPLES, deadline=None)
@given(
    ref=refs,
    protocol=st.sampled_from(["TCP", "UDP", "TCP_UDP"]),
    node_port=st.integers(30000, 32767),
)
def test_every_name_is_a_valid_elb_name(ref: LBRef, protocol: str, node_port: int) -> None:
    lb = naming.load_balancer_name(ref)
    tg = naming.target_group_name(ref, protocol=protocol, node_port=node_port)
    for name in (lb, tg, naming.security_group_name(ref)):
        assert naming.is_valid_elb_name(name), name
        assert len(name) <= 32
    assert naming.is_target_group_of(tg, ref)
    assert lb == naming.load_balancer_name(ref)  # stable


@settings(max_examples=EXAMPLES, deadline=None)
@given(a=refs, b=refs)
def test_different_objects_get_different_names(a: LBRef, b: LBRef) -> None:
    if (a.cluster, a.uid) != (b.cluster, b.uid):
        assert naming.load_balancer_name(a) != naming.load_balancer_name(b)


def test_name_shape_and_rules() -> None:
    ref = LBRef("prod", ObjectKind.SERVICE, "kube-system", "my.long-service-name", "u-1")
    name = naming.load_balancer_name(ref)
    assert name.startswith("k8s-kubesyst-mylongse-") and len(name) == 32
    assert not naming.is_valid_elb_name("internal-foo")
    assert not naming.is_valid_elb_name("a" * 33)
    assert not naming.is_valid_elb_name("ends-")
    assert not naming.is_valid_elb_name("a--b")
    assert not naming.is_valid_elb_name("under_score")


def test_ownership_needs_cluster_and_uid() -> None:
    ref = LBRef("prod", ObjectKind.SERVICE, "ns", "web", "uid-1")
    tags = naming.ownership_tags(ref)
    assert naming.is_owned(tags, ref)
    assert naming.ref_from_tags(tags, "prod") == ref
    assert not naming.is_owned({**tags, naming.UID_TAG: "uid-2"}, ref)
    assert not naming.is_owned({**tags, naming.cluster_tag("prod"): "shared"}, ref)
    assert naming.ref_from_tags(tags, "staging") is None


def test_instance_ids_come_from_provider_ids() -> None:
    assert instance_id("aws:///eu-west-3a/i-0123456789abcdef0") == "i-0123456789abcdef0"
    assert instance_id("aws://eu-west-3a/i-0abc") == "i-0abc"
    assert instance_id("gce://project/zone/node") is None
    assert instance_id("") is None
