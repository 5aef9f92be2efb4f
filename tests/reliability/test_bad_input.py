"""Bad input: generated Services (annotations, source ranges, addresses, ports, traffic
policy), node objects and config files.

Services go through the real path: created in the fake API server (what it rejects
never reaches us), reconciled by a `ServiceReconciler` against the OpenStack provider
and its fake, with generated Node objects. For every example: no exception out of the
reconcile; an invalid one gets an `InvalidLoadBalancerSpec` event naming the field and
makes no cloud call at all; a valid neighbour reconciled right after it is served.
Config files: `parse_config` returns a Config or raises ConfigError naming a field,
nothing else.

CI: a few hundred examples; CLOUD_LB_FULL=1: 10,000 Services and 10,000 configs.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from kubernetes.client.exceptions import ApiException

from cloud_lb.config import ConfigError, parse_config
from cloud_lb.controller.outcomes import Result
from cloud_lb.controller.service import ServiceReconciler
from cloud_lb.kube.client import KubeAPI
from cloud_lb.kube.events import EventRecorder
from cloud_lb.provider import CallRecorder
from cloud_lb.testing.fakecluster.nodes import node_manifest
from tests.reliability import scenario
from tests.reliability.conftest import FULL
from tests.reliability.worlds import CLUSTER, NS, World, make_world

SERVICES = 10_000 if FULL else 200
CONFIGS = 10_000 if FULL else 300
_names = (f"s{i}" for i in itertools.count())

WEIRD = st.one_of(st.text(max_size=12), st.sampled_from(
    ["", "true", "false", "0", "-1", "65536", "10.0.0.0/33", "::/0", "1.2.3.4", "yes", "5s",
     "ROUND_ROBIN", "a,b", "0.0.0.0/0,,", "abc/def", "999999999999", "https"]))
ANNOTATIONS = st.dictionaries(st.sampled_from([
    "cloud-lb.io/internal", "cloud-lb.io/health-check-interval",
    "cloud-lb.io/health-check-timeout", "cloud-lb.io/health-check-healthy-threshold",
    "cloud-lb.io/health-check-unhealthy-threshold",
    "service.beta.kubernetes.io/load-balancer-source-ranges",
    "loadbalancer.openstack.org/keep-floatingip", "loadbalancer.openstack.org/flavor-id",
    "loadbalancer.openstack.org/lb-method", "loadbalancer.openstack.org/timeout-client-data",
    "loadbalancer.openstack.org/enable-health-monitor", "loadbalancer.openstack.org/proxy-protocol",
    "loadbalancer.openstack.org/health-monitor-delay", "loadbalancer.openstack.org/x-forwarded-for",
    "service.beta.kubernetes.io/openstack-internal-load-balancer"]), WEIRD, max_size=4)
SPEC = st.fixed_dictionaries({}, optional={
    "loadBalancerSourceRanges": st.lists(WEIRD, max_size=3),
    "loadBalancerIP": WEIRD,
    "externalTrafficPolicy": st.sampled_from(["Cluster", "Local"]),
    "ports": st.lists(st.fixed_dictionaries({
        "port": st.integers(1, 65535), "protocol": st.sampled_from(["TCP", "UDP", "SCTP"])}),
        min_size=1, max_size=3),
})
NODES = st.lists(st.fixed_dictionaries({
    "ip": st.one_of(st.ip_addresses(v=4).map(str), WEIRD),
    "ready": st.booleans(),
    "labels": st.dictionaries(st.sampled_from(
        ["node.kubernetes.io/exclude-from-external-load-balancers", "zone"]), WEIRD, max_size=1),
}), max_size=3)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    with make_world("openstack", tmp_path_factory.mktemp("bad-input"), nodes=2) as w:
        yield w


def _service(name: str, annotations: dict[str, str], spec: dict[str, Any]) -> dict[str, Any]:
    ports = [{"name": f"p{i}", **p} for i, p in enumerate(spec.pop("ports", None)
                                                          or [{"port": 80}])]
    return {"apiVersion": "v1", "kind": "Service",
            "metadata": {"name": name, "annotations": annotations},
            "spec": {"type": "LoadBalancer", "ports": ports, **spec}}


@pytest.mark.timeout(600)
@settings(max_examples=SERVICES, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(annotations=ANNOTATIONS, spec=SPEC, nodes=NODES)
def test_generated_services_never_break_a_reconcile(world: World, annotations: dict[str, str],
                                                    spec: dict[str, Any],
                                                    nodes: list[dict[str, Any]]) -> None:
    name = next(_names)
    try:
        world.core.create_namespaced_service(NS, _service(name, annotations, dict(spec)))
    except ApiException as exc:
        assert exc.status in (400, 422), exc  # the API server's own validation
        return
    node_objects = [node_manifest(f"n{i}", n["ip"], ready=n["ready"], labels=n["labels"])
                    for i, n in enumerate(nodes)] + [node_manifest(
                        n, ip, provider_id=pid) for n, ip, pid in world.extra["nodes"]]
    api = KubeAPI(world.kube.api_client())
    recorder = CallRecorder()
    provider = world.extra.get("bad-input-provider")
    if provider is None:
        from cloud_lb.commands.wiring import build_provider
        provider = world.extra["bad-input-provider"] = build_provider(
            parse_config(world.raw_config()), recorder)
    counter = world.extra.setdefault("bad-input-recorder", _recorder_of(provider))
    reconciler = ServiceReconciler(
        api=api, lookup=lambda key: api.get_service(*key.split("/")),
        nodes=lambda: node_objects, provider=provider,
        settings=parse_config(world.raw_config()).translate_settings(),
        events=EventRecorder(api))
    before = counter.count()
    outcome = reconciler.reconcile(f"{NS}/{name}")  # must not raise
    if outcome.result is Result.INVALID:
        assert counter.count() == before, "a cloud call for an invalid spec"
        events = [e for e in world.core.list_namespaced_event(NS).items
                  if e.involved_object.name == name and e.reason == "InvalidLoadBalancerSpec"]
        assert events, outcome
        assert any(marker in events[0].message for marker in
                   ("spec.", "metadata.annotations", "annotation", "loadBalancer")), \
            events[0].message
    else:
        assert outcome.result in (Result.SYNCED, Result.ERROR, Result.PENDING), outcome
    # a valid neighbour right after it is served
    neighbour = next(_names)
    world.core.create_namespaced_service(NS, _service(neighbour, {}, {}))
    assert reconciler.reconcile(f"{NS}/{neighbour}").result is Result.SYNCED
    for gone in (name, neighbour):  # deleted through the reconciler: nothing may leak
        world.core.delete_namespaced_service(gone, NS)
        if world.service(gone) is not None:
            assert reconciler.reconcile(f"{NS}/{gone}").result is Result.DELETED
    assert scenario.reader(world).list_owned() == []


def _recorder_of(provider: Any) -> CallRecorder:
    """The provider's CallRecorder (every cloud call it makes is recorded there)."""
    for value in vars(provider).values():
        if isinstance(value, CallRecorder):
            return value
        for inner in (vars(value).values() if hasattr(value, "__dict__") else ()):
            if isinstance(inner, CallRecorder):
                return inner
    raise AssertionError("no CallRecorder found on the provider")


