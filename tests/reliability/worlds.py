"""A "world" for the reliability tests: a fake API server with Nodes, one cloud's fake
(living in the test process, so it outlives any controller process we kill) and the
cloud-lb config that points a controller at both.

Each world is fresh (its own fake cloud, or its own moto account), so a test can make
many of them: one per crash point. What a test compares:

- `resources()`: the cloud resources that did not exist when the world was made,
  counted by type (load balancers, listeners, pools, members, floating IPs, ports,
  security groups and rules, target groups, targets, addresses, forwarding rules,
  firewalls, health checks, instance groups and their memberships, local state
  entries). Counting by type, not by name, lets two worlds be compared even though
  Service UIDs (and so cloud names) differ: a leak or a duplicate changes a count.
- `snapshot()`: the whole fake cloud, comparable with == (ownership tests).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from kubernetes import client as k8s

from cloud_lb.commands.wiring import build_provider
from cloud_lb.config import parse_config
from cloud_lb.model import LBRef, ObjectKind
from cloud_lb.provider import CallRecorder, LoadBalancerProvider
from cloud_lb.testing.fakecluster.nodes import node_manifest
from cloud_lb.testing.fakekube import FakeKubeServer, running_fake_kube

CLUSTER = "rel"
NS = "default"
PROVIDERS = ("local", "openstack", "aws", "gcp")


@dataclass
class World:
    provider_name: str
    kube: FakeKubeServer
    core: k8s.CoreV1Api
    section: dict[str, Any]  # the provider's config section
    env: dict[str, str]  # environment a controller process needs (credentials)
    resources: Callable[[], Counter[str]]
    snapshot: Callable[[], Any]
    fake: Any
    tmp: Path
    extra: dict[str, Any] = field(default_factory=dict)
    _providers: list[LoadBalancerProvider] = field(default_factory=list)

    # -- config ---------------------------------------------------------------------
    def raw_config(self, **overrides: Any) -> dict[str, Any]:
        raw: dict[str, Any] = {
            "clusterName": CLUSTER, "provider": self.provider_name,
            self.provider_name: self.section,
            "controller": {"workers": 2, "nodeSyncDebounce": "0.1s"},
            "rateLimit": {"backoffBase": "0.2s", "backoffMax": "2s"},
            "metrics": {"enabled": False},
        }
        raw.update(overrides)
        return raw

    def config_file(self, name: str = "config.yaml", **overrides: Any) -> str:
        path = self.tmp / name
        path.write_text(yaml.safe_dump(self.raw_config(**overrides)))
        return str(path)

    def provider(self) -> LoadBalancerProvider:
        """A provider in the test process, only to read what the cloud has (`get`,
        `list_owned`); closed with the world."""
        provider = build_provider(parse_config(self.raw_config()), CallRecorder())
        self._providers.append(provider)
        return provider

    # -- Services ---------------------------------------------------------------------
    def create_service(self, name: str, *, ports: list[dict[str, Any]] | None = None,
                       annotations: dict[str, str] | None = None, **spec: Any) -> dict[str, Any]:
        body = {"apiVersion": "v1", "kind": "Service",
                "metadata": {"name": name, "annotations": annotations or {}},
                "spec": {"type": "LoadBalancer", "selector": {"app": name},
                         "ports": ports or [{"name": "tcp", "port": 80, "targetPort": 8080}],
                         **spec}}
        return self.core.api_client.sanitize_for_serialization(
            self.core.create_namespaced_service(NS, body))

    def service(self, name: str) -> dict[str, Any] | None:
        found = self.core.list_namespaced_service(NS, field_selector=f"metadata.name={name}").items
        return self.core.api_client.sanitize_for_serialization(found[0]) if found else None

    def ref(self, service: dict[str, Any]) -> LBRef:
        meta = service["metadata"]
        return LBRef(CLUSTER, ObjectKind.SERVICE, meta["namespace"], meta["name"], meta["uid"])

    def close(self) -> None:
        for provider in self._providers:
            provider.close()


def ingress_of(service: dict[str, Any] | None) -> list[dict[str, Any]]:
    return ((((service or {}).get("status") or {}).get("loadBalancer")) or {}).get("ingress") or []


def add_nodes(core: k8s.CoreV1Api, nodes: list[tuple[str, str, str]]) -> None:
    """(name, ip, providerID) each."""
    for name, ip, provider_id in nodes:
        core.create_node(node_manifest(name, ip, provider_id=provider_id))


def _new_since(baseline: dict[str, set[str]], now: dict[str, set[str]]) -> Counter[str]:
    counts: Counter[str] = Counter()
    for kind, keys in now.items():
        counts[kind] += len(keys - baseline.get(kind, set()))
    return +counts


# -- local ------------------------------------------------------------------------------
@contextmanager
def _local(stack: ExitStack, tmp: Path, n_nodes: int) -> Iterator[tuple[Any, ...]]:
    from providers.local.testing import _snapshot, private_subnet

    state_dir = tmp / "local-state"
    state_dir.mkdir()
    pool, nodes = private_subnet(), private_subnet()
    hosts = list(nodes.hosts())
    section = {"addressPool": str(pool), "stateDir": str(state_dir),
               "healthCheck": {"intervalSeconds": 1.0, "timeoutSeconds": 0.5}}
    node_list = [(f"node-{i}", str(hosts[i]), f"local://node-{i}") for i in range(n_nodes)]

    def kinds() -> dict[str, set[str]]:
        out: dict[str, set[str]] = {"local-lb": set(), "local-listener": set(), "local-backend": set()}
        for (file, key), entry in _snapshot(state_dir).items():
            out["local-lb"].add(f"{file}/{key}")
            for li in entry.get("listeners", []):
                out["local-listener"].add(f"{key}/{li.get('protocol')}/{li.get('port')}")
            for backend in entry.get("backends", []):
                out["local-backend"].add(f"{key}/{json.dumps(backend, sort_keys=True)}")
        return out

    yield section, {}, node_list, kinds, (lambda: _snapshot(state_dir)), state_dir


# -- openstack ----------------------------------------------------------------------------
@contextmanager
def _openstack(stack: ExitStack, tmp: Path, n_nodes: int) -> Iterator[tuple[Any, ...]]:
    from cloud_lb.testing.fakeopenstack import FakeOpenStack
    from providers.openstack.testing import provider_id

    fake = stack.enter_context(FakeOpenStack())
    servers = [fake.add_server(f"node-{i}") for i in range(n_nodes)]
    node_list = [(s["name"], next(iter(s["addresses"].values()))[0]["addr"], provider_id(s))
                 for s in servers]
    section = {"auth": {"authUrl": fake.auth_url, "username": fake.username,
                        "password": fake.password, "projectId": fake.project_id},
               "region": fake.region, "subnetId": fake.private_subnet["id"],
               "floatingNetworkId": fake.public_network["id"],
               "retryInitialSeconds": 0.01, "retryMaxSeconds": 0.05,
               "inlineWaitSeconds": 2.0, "pendingRetrySeconds": 0.5}

    def kinds() -> dict[str, set[str]]:
        return {coll: set(items) for coll, items in fake.snapshot().items()}

    yield section, {}, node_list, kinds, fake.snapshot, fake


# -- aws ------------------------------------------------------------------------------------
@contextmanager
def _aws(stack: ExitStack, tmp: Path, n_nodes: int, endpoint: str) -> Iterator[tuple[Any, ...]]:
    from providers.aws.testing import FAST_LIMITS, FakeAWS, isolated_credentials

    fake = FakeAWS(cluster=CLUSTER, credentials=isolated_credentials(endpoint),
                   endpoint_url=endpoint).setup()
    fake.add_instances(n_nodes)
    node_list = [(f"node-{i}", ip, f"aws:///{zone}/{iid}")
                 for i, (iid, zone, ip) in enumerate(fake.instances)]
    section = {"region": fake.region, "vpcId": fake.vpc_id, "endpointUrl": endpoint,
               "accessKeyId": fake.credentials["aws_access_key_id"],
               "secretAccessKey": fake.credentials["aws_secret_access_key"],
               "sessionToken": fake.credentials["aws_session_token"],
               "rateLimits": FAST_LIMITS,
               "retry": {"botocoreMaxAttempts": 1, "attempts": 5, "initialDelaySeconds": 0.01,
                         "maxDelaySeconds": 0.05}}

    def kinds() -> dict[str, set[str]]:
        snap = fake.snapshot()
        out: dict[str, set[str]] = {"nlb": set(snap["lbs"]), "target-group": set(snap["tgs"]),
                                    "security-group": set(snap["sgs"]), "listener": set(),
                                    "target": set(), "sg-rule": set()}
        for arn, lb in snap["lbs"].items():
            out["listener"].update(f"{arn}/{li[0]}/{li[1]}" for li in lb["listeners"])
        for arn, tg in snap["tgs"].items():
            out["target"].update(f"{arn}/{t}" for t in tg["targets"])
        for gid, sg in snap["sgs"].items():
            out["sg-rule"].update(f"{gid}/in/{r}" for r in sg["ingress"])
            out["sg-rule"].update(f"{gid}/out/{r}" for r in sg["egress"])
        return out

    yield section, {}, node_list, kinds, fake.snapshot, fake


# -- gcp ------------------------------------------------------------------------------------
@contextmanager
def _gcp(stack: ExitStack, tmp: Path, n_nodes: int) -> Iterator[tuple[Any, ...]]:
    from cloud_lb.testing.fakegce import FakeGCE
    from providers.gcp.testing import PROJECT, REGION, ZONES, fake_config, seed_nodes

    fake = stack.enter_context(FakeGCE(project=PROJECT, regions={REGION: ZONES}))
    backends = seed_nodes(fake, [f"node-{i}" for i in range(n_nodes)])
    node_list = [(name, b.address, b.provider_id) for name, b in backends.items()]
    section = fake_config(fake).model_dump(by_alias=True, exclude_none=True)

    def kinds() -> dict[str, set[str]]:
        snap = fake.snapshot()
        out: dict[str, set[str]] = {}
        for key in snap["resources"]:
            kind = key.split("/")[-2]
            out.setdefault(kind, set()).add(key)
        out["instance-group-member"] = {f"{group}/{m}" for group, members in snap["members"].items()
                                        for m in members}
        return out

    yield section, {}, node_list, kinds, fake.snapshot, fake


@contextmanager
def make_world(provider: str, tmp: Path, *, nodes: int = 2,
               moto_endpoint: str | None = None) -> Iterator[World]:
    tmp.mkdir(parents=True, exist_ok=True)
    with ExitStack() as stack:
        kube = stack.enter_context(running_fake_kube())
        core = k8s.CoreV1Api(kube.api_client())
        if provider == "local":
            parts = stack.enter_context(_local(stack, tmp, nodes))
        elif provider == "openstack":
            parts = stack.enter_context(_openstack(stack, tmp, nodes))
        elif provider == "aws":
            assert moto_endpoint, "the aws world needs the moto server"
            parts = stack.enter_context(_aws(stack, tmp, nodes, moto_endpoint))
        elif provider == "gcp":
            parts = stack.enter_context(_gcp(stack, tmp, nodes))
        else:
            raise ValueError(provider)
        section, env, node_list, kinds, snapshot, fake = parts
        add_nodes(core, node_list)
        baseline = kinds()
        world = World(provider_name=provider, kube=kube, core=core, section=section, env=env,
                      resources=lambda: _new_since(baseline, kinds()), snapshot=snapshot,
                      fake=fake, tmp=tmp, extra={"nodes": node_list})
        stack.callback(world.close)
        yield world
