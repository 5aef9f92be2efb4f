"""The fake Compute API's global L7 chain refuses what GCE refuses (proven through the
SDK): URL maps with two defaults, a host twice, a path twice or a `*` mid-path, route
actions a classic load balancer lacks, rules whose scheme differs from their backend
services', certificates whose key does not match, in-use deletions, stale named ports."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from google.api_core import exceptions as gexc

from cloud_lb.testing.certs import self_signed
from cloud_lb.testing.fakegce import FakeGCE
from providers.gcp.clients import Compute, error_reason
from tests.providers.gcp.conftest import ProviderFactory

G = "projects/fake-project/global"
ABORT = {"faultInjectionPolicy": {"abort": {"httpStatus": 404, "percentage": 100.0}}}


@pytest.fixture
def compute(make_provider: ProviderFactory) -> Iterator[Compute]:
    yield make_provider().compute


def insert(compute: Compute, kind: str, body: dict[str, Any]) -> None:
    compute.insert(kind, body, deadline=time.monotonic() + 10)


def refused(compute: Compute, kind: str, body: dict[str, Any]) -> str:
    with pytest.raises(gexc.BadRequest) as caught:
        insert(compute, kind, body)
    return f"{error_reason(caught.value)}: {caught.value.message}"


@pytest.fixture
def services(compute: Compute) -> Compute:
    """A managed and a classic backend service (no instances, so no health check)."""
    insert(
        compute,
        "globalBackendService",
        {"name": "managed", "loadBalancingScheme": "EXTERNAL_MANAGED"},
    )
    insert(compute, "globalBackendService", {"name": "classic", "loadBalancingScheme": "EXTERNAL"})
    return compute


def matcher(name: str, *paths: str, service: str = "managed") -> dict[str, Any]:
    return {
        "name": name,
        "defaultService": f"{G}/backendServices/{service}",
        "pathRules": [{"paths": list(paths), "service": f"{G}/backendServices/{service}"}],
    }


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"name": "m"}, "one of defaultService"),
        (
            {
                "name": "m",
                "defaultService": f"{G}/backendServices/managed",
                "defaultUrlRedirect": {"httpsRedirect": True},
            },
            "only one of",
        ),
        (
            {
                "name": "m",
                "defaultService": f"{G}/backendServices/managed",
                "hostRules": [
                    {"hosts": ["a.x"], "pathMatcher": "one"},
                    {"hosts": ["a.x"], "pathMatcher": "two"},
                ],
                "pathMatchers": [matcher("one", "/a"), matcher("two", "/b")],
            },
            "Duplicate host",
        ),
        (
            {
                "name": "m",
                "defaultService": f"{G}/backendServices/managed",
                "hostRules": [{"hosts": ["a.x"], "pathMatcher": "one"}],
                "pathMatchers": [matcher("one", "/a", "/a")],
            },
            "duplicate path",
        ),
        (
            {
                "name": "m",
                "defaultService": f"{G}/backendServices/managed",
                "hostRules": [{"hosts": ["a.x"], "pathMatcher": "one"}],
                "pathMatchers": [matcher("one", "/a*")],
            },
            "only allowed as a final",
        ),
        (
            {
                "name": "m",
                "defaultService": f"{G}/backendServices/managed",
                "hostRules": [{"hosts": ["A_X"], "pathMatcher": "one"}],
                "pathMatchers": [matcher("one", "/a")],
            },
            "not a valid host pattern",
        ),
        (
            {
                "name": "m",
                "defaultService": f"{G}/backendServices/classic",
                "defaultRouteAction": ABORT,
            },
            "classic Application Load Balancers only support urlRewrite",
        ),
        (
            {
                "name": "m",
                "defaultService": f"{G}/backendServices/classic",
                "hostRules": [{"hosts": ["a.x"], "pathMatcher": "one"}],
                "pathMatchers": [matcher("one", "/a", service="managed")],
            },
            "same loadBalancingScheme",
        ),
    ],
)
def test_url_maps_gce_would_refuse_are_refused(
    services: Compute, body: dict[str, Any], message: str
) -> None:
    assert message in refused(services, "urlMap", body)


def test_a_404_map_on_a_managed_service_and_its_proxy_rule_are_served(
    fake: FakeGCE, services: Compute
) -> None:
    insert(
        services,
        "urlMap",
        {
            "name": "m",
            "defaultService": f"{G}/backendServices/managed",
            "defaultRouteAction": ABORT,
        },
    )
    insert(services, "targetHttpProxy", {"name": "p", "urlMap": f"{G}/urlMaps/m"})
    insert(services, "globalAddress", {"name": "ip"})
    rule = {
        "name": "fr",
        "IPAddress": f"{G}/addresses/ip",
        "portRange": "80",
        "target": f"{G}/targetHttpProxies/p",
    }
    # the rule's scheme must be its backend services' (EXTERNAL is the default)
    assert "must match" in refused(services, "globalForwardingRule", rule)
    assert "single port" in refused(
        services,
        "globalForwardingRule",
        {**rule, "loadBalancingScheme": "EXTERNAL_MANAGED", "portRange": "80-81"},
    )
    insert(services, "globalForwardingRule", {**rule, "loadBalancingScheme": "EXTERNAL_MANAGED"})
    (stored,) = fake.resources("globalForwardingRules")
    assert stored["portRange"] == "80-80"  # as GCE answers a single port
    (address,) = fake.resources("globalAddresses")
    assert stored["IPAddress"] == address["address"] and address["status"] == "IN_USE"
    deadline = time.monotonic() + 10
    for kind, name in (
        ("globalAddress", "ip"),
        ("targetHttpProxy", "p"),
        ("urlMap", "m"),
        ("globalBackendService", "managed"),
    ):
        with pytest.raises(gexc.BadRequest) as caught:
            services.delete(kind, name, deadline=deadline)
        assert error_reason(caught.value) == "resourceInUseByAnotherResource"


def test_http_backend_services_need_a_check_for_instances_and_no_connection_mode(
    fake: FakeGCE, compute: Compute
) -> None:
    fake.create("instanceGroups", "us-central1-a", {"name": "ig"})
    group = "projects/fake-project/zones/us-central1-a/instanceGroups/ig"
    assert "needs a health check" in refused(
        compute, "globalBackendService", {"name": "b", "backends": [{"group": group}]}
    )
    insert(
        compute,
        "globalHealthCheck",
        {"name": "hc", "type": "HTTP", "httpHealthCheck": {"port": 30001}},
    )
    assert "CONNECTION is not supported" in refused(
        compute,
        "globalBackendService",
        {
            "name": "b",
            "healthChecks": [f"{G}/healthChecks/hc"],
            "backends": [{"group": group, "balancingMode": "CONNECTION"}],
        },
    )


def test_a_certificate_needs_its_own_key_and_never_echoes_it(compute: Compute) -> None:
    cert, _ = self_signed(["a.example"])
    _, other_key = self_signed(["b.example"])
    message = refused(
        compute, "sslCertificate", {"name": "c", "certificate": cert, "privateKey": other_key}
    )
    assert "do not match" in message
    broken = other_key.replace("PRIVATE KEY-----\n", "PRIVATE KEY-----\nAAAA", 1)
    message = refused(
        compute, "sslCertificate", {"name": "c", "certificate": cert, "privateKey": broken}
    )
    assert "must be a PEM private key" in message and "AAAA" not in message


def test_named_ports_need_the_current_fingerprint(fake: FakeGCE, compute: Compute) -> None:
    fake.create("instanceGroups", "us-central1-a", {"name": "ig"})
    deadline = time.monotonic() + 10
    group = compute.get("instanceGroup", "ig", zone="us-central1-a")
    assert group is not None
    compute.set_named_ports(
        "us-central1-a",
        "ig",
        {"port30001": 30001},
        fingerprint=group["fingerprint"],
        deadline=deadline,
    )
    with pytest.raises(gexc.PreconditionFailed):
        compute.set_named_ports(
            "us-central1-a",
            "ig",
            {"port30002": 30002},
            fingerprint=group["fingerprint"],
            deadline=deadline,
        )
    group = compute.get("instanceGroup", "ig", zone="us-central1-a")
    assert group is not None and group["namedPorts"] == [{"name": "port30001", "port": 30001}]
