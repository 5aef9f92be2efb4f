"""The fake Compute API behaves like GCE where the provider depends on it, proven with
the real `google-cloud-compute` client: operations, errors, validation, quotas,
filters, paging, faults, and a clean stop."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
from google.api_core import exceptions as gexc
from google.auth.credentials import AnonymousCredentials
from google.cloud import compute_v1 as c

from cloud_lb.testing.certs import self_signed
from cloud_lb.testing.fakegce import FakeGCE
from providers.gcp.clients import error_reason

P, R, Z = "fake-project", "us-central1", "us-central1-a"
DONE = c.Operation.Status.DONE


class Clients:
    def __init__(self, fake: FakeGCE) -> None:
        kw: dict[str, Any] = {
            "credentials": AnonymousCredentials(),
            "client_options": {"api_endpoint": fake.url},
        }
        self.addresses = c.AddressesClient(**kw)
        self.checks = c.RegionHealthChecksClient(**kw)
        self.services = c.RegionBackendServicesClient(**kw)
        self.rules = c.ForwardingRulesClient(**kw)
        self.groups = c.InstanceGroupsClient(**kw)
        self.region_ops = c.RegionOperationsClient(**kw)
        self.zone_ops = c.ZoneOperationsClient(**kw)

    def done(self, op: c.Operation) -> c.Operation:
        if op.zone:
            return self.zone_ops.wait(project=P, zone=op.zone.rsplit("/", 1)[1], operation=op.name)
        return self.region_ops.wait(project=P, region=R, operation=op.name)

    def check(self, name: str = "hc") -> None:
        self.done(
            self.checks.insert_unary(
                project=P,
                region=R,
                health_check_resource=c.HealthCheck(
                    name=name, type_="TCP", tcp_health_check=c.TCPHealthCheck(port=80)
                ),
            )
        )

    def service(self, name: str = "bs", check: str = "hc", protocol: str = "TCP") -> None:
        self.done(
            self.services.insert_unary(
                project=P,
                region=R,
                backend_service_resource=c.BackendService(
                    name=name,
                    load_balancing_scheme="EXTERNAL",
                    protocol=protocol,
                    health_checks=[f"projects/{P}/regions/{R}/healthChecks/{check}"],
                ),
            )
        )


@pytest.fixture
def api(fake: FakeGCE) -> Iterator[Clients]:
    yield Clients(fake)


def test_an_operation_goes_pending_running_done_and_applies_its_change_when_done(
    fake: FakeGCE, api: Clients
) -> None:
    fake.operations.hold()
    op = api.addresses.insert_unary(project=P, region=R, address_resource=c.Address(name="a"))
    assert op.status == c.Operation.Status.PENDING
    assert (
        api.region_ops.get(project=P, region=R, operation=op.name).status
        == c.Operation.Status.RUNNING
    )
    with pytest.raises(gexc.NotFound):  # not readable before DONE
        api.addresses.get(project=P, region=R, address="a")
    fake.operations.release()
    assert api.done(op).status == DONE
    assert api.addresses.get(project=P, region=R, address="a").status == "RESERVED"


def test_a_resource_with_an_operation_in_flight_is_not_ready_and_its_name_is_taken(
    fake: FakeGCE, api: Clients
) -> None:
    api.check()
    fake.operations.hold()
    api.addresses.insert_unary(project=P, region=R, address_resource=c.Address(name="a"))
    with pytest.raises(gexc.Conflict) as taken:
        api.addresses.insert_unary(project=P, region=R, address_resource=c.Address(name="a"))
    assert error_reason(taken.value) == "alreadyExists"
    api.checks.delete_unary(project=P, region=R, health_check="hc")
    with pytest.raises(gexc.BadRequest) as busy:
        api.checks.delete_unary(project=P, region=R, health_check="hc")
    assert error_reason(busy.value) == "resourceNotReady"
    fake.operations.release()


def test_duplicates_are_409_and_missing_resources_404(api: Clients) -> None:
    api.done(api.addresses.insert_unary(project=P, region=R, address_resource=c.Address(name="a")))
    with pytest.raises(gexc.Conflict):
        api.addresses.insert_unary(project=P, region=R, address_resource=c.Address(name="a"))
    with pytest.raises(gexc.NotFound) as missing:
        api.addresses.get(project=P, region=R, address="nope")
    assert error_reason(missing.value) == "notFound"
    with pytest.raises(gexc.NotFound):
        api.addresses.delete_unary(project=P, region=R, address="nope")


@pytest.mark.parametrize(
    "name", ["Upper", "1starts-with-digit", "ends-with-dash-", "a" * 64, "under_score", ""]
)
def test_names_must_follow_gce_rules(api: Clients, name: str) -> None:
    with pytest.raises(gexc.BadRequest, match="resource.name"):
        api.addresses.insert_unary(project=P, region=R, address_resource=c.Address(name=name))


def test_a_63_character_name_is_fine(api: Clients) -> None:
    name = "a" + "-b" * 31
    assert len(name) == 63
    assert (
        api.done(
            api.addresses.insert_unary(project=P, region=R, address_resource=c.Address(name=name))
        ).status
        == DONE
    )


def test_updates_need_the_current_fingerprint(api: Clients) -> None:
    api.check()
    api.service()
    current = api.services.get(project=P, region=R, backend_service="bs")
    stale = c.BackendService(current)
    current.session_affinity = "CLIENT_IP"
    api.done(
        api.services.update_unary(
            project=P, region=R, backend_service="bs", backend_service_resource=current
        )
    )
    stale.session_affinity = "CLIENT_IP_PROTO"
    with pytest.raises(gexc.PreconditionFailed) as caught:
        api.services.update_unary(
            project=P, region=R, backend_service="bs", backend_service_resource=stale
        )
    assert error_reason(caught.value) == "conditionNotMet"
    assert (
        api.services.get(project=P, region=R, backend_service="bs").session_affinity == "CLIENT_IP"
    )


def test_deleting_something_still_referenced_is_resource_in_use(api: Clients) -> None:
    api.check()
    api.service()
    address = api.addresses.get(
        project=P,
        region=R,
        address=api.done(
            api.addresses.insert_unary(project=P, region=R, address_resource=c.Address(name="ip"))
        ).target_link.rsplit("/", 1)[1],
    )
    api.done(
        api.rules.insert_unary(
            project=P,
            region=R,
            forwarding_rule_resource=c.ForwardingRule(
                name="fr",
                I_p_address=address.address,
                I_p_protocol="TCP",
                ports=["80"],
                load_balancing_scheme="EXTERNAL",
                backend_service=f"projects/{P}/regions/{R}/backendServices/bs",
            ),
        )
    )
    for call in (
        lambda: api.checks.delete_unary(project=P, region=R, health_check="hc"),
        lambda: api.services.delete_unary(project=P, region=R, backend_service="bs"),
        lambda: api.addresses.delete_unary(project=P, region=R, address="ip"),
    ):
        with pytest.raises(gexc.BadRequest) as caught:
            call()
        assert error_reason(caught.value) == "resourceInUseByAnotherResource"
    assert api.addresses.get(project=P, region=R, address="ip").status == "IN_USE"


def test_references_must_exist_and_rules_must_match_their_backend_service(api: Clients) -> None:
    with pytest.raises(gexc.NotFound, match="healthChecks/missing"):
        api.service(check="missing")
    api.check()
    api.service(protocol="UDP")
    with pytest.raises(gexc.BadRequest, match="does not match"):
        api.rules.insert_unary(
            project=P,
            region=R,
            forwarding_rule_resource=c.ForwardingRule(
                name="fr",
                I_p_protocol="TCP",
                ports=["80"],
                load_balancing_scheme="EXTERNAL",
                backend_service=f"projects/{P}/regions/{R}/backendServices/bs",
            ),
        )


def test_quota_exceeded_fails_the_operation_with_403(fake: FakeGCE, api: Clients) -> None:
    fake.quotas["addresses"] = 1
    api.done(api.addresses.insert_unary(project=P, region=R, address_resource=c.Address(name="a")))
    op = api.done(
        api.addresses.insert_unary(project=P, region=R, address_resource=c.Address(name="b"))
    )
    assert op.status == DONE and op.http_error_status_code == 403
    assert op.error.errors[0].code == "QUOTA_EXCEEDED"
    assert "STATIC_ADDRESSES" in op.error.errors[0].message
    assert [a.name for a in api.addresses.list(project=P, region=R)] == ["a"]


def test_list_filters_and_pages_like_gce(fake: FakeGCE, api: Clients) -> None:
    for name in ("k8s-a", "k8s-b", "other", "k8s-c", "k8s-d"):
        api.done(
            api.addresses.insert_unary(project=P, region=R, address_resource=c.Address(name=name))
        )
    ip = api.addresses.get(project=P, region=R, address="other").address

    def names(flt: str, **kw: Any) -> list[str]:
        return [
            a.name
            for a in api.addresses.list(
                request=c.ListAddressesRequest(project=P, region=R, filter=flt, **kw)
            )
        ]

    assert names('name eq "k8s-.*"') == ["k8s-a", "k8s-b", "k8s-c", "k8s-d"]
    assert names(f'address = "{ip}"') == ["other"]
    assert names('(name = "k8s-a") OR (name = "other")') == ["k8s-a", "other"]
    assert names('name != "other"') == ["k8s-a", "k8s-b", "k8s-c", "k8s-d"]
    fake.reset_calls()
    assert names("", max_results=2) == ["k8s-a", "k8s-b", "k8s-c", "k8s-d", "other"]
    assert fake.count("addresses.list") == 3  # the SDK followed nextPageToken
    with pytest.raises(gexc.BadRequest, match="filter"):
        names('name ~~ "x"')


def test_instance_groups_add_list_and_remove_members(fake: FakeGCE, api: Clients) -> None:
    links = [fake.add_instance(Z, f"vm-{i}") for i in range(3)]
    api.done(
        api.groups.insert_unary(
            project=P,
            zone=Z,
            instance_group_resource=c.InstanceGroup(
                name="ig", network=f"projects/{P}/global/networks/default"
            ),
        )
    )
    add = c.InstanceGroupsAddInstancesRequest(
        instances=[c.InstanceReference(instance=u) for u in links]
    )
    api.done(
        api.groups.add_instances_unary(
            project=P,
            zone=Z,
            instance_group="ig",
            instance_groups_add_instances_request_resource=add,
        )
    )
    with pytest.raises(gexc.BadRequest) as again:
        api.groups.add_instances_unary(
            project=P,
            zone=Z,
            instance_group="ig",
            instance_groups_add_instances_request_resource=add,
        )
    assert error_reason(again.value) == "memberAlreadyExists"
    remove = c.InstanceGroupsRemoveInstancesRequest(
        instances=[c.InstanceReference(instance=links[0])]
    )
    api.done(
        api.groups.remove_instances_unary(
            project=P,
            zone=Z,
            instance_group="ig",
            instance_groups_remove_instances_request_resource=remove,
        )
    )
    listed = api.groups.list_instances(
        project=P,
        zone=Z,
        instance_group="ig",
        instance_groups_list_instances_request_resource=c.InstanceGroupsListInstancesRequest(),
    )
    assert sorted(i.instance.rsplit("/", 1)[1] for i in listed) == ["vm-1", "vm-2"]
    assert api.groups.get(project=P, zone=Z, instance_group="ig").size == 2
    other_zone = fake.add_instance("us-central1-b", "vm-b")
    with pytest.raises(gexc.BadRequest, match="not in zone"):
        api.groups.add_instances_unary(
            project=P,
            zone=Z,
            instance_group="ig",
            instance_groups_add_instances_request_resource=c.InstanceGroupsAddInstancesRequest(
                instances=[c.InstanceReference(instance=other_zone)]
            ),
        )


def test_injected_faults_fire_as_many_times_as_asked(fake: FakeGCE, api: Clients) -> None:
    fake.faults.rate_limit("addresses.get", times=2)
    fake.faults.server_error("addresses.list", status=503, times=1)
    for _ in range(2):
        with pytest.raises(gexc.TooManyRequests) as caught:
            api.addresses.get(project=P, region=R, address="a", retry=None)
        assert error_reason(caught.value) == "rateLimitExceeded"
    with pytest.raises(gexc.NotFound):
        api.addresses.get(project=P, region=R, address="a", retry=None)
    with pytest.raises(gexc.ServiceUnavailable):
        list(api.addresses.list(project=P, region=R, retry=None))
    assert list(api.addresses.list(project=P, region=R, retry=None)) == []
    assert fake.count("addresses.get", status=429) == 2


def test_stop_wakes_waiters_and_leaves_no_thread(fake: FakeGCE, api: Clients) -> None:
    fake.operations.hold()
    op = api.addresses.insert_unary(project=P, region=R, address_resource=c.Address(name="a"))
    outcome: list[object] = []
    waiter = threading.Thread(
        target=lambda: outcome.append(
            api.region_ops.wait(project=P, region=R, operation=op.name, retry=None)
        )
    )
    waiter.start()
    while fake.requests_in_progress() == 0:  # the wait is blocked in the server
        threading.Event().wait(0.01)
    fake.stop()
    waiter.join(timeout=10)
    assert not waiter.is_alive()
    assert outcome[0].status == c.Operation.Status.RUNNING  # answered, not cut off
    assert not [
        t
        for t in threading.enumerate()
        if t.name.startswith("fake-gce") or "process_request" in t.name
    ]


CERT, KEY = self_signed(["a.example"])


def test_the_global_l7_chain_for_ingress_is_served(fake: FakeGCE) -> None:
    """urlMaps, target proxies, certificates, global addresses and forwarding rules (the
    later Ingress work) through the SDK, including GCE's odd `setUrlMap` path, the hidden
    private key, and in-use errors along the chain."""
    kw: dict[str, Any] = {
        "credentials": AnonymousCredentials(),
        "client_options": {"api_endpoint": fake.url},
    }
    ops = c.GlobalOperationsClient(**kw)

    def done(op: c.Operation) -> None:
        assert ops.wait(project=P, operation=op.name).status == DONE
        assert not op.error.errors

    g = f"projects/{P}/global"
    done(
        c.HealthChecksClient(**kw).insert_unary(
            project=P,
            health_check_resource=c.HealthCheck(
                name="hc", type_="HTTP", http_health_check=c.HTTPHealthCheck(port=80)
            ),
        )
    )
    done(
        c.BackendServicesClient(**kw).insert_unary(
            project=P,
            backend_service_resource=c.BackendService(
                name="bs", health_checks=[f"{g}/healthChecks/hc"]
            ),
        )
    )
    maps = c.UrlMapsClient(**kw)
    done(
        maps.insert_unary(
            project=P,
            url_map_resource=c.UrlMap(
                name="um",
                default_service=f"{g}/backendServices/bs",
                host_rules=[c.HostRule(hosts=["a.example"], path_matcher="pm")],
                path_matchers=[
                    c.PathMatcher(
                        name="pm",
                        default_service=f"{g}/backendServices/bs",
                        path_rules=[
                            c.PathRule(paths=["/api/*"], service=f"{g}/backendServices/bs")
                        ],
                    )
                ],
            ),
        )
    )
    done(
        maps.insert_unary(
            project=P,
            url_map_resource=c.UrlMap(name="um2", default_service=f"{g}/backendServices/bs"),
        )
    )
    certs = c.SslCertificatesClient(**kw)
    done(
        certs.insert_unary(
            project=P,
            ssl_certificate_resource=c.SslCertificate(
                name="cert", certificate=CERT, private_key=KEY
            ),
        )
    )
    assert not certs.get(project=P, ssl_certificate="cert").private_key  # never returned
    http = c.TargetHttpProxiesClient(**kw)
    done(
        http.insert_unary(
            project=P,
            target_http_proxy_resource=c.TargetHttpProxy(name="http", url_map=f"{g}/urlMaps/um"),
        )
    )
    done(
        http.set_url_map_unary(
            project=P,
            target_http_proxy="http",
            url_map_reference_resource=c.UrlMapReference(url_map=f"{g}/urlMaps/um2"),
        )
    )
    assert http.get(project=P, target_http_proxy="http").url_map.endswith("/urlMaps/um2")
    done(
        c.TargetHttpsProxiesClient(**kw).insert_unary(
            project=P,
            target_https_proxy_resource=c.TargetHttpsProxy(
                name="https",
                url_map=f"{g}/urlMaps/um",
                ssl_certificates=[f"{g}/sslCertificates/cert"],
            ),
        )
    )
    addresses = c.GlobalAddressesClient(**kw)
    done(addresses.insert_unary(project=P, address_resource=c.Address(name="vip")))
    ip = addresses.get(project=P, address="vip").address
    done(
        c.GlobalForwardingRulesClient(**kw).insert_unary(
            project=P,
            forwarding_rule_resource=c.ForwardingRule(
                name="fr", I_p_address=ip, port_range="80", target=f"{g}/targetHttpProxies/http"
            ),
        )
    )
    with pytest.raises(gexc.BadRequest) as caught:
        http.delete_unary(project=P, target_http_proxy="http")
    assert error_reason(caught.value) == "resourceInUseByAnotherResource"
    with pytest.raises(gexc.BadRequest):
        certs.delete_unary(project=P, ssl_certificate="cert")
    assert addresses.get(project=P, address="vip").status == "IN_USE"
