"""What is not ours stays untouched (load balancers and Barbican look-alikes), what is
ours is cleaned up even after a crash, and key material never shows."""

from __future__ import annotations

import dataclasses
import logging

import pytest

from cloud_lb.model import LBRef
from cloud_lb.provider import CloudError, OwnershipError
from cloud_lb.testing.fakeopenstack import FakeOpenStack, Fault
from providers.openstack import naming
from providers.openstack.testing import plant_foreign
from tests.providers.openstack.ingress_specs import ingress, shop_tls, tls


def test_look_alike_load_balancers_are_refused_and_untouched(fake: FakeOpenStack,
                                                             provider) -> None:
    spec = ingress(certs=(shop_tls(),))
    plant_foreign(fake, spec.ref)
    before = fake.snapshot()
    with pytest.raises(OwnershipError):
        provider.ensure(spec)
    with pytest.raises(OwnershipError):
        provider.plan(spec)
    provider.delete(spec.ref)
    assert fake.snapshot() == before
    assert provider.list_owned() == []


def test_look_alike_certificates_outlive_create_rotation_and_delete(fake: FakeOpenStack,
                                                                    provider) -> None:
    spec = ingress(certs=(shop_tls(),))
    other = LBRef(spec.ref.cluster, spec.ref.kind, "other", "shop", "another-uid")
    name = naming.container_name(spec.ref, "shop-tls", shop_tls().fingerprint)
    foreign = [fake.plant_certificate(naming.container_name(other, "shop-tls",
                                                            shop_tls().fingerprint)),
               fake.plant_certificate(name[len(naming.barbican_prefix(spec.ref)):]),
               fake.plant_certificate("shop-tls")]
    planted_secrets = {s["id"] for s in fake.resources("secrets")}
    provider.ensure(spec)
    provider.ensure(dataclasses.replace(spec, tls=(shop_tls(serial=1),)))
    provider.delete(spec.ref)
    fake.settle()
    assert {c["id"] for c in fake.resources("containers")} == {c["id"] for c in foreign}
    assert {s["id"] for s in fake.resources("secrets")} == planted_secrets


def test_a_crash_between_secrets_and_container_leaves_nothing_after_delete(
        fake: FakeOpenStack, make_provider) -> None:
    provider = make_provider(retry_attempts=1)
    spec = ingress(certs=(shop_tls(),))
    fake.inject(Fault(status=503, service="key-manager", method="POST", path="containers"))
    with pytest.raises(CloudError):
        provider.ensure(spec)
    assert len(fake.resources("secrets")) == 2 and fake.resources("containers") == []
    provider.ensure(spec)  # stores it again, and the load balancer
    assert len(fake.resources("containers")) == 1
    provider.delete(spec.ref)
    assert fake.resources("containers") == [] and fake.resources("secrets") == []


def test_a_rotation_after_a_crash_prunes_the_orphans_too(fake: FakeOpenStack,
                                                          make_provider) -> None:
    provider = make_provider(retry_attempts=1)
    spec = ingress(certs=(shop_tls(),))
    provider.ensure(spec)
    rotated = dataclasses.replace(spec, tls=(shop_tls(serial=1),))
    fake.inject(Fault(status=503, service="key-manager", method="POST", path="containers"))
    with pytest.raises(CloudError):
        provider.ensure(rotated)
    provider.ensure(rotated)
    [container] = fake.resources("containers")
    assert sorted(s["name"] for s in fake.resources("secrets")) == [
        container["name"] + ".crt", container["name"] + ".key"]


def test_a_chain_goes_to_the_intermediates_secret(fake: FakeOpenStack, provider) -> None:
    spec = ingress(certs=(tls("shop-tls", ("a.example.com",), chain=True),))
    provider.ensure(spec)
    [container] = fake.resources("containers")
    assert sorted(r["name"] for r in container["secret_refs"]) == [
        "certificate", "intermediates", "private_key"]


def test_several_certificates_are_default_and_sni(fake: FakeOpenStack, provider) -> None:
    certs = (tls("a-tls", ("a.example.com",)), tls("b-tls", ("b.example.com",)),
             tls("default-tls", ()))
    provider.ensure(ingress(certs=certs))
    names = {c["id"]: c["name"] for c in fake.resources("containers")}
    [https] = [li for li in fake.resources("listeners") if li["protocol"] == "TERMINATED_HTTPS"]

    def name(ref: str) -> str:
        return names[ref.rsplit("/", 1)[1]].split("_")[2]

    assert name(https["default_tls_container_ref"]) == "default-tls"
    assert sorted(name(r) for r in https["sni_container_refs"]) == ["a-tls", "b-tls"]


def test_key_material_never_shows(fake: FakeOpenStack, make_provider,
                                  caplog: pytest.LogCaptureFixture) -> None:
    provider = make_provider(retry_attempts=1)
    caplog.set_level(logging.DEBUG)
    spec = ingress(certs=(shop_tls(),), redirect=True)
    rotated = dataclasses.replace(spec, tls=(shop_tls(serial=1),))
    plans = [str(c) for c in provider.plan(spec)]
    provider.ensure(spec)
    plans += [str(c) for c in provider.plan(rotated)]
    fake.inject(Fault(status=400, service="key-manager", method="POST", path="secrets",
                      message="Provided object does not match schema 'Secret'"))
    with pytest.raises(CloudError) as caught:
        provider.ensure(rotated)
    provider.ensure(rotated)
    assert "REQ: curl" in caplog.text  # request bodies are logged at DEBUG, but not these
    for cert in (shop_tls(), shop_tls(serial=1)):
        key_line = cert.key_pem.splitlines()[1]
        for text in (caplog.text, str(caught.value), repr(caught.value), *plans,
                     repr(cert), repr(spec)):
            assert key_line not in text
    assert any("certificate" in p and "shop-tls" in p for p in plans)


def test_a_cloud_without_barbican_serves_http_and_refuses_tls_clearly(fake: FakeOpenStack,
                                                                       provider) -> None:
    fake.hide_service("key-manager")
    plain = ingress()
    provider.ensure(plain)
    with pytest.raises(CloudError) as caught:
        provider.ensure(ingress("secure", certs=(shop_tls(),)))
    assert "key manager (Barbican)" in str(caught.value) and not caught.value.retryable
    provider.delete(plain.ref)  # nothing of ours can be in a Barbican that is not there
    fake.settle()
    assert fake.resources("loadbalancers") == []
