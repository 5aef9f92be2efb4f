"""The gcp provider against the in-package fake Compute API, for tests and the demo.

`conformance_target(cluster)` starts a `FakeGCE`, seeds a pool of instances spread over
the region's zones (before anything is snapshotted, so snapshots compare the load
balancer's resources only), and builds the provider with fast retries.
`demo_cloud(cluster, nodes)` does the same for `cloud-lb demo --provider gcp`: one
instance per fake-cluster node, providerIDs `gce://<project>/<zone>/<name>`.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from cloud_lb.model import Backend, LBRef, ObjectKind
from cloud_lb.provider import CallRecorder, ProviderContext
from cloud_lb.testing.conformance import ConformanceTarget, DemoCloud
from cloud_lb.testing.fakegce import FakeGCE
from providers.gcp import naming
from providers.gcp.config import GCPConfig

PROJECT = "fake-project"
REGION = "us-central1"
ZONES = (f"{REGION}-a", f"{REGION}-b", f"{REGION}-c")
NODE_TAG = "k8s-node"
POOL_SIZE = 12


def fake_config(fake: FakeGCE, **overrides: Any) -> GCPConfig:
    """Provider config pointing at `fake`, with retries fast enough for tests."""
    settings: dict[str, Any] = {
        "project": fake.project,
        "region": next(iter(fake.regions)),
        "network": "default",
        "subnetwork": "default",
        "apiEndpoint": fake.url,
        "anonymousCredentials": True,
        "nodeTargetTags": [NODE_TAG],
        "retry": {"attempts": 5, "initialSeconds": 0.01, "maxSeconds": 0.05},
        "operationDeadlineSeconds": 10,
    }
    settings.update(overrides)
    return GCPConfig.model_validate(settings)


def seed_nodes(
    fake: FakeGCE, names: list[str], ips: list[str | None] | None = None
) -> dict[str, Backend]:
    """One instance per name, round-robin over the zones; returns their Backends."""
    out = {}
    zones = [z for zs in fake.regions.values() for z in zs]
    for i, name in enumerate(names):
        zone = zones[i % len(zones)]
        fake.add_instance(zone, name, ip=(ips[i] if ips else None), tags=(NODE_TAG,))
        instance = fake.resources("instances")
        ip = next(b["networkInterfaces"][0]["networkIP"] for b in instance if b["name"] == name)
        out[name] = Backend(
            node_name=name, address=ip, provider_id=f"gce://{fake.project}/{zone}/{name}", zone=zone
        )
    return out


def plant_foreign(fake: FakeGCE, ref: LBRef, *, region: str = REGION) -> None:
    """A load balancer with `ref`'s names that is not this cluster's: the forwarding
    rule and address carry cloud-provider-gcp's (or ingress-gce's) description, without
    a cluster, the rest another cluster's."""
    key = (
        "kubernetes.io/ingress-name"
        if ref.kind is ObjectKind.INGRESS
        else ("kubernetes.io/service-name")
    )
    other = json.dumps(
        {
            key: ref.key,
            "kubernetes.io/cluster": f"{ref.cluster}-other",
            "kubernetes.io/uid": ref.uid,
            "managed-by": "cloud-lb",
        }
    )
    legacy = json.dumps({key: ref.key})
    if ref.kind is ObjectKind.INGRESS:
        _plant_foreign_ingress(fake, ref, other, legacy)
        return
    lb = naming.lb_name(ref)
    regional = f"projects/{fake.project}/regions/{region}"
    address = fake.create("addresses", region, {"name": lb, "description": legacy})
    fake.create(
        "regionHealthChecks",
        region,
        {
            "name": lb,
            "description": other,
            "type": "HTTP",
            "httpHealthCheck": {"port": 10256, "requestPath": "/healthz"},
        },
    )
    fake.create(
        "regionBackendServices",
        region,
        {
            "name": lb,
            "description": other,
            "loadBalancingScheme": "EXTERNAL",
            "protocol": "TCP",
            "healthChecks": [f"{regional}/healthChecks/{lb}"],
        },
    )
    fake.create(
        "forwardingRules",
        region,
        {
            "name": naming.forwarding_rule_name(ref, "TCP"),
            "description": legacy,
            "IPAddress": address["address"],
            "IPProtocol": "TCP",
            "ports": ["80"],
            "loadBalancingScheme": "EXTERNAL",
            "backendService": f"{regional}/backendServices/{lb}",
        },
    )
    fake.create(
        "firewalls",
        "",
        {
            "name": naming.firewall_name(ref),
            "description": other,
            "allowed": [{"IPProtocol": "tcp", "ports": ["80"]}],
            "sourceRanges": ["0.0.0.0/0"],
        },
    )


def _plant_foreign_ingress(fake: FakeGCE, ref: LBRef, other: str, legacy: str) -> None:
    """The HTTP front end of an Ingress without default backend, by our names."""
    g = f"projects/{fake.project}/global"
    name = functools.partial(naming.ingress_name, ref)
    service = naming.ingress_backend_name(ref, None)
    address = fake.create("globalAddresses", "", {"name": name("ip"), "description": legacy})
    fake.create(
        "backendServices",
        "",
        {"name": service, "description": other, "loadBalancingScheme": "EXTERNAL_MANAGED"},
    )
    fake.create(
        "urlMaps",
        "",
        {
            "name": name("um"),
            "description": other,
            "defaultService": f"{g}/backendServices/{service}",
        },
    )
    fake.create(
        "targetHttpProxies",
        "",
        {"name": name("tp"), "description": other, "urlMap": f"{g}/urlMaps/{name('um')}"},
    )
    fake.create(
        "globalForwardingRules",
        "",
        {
            "name": name("fr"),
            "description": legacy,
            "IPAddress": address["address"],
            "portRange": "80",
            "loadBalancingScheme": "EXTERNAL_MANAGED",
            "target": f"{g}/targetHttpProxies/{name('tp')}",
        },
    )


