"""Test and demo hooks of the OpenStack provider (see `cloud_lb.testing.conformance`).

Both start an in-process fake OpenStack (`cloud_lb.testing.fakeopenstack`) on
127.0.0.1:0, stop it on exit, and point the provider at it through openstacksdk exactly
as at a real cloud. Nodes are Nova servers, so their providerIDs are the real
`openstack:///<server-id>` form.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from cloud_lb.model import Backend, LBRef
from cloud_lb.provider import CallRecorder, ProviderContext
from cloud_lb.testing.conformance import ConformanceTarget, DemoCloud
from cloud_lb.testing.fakeopenstack import FakeOpenStack
from providers.openstack import naming
from providers.openstack.config import AuthConfig, OpenStackConfig
from providers.openstack.provider import OpenStackProvider

NODE_COUNT = 8


def provider_id(server: dict[str, Any]) -> str:
    return f"openstack:///{server['id']}"


def fake_config(fake: FakeOpenStack, **overrides: Any) -> OpenStackConfig:
    """A provider config for `fake`: password auth, its subnet and floating network,
    quick retries (the fake's faults are injected on purpose)."""
    values: dict[str, Any] = {
        "auth": AuthConfig(auth_url=fake.auth_url, username=fake.username,
                           password=fake.password, project_id=fake.project_id),
        "region": fake.region, "subnet_id": fake.private_subnet["id"],
        "floating_network_id": fake.public_network["id"],
        "retry_initial_seconds": 0.01, "retry_max_seconds": 0.05,
        "inline_wait_seconds": 2.0, "pending_retry_seconds": 1.0,
    }
    values.update(overrides)
    return OpenStackConfig(**values)


def node_backends(servers: list[dict[str, Any]], n: int) -> tuple[Backend, ...]:
    out = []
    for server in servers[:n]:
        address = next(iter(server["addresses"].values()))[0]["addr"]
        out.append(Backend(node_name=server["name"], address=address,
                           provider_id=provider_id(server)))
    return tuple(out)


def plant_foreign(fake: FakeOpenStack, ref: LBRef) -> None:
    """Look-alikes of what `ref` gets: the same OCCM-style name tagged for another
    cluster, the same name with no tags, and a floating IP tagged like ours for another
    cluster."""
    other = LBRef(f"{ref.cluster}-other", ref.kind, ref.namespace, ref.name, ref.uid)
    fake.plant_load_balancer(name=naming.lb_name(ref), tags=naming.lb_tags(other))
    fake.plant_load_balancer(name=naming.lb_name(ref), tags=[])
    fake.plant_floating_ip(tags=naming.floating_ip_tags(other))


@contextmanager
def conformance_target(cluster: str) -> Iterator[ConformanceTarget]:
    with FakeOpenStack() as fake:
        servers = [fake.add_server(f"node-{i}") for i in range(NODE_COUNT)]
        recorder = CallRecorder()
        provider = OpenStackProvider(fake_config(fake),
                                     ProviderContext(cluster_name=cluster, recorder=recorder))
        try:
            yield ConformanceTarget(
                provider=provider, recorder=recorder,
                backends=lambda n: node_backends(servers, n),
                plant_foreign=lambda ref: plant_foreign(fake, ref),
                snapshot=fake.snapshot,
            )
        finally:
            provider.close()


def describe(fake: FakeOpenStack) -> str:
    """What the fake cloud holds, for people: load balancers, listeners, floating IPs."""
    lines = []
    listeners = fake.resources("listeners")
    pools = {p["id"]: p for p in fake.resources("pools")}
    monitors = {m["id"]: m for m in fake.resources("healthmonitors")}
    fips = fake.resources("floatingips")
    for lb in fake.resources("loadbalancers"):
        lines.append(f"loadbalancer {lb['name']} id={lb['id']} vip={lb['vip_address']} "
                     f"{lb['provisioning_status']}/{lb['operating_status']}")
        for li in (x for x in listeners if {"id": lb["id"]} in x["loadbalancers"]):
            pool = pools.get(li["default_pool_id"] or "")
            hm = monitors.get(pool["healthmonitor_id"] or "") if pool else None
            cidrs = ",".join(li["allowed_cidrs"] or []) or "any"
            lines.append(f"  listener {li['protocol']}/{li['protocol_port']} from {cidrs} -> "
                         f"pool {pool['protocol'] if pool else '-'} "
                         f"members={len(pool['members']) if pool else 0} "
                         f"monitor={hm['type'] + ' ' + (hm['url_path'] or '') if hm else '-'}")
            lines += _policies(fake, li, pools)
        for fip in fips:
            if fip["port_id"] == lb["vip_port_id"]:
                lines.append(f"  floating ip {fip['floating_ip_address']} -> "
                             f"{fip['fixed_ip_address']}")
    return "\n".join(lines) or "no Octavia load balancers"


def _policies(fake: FakeOpenStack, listener: dict[str, Any],
              pools: dict[str, dict[str, Any]]) -> list[str]:
    """An Ingress listener's certificate and L7 policies, in order (never key material)."""
    lines = []
    if listener["default_tls_container_ref"]:
        names = {c["id"]: c["name"] for c in fake.resources("containers")}
        ref = str(listener["default_tls_container_ref"])
        lines.append(f"    certificate {names.get(ref.rsplit('/', 1)[-1], ref)} "
                     f"+{len(listener['sni_container_refs'] or [])} SNI")
    rules = {r["id"]: r for r in fake.resources("l7rules")}
    for policy in sorted((p for p in fake.resources("l7policies")
                          if p["listener_id"] == listener["id"]), key=lambda p: p["position"]):
        match = " and ".join(f"{rules[r['id']]['type']} {rules[r['id']]['compare_type']} "
                             f"{rules[r['id']]['value']}" for r in policy["rules"]
                             if r["id"] in rules)
        target = pools[policy["redirect_pool_id"]]["name"] \
            if policy["redirect_pool_id"] in pools else \
            f"{policy['redirect_http_code']} {policy['redirect_prefix']}"
        lines.append(f"    #{policy['position']} {match} -> {target}")
    return lines


@contextmanager
def demo_cloud(cluster: str, nodes: list[tuple[str, str]]) -> Iterator[DemoCloud]:
    """A fake OpenStack with one Nova server per node (at the node's address); the
    credentials travel in `env` (OS_* variables), the placement in `config`."""
    with FakeOpenStack() as fake:
        provider_ids = {name: provider_id(fake.add_server(name, ip)) for name, ip in nodes}
        yield DemoCloud(
            provider="openstack",
            config={"subnetId": fake.private_subnet["id"],
                    "floatingNetworkId": fake.public_network["id"],
                    "region": fake.region, "inlineWaitSeconds": 2.0,
                    "pendingRetrySeconds": 1.0},
            provider_ids=provider_ids,
            describe=lambda: describe(fake),
            env=fake.env(),
        )
