"""The collections the fake serves, and how each behaves.

A `Collection` names where it lives in the URL (`scope_kind`, `segment`), the API name
used in call logs and quotas (`regionBackendServices` for `regions/*/backendServices`),
which body fields are references to other resources (`refs`, paths like
`backends[].group`), whether changes need the current `fingerprint` (412 otherwise),
the fields an update may not change, the quota metric and default limit, and its
validation (`validation.py`). Seeded collections (networks, subnetworks, instances) are
read-only through the API; tests create them through `FakeGCE` helpers.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from cloud_lb.testing.fakegce import validation as v
from cloud_lb.testing.fakegce import validation_l7 as v7
from cloud_lb.testing.fakegce.context import Ctx

Prepare = Callable[[Ctx, dict[str, Any], dict[str, Any] | None], None]


@dataclass(frozen=True)
class Collection:
    api_name: str
    scope_kind: str  # "global" | "regions" | "zones"
    segment: str
    kind: str
    prepare: Prepare | None = None
    refs: tuple[str, ...] = ()
    fingerprint: bool = False
    immutable: frozenset[str] = frozenset()
    patchable: frozenset[str] | None = None  # None: every mutable field; empty: no PATCH
    updatable: bool = True  # PUT allowed
    quota: tuple[str, int] | None = None
    writable: bool = True
    hidden: tuple[str, ...] = ()


_NETWORK_REFS = ("network", "subnetwork")
_URLMAP_REFS = (
    "defaultService",
    "defaultRouteAction.weightedBackendServices[].backendService",
    "pathMatchers[].defaultService",
    "pathMatchers[].defaultRouteAction.weightedBackendServices[].backendService",
    "pathMatchers[].pathRules[].service",
    "pathMatchers[].pathRules[].routeAction.weightedBackendServices[].backendService",
    "pathMatchers[].routeRules[].service",
)

COLLECTIONS: tuple[Collection, ...] = (
    Collection(
        "addresses",
        "regions",
        "addresses",
        "compute#address",
        v.prepare_address,
        refs=_NETWORK_REFS,
        updatable=False,
        patchable=frozenset(),
        quota=("STATIC_ADDRESSES", 200),
    ),
    Collection(
        "globalAddresses",
        "global",
        "addresses",
        "compute#address",
        v.prepare_address,
        refs=("network",),
        updatable=False,
        patchable=frozenset(),
        quota=("GLOBAL_STATIC_ADDRESSES", 100),
    ),
    Collection(
        "forwardingRules",
        "regions",
        "forwardingRules",
        "compute#forwardingRule",
        v.prepare_forwarding_rule,
        refs=("backendService", "target") + _NETWORK_REFS,
        fingerprint=True,
        updatable=False,
        patchable=frozenset({"allowGlobalAccess", "allowPscGlobalAccess"}),
        quota=("FORWARDING_RULES", 500),
    ),
    Collection(
        "globalForwardingRules",
        "global",
        "forwardingRules",
        "compute#forwardingRule",
        v.prepare_forwarding_rule,
        refs=("target",),
        fingerprint=True,
        updatable=False,
        patchable=frozenset(),
        quota=("GLOBAL_FORWARDING_RULES", 100),
    ),
    Collection(
        "regionBackendServices",
        "regions",
        "backendServices",
        "compute#backendService",
        v.prepare_region_backend_service,
        refs=("healthChecks[]", "backends[].group", "network"),
        fingerprint=True,
        immutable=frozenset({"loadBalancingScheme", "network"}),
        quota=("REGION_BACKEND_SERVICES", 500),
    ),
    Collection(
        "backendServices",
        "global",
        "backendServices",
        "compute#backendService",
        v.prepare_backend_service,
        refs=("healthChecks[]", "backends[].group"),
        fingerprint=True,
        immutable=frozenset({"loadBalancingScheme"}),
        quota=("BACKEND_SERVICES", 100),
    ),
    Collection(
        "regionHealthChecks",
        "regions",
        "healthChecks",
        "compute#healthCheck",
        v.prepare_health_check,
        quota=("REGION_HEALTH_CHECKS", 500),
    ),
    Collection(
        "healthChecks",
        "global",
        "healthChecks",
        "compute#healthCheck",
        v.prepare_health_check,
        quota=("HEALTH_CHECKS", 200),
    ),
    Collection(
        "firewalls",
        "global",
        "firewalls",
        "compute#firewall",
        v.prepare_firewall,
        refs=("network",),
        immutable=frozenset({"network", "direction"}),
        quota=("FIREWALLS", 500),
    ),
    Collection(
        "instanceGroups",
        "zones",
        "instanceGroups",
        "compute#instanceGroup",
        v.prepare_instance_group,
        refs=_NETWORK_REFS,
        fingerprint=True,
        updatable=False,
        patchable=frozenset(),
        quota=("INSTANCE_GROUPS", 100),
    ),
    Collection(
        "urlMaps",
        "global",
        "urlMaps",
        "compute#urlMap",
        v7.prepare_url_map,
        refs=_URLMAP_REFS,
        fingerprint=True,
        quota=("URL_MAPS", 100),
    ),
    Collection(
        "targetHttpProxies",
        "global",
        "targetHttpProxies",
        "compute#targetHttpProxy",
        v7.prepare_target_http_proxy,
        refs=("urlMap",),
        fingerprint=True,
        updatable=False,
        patchable=frozenset(),
        quota=("TARGET_HTTP_PROXIES", 100),
    ),
    Collection(
        "targetHttpsProxies",
        "global",
        "targetHttpsProxies",
        "compute#targetHttpsProxy",
        v7.prepare_target_https_proxy,
        refs=("urlMap", "sslCertificates[]"),
        fingerprint=True,
        updatable=False,
        patchable=frozenset(),
        quota=("TARGET_HTTPS_PROXIES", 100),
    ),
    Collection(
        "sslCertificates",
        "global",
        "sslCertificates",
        "compute#sslCertificate",
        v7.prepare_ssl_certificate,
        updatable=False,
        patchable=frozenset(),
        quota=("SSL_CERTIFICATES", 100),
        hidden=("privateKey",),
    ),
    Collection("instances", "zones", "instances", "compute#instance", writable=False),
    Collection("networks", "global", "networks", "compute#network", writable=False),
    Collection("subnetworks", "regions", "subnetworks", "compute#subnetwork", writable=False),
)

BY_PATH: dict[tuple[str, str], Collection] = {(c.scope_kind, c.segment): c for c in COLLECTIONS}
BY_NAME: dict[str, Collection] = {c.api_name: c for c in COLLECTIONS}


def walk_refs(body: dict[str, Any], path: str) -> Iterator[tuple[Any, Any, str]]:
    """Yield (container, key, field name) for each value at `path` (`a[].b`, `c[]`, `d`)."""
    parts = path.split(".")

    def walk(node: Any, index: int, prefix: str) -> Iterator[tuple[Any, Any, str]]:
        part = parts[index]
        is_list = part.endswith("[]")
        key = part[:-2] if is_list else part
        if not isinstance(node, dict) or key not in node:
            return
        last = index == len(parts) - 1
        if is_list:
            items = node[key] if isinstance(node[key], list) else []
            for i, item in enumerate(items):
                name = f"{prefix}{key}[{i}]"
                if last:
                    yield items, i, name
                else:
                    yield from walk(item, index + 1, name + ".")
        elif last:
            yield node, key, prefix + key
        else:
            yield from walk(node[key], index + 1, prefix + key + ".")

    yield from walk(body, 0, "resource.")