CONFIG_VALUES = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(-5, 100_000), st.floats(allow_nan=True),
              WEIRD),
    lambda inner: st.one_of(st.lists(inner, max_size=3),
                            st.dictionaries(st.text(max_size=8), inner, max_size=3)),
    max_leaves=6)
CONFIG = st.fixed_dictionaries(
    {"clusterName": st.one_of(st.just(CLUSTER), WEIRD)},
    optional={"provider": st.sampled_from(["local", "openstack", "aws", "gcp", "nope"]),
              "controller": st.dictionaries(st.sampled_from(
                  ["workers", "resyncPeriod", "nodeSyncDebounce", "loadBalancerClass",
                   "addressType", "healthCheck", "bogus"]), CONFIG_VALUES, max_size=3),
              "rateLimit": st.dictionaries(st.sampled_from(
                  ["qps", "burst", "backoffBase", "backoffMax"]), CONFIG_VALUES, max_size=3),
              "openstack": st.dictionaries(st.sampled_from(
                  ["auth", "region", "subnetId", "retryAttempts", "lbMethod"]), CONFIG_VALUES,
                  max_size=3),
              "aws": st.dictionaries(st.sampled_from(
                  ["region", "vpcId", "accessKeyId", "secretAccessKey", "retry"]), CONFIG_VALUES,
                  max_size=3),
              "gc": CONFIG_VALUES, "logging": CONFIG_VALUES, "metrics": CONFIG_VALUES})


@settings(max_examples=CONFIGS, deadline=None)
@given(raw=CONFIG)
def test_generated_config_files_are_accepted_or_named(raw: dict[str, Any]) -> None:
    try:
        parse_config(raw)
    except ConfigError as exc:
        text = str(exc)
        assert text.strip(), "an empty config error"
        assert ":" in text, text  # "<field>: <problem>"