@contextmanager
def conformance_target(cluster: str) -> Iterator[ConformanceTarget]:
    from providers.gcp.provider import GCPProvider

    with FakeGCE(project=PROJECT, regions={REGION: ZONES}) as fake:
        pool = seed_nodes(fake, [f"node-{i}" for i in range(POOL_SIZE)])
        recorder = CallRecorder()
        provider = GCPProvider(fake_config(fake), ProviderContext(cluster, recorder))

        def backends(n: int) -> tuple[Backend, ...]:
            if n > POOL_SIZE:
                raise ValueError(f"the gcp conformance pool has {POOL_SIZE} instances")
            return tuple(pool[f"node-{i}"] for i in range(n))

        try:
            yield ConformanceTarget(
                provider=provider,
                recorder=recorder,
                backends=backends,
                plant_foreign=lambda ref: plant_foreign(fake, ref),
                snapshot=fake.snapshot,
            )
        finally:
            provider.close()


def describe(fake: FakeGCE) -> str:
    """What the fake cloud holds, one resource a line (never secrets)."""
    lines = []
    order = [
        "address",
        "forwardingRule",
        "targetHttpProxy",
        "targetHttpsProxy",
        "sslCertificate",
        "urlMap",
        "backendService",
        "healthCheck",
        "instanceGroup",
        "firewall",
    ]
    bodies = [b for b in fake.resources() if b["kind"].split("#", 1)[1] in order]
    bodies.sort(key=lambda b: (order.index(b["kind"].split("#", 1)[1]), b["name"]))
    for body in bodies:
        kind = body["kind"].split("#", 1)[1]
        name = body["name"]
        if kind == "address":
            lines.append(
                f"address           {name} {body['address']} {body.get('addressType')} "
                f"{body.get('status')}"
            )
        elif kind == "forwardingRule":
            ports = ",".join(body.get("ports", [])) or body.get("portRange") or "all"
            target = body.get("backendService") or body.get("target") or ""
            lines.append(
                f"forwarding rule   {name} {body['IPAddress']} {body['IPProtocol']}/"
                f"{ports} {body['loadBalancingScheme']} -> "
                f"{naming.relative(target).rsplit('/', 1)[-1]}"
            )
        elif kind in ("targetHttpProxy", "targetHttpsProxy"):
            certs = [c.rsplit("/", 1)[1] for c in body.get("sslCertificates", [])]
            lines.append(
                f"{'target proxy':<18}{name} -> {body['urlMap'].rsplit('/', 1)[1]}"
                + (f" certificates={','.join(certs)}" if certs else "")
            )
        elif kind == "sslCertificate":  # the private key is never returned, nor shown
            sans = ",".join(body.get("subjectAlternativeNames", []))
            lines.append(f"{'certificate':<18}{name} {sans} until {body.get('expireTime')}")
        elif kind == "urlMap":
            if body.get("defaultUrlRedirect"):
                lines.append(f"{'url map':<18}{name} redirect to HTTPS")
            else:
                paths = sum(
                    len(r["paths"])
                    for m in body.get("pathMatchers", [])
                    for r in m.get("pathRules", [])
                )
                hosts = [h for r in body.get("hostRules", []) for h in r["hosts"]]
                lines.append(
                    f"{'url map':<18}{name} hosts={','.join(hosts) or '-'} paths={paths} "
                    f"default={body['defaultService'].rsplit('/', 1)[1]}"
                )
        elif kind == "backendService":
            groups = [naming.relative(b["group"]).split("/")[3] for b in body.get("backends", [])]
            lines.append(
                f"backend service   {name} {body['protocol']} "
                f"{body['loadBalancingScheme']} zones={','.join(groups) or '-'}"
            )
        elif kind == "healthCheck":
            sub = body.get("httpHealthCheck") or body.get("tcpHealthCheck") or {}
            lines.append(
                f"health check      {name} {body['type']} :{sub.get('port')}"
                f"{sub.get('requestPath', '')} every {body['checkIntervalSec']}s"
            )
        elif kind == "firewall":
            allowed = " ".join(
                f"{a['IPProtocol']}:{','.join(a.get('ports', []))}" for a in body.get("allowed", [])
            )
            lines.append(
                f"firewall          {name} from {','.join(body.get('sourceRanges', []))}"
                f" allow {allowed}"
            )
        elif kind == "instanceGroup":
            zone = body["zone"].rsplit("/", 1)[1]
            members = fake.members(zone, name)
            lines.append(f"instance group    {zone}/{name} {','.join(members) or '(empty)'}")
    return "\n".join(lines) or "no load-balancer resources in the fake Compute API"


@contextmanager
def demo_cloud(cluster: str, nodes: list[tuple[str, str]]) -> Iterator[DemoCloud]:
    with FakeGCE(project=PROJECT, regions={REGION: ZONES}) as fake:
        names = [name for name, _ in nodes]
        backends = seed_nodes(fake, names, [ip for _, ip in nodes])
        config = fake_config(fake).model_dump(by_alias=True, exclude_none=True)
        yield DemoCloud(
            provider="gcp",
            config=config,
            provider_ids={name: b.provider_id for name, b in backends.items()},
            describe=lambda: describe(fake),
        )
