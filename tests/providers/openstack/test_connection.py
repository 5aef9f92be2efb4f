"""Credentials: clouds.yaml cloud name, OS_* environment, the config's auth section with
a password or an application credential; secrets never print."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from cloud_lb.provider import CallRecorder, CloudError, ProviderContext
from cloud_lb.testing.fakeopenstack import FakeOpenStack
from providers.openstack import PLUGIN
from providers.openstack.config import AuthConfig, OpenStackConfig
from providers.openstack.provider import OpenStackProvider


def _works(fake: FakeOpenStack, config: OpenStackConfig, spec) -> None:
    provider = OpenStackProvider(config, ProviderContext(cluster_name="prod",
                                                         recorder=CallRecorder()))
    try:
        assert provider.ensure(spec).ingress
    finally:
        provider.close()


def _placement(fake: FakeOpenStack) -> dict[str, str]:
    return {"subnetId": fake.private_subnet["id"],
            "floatingNetworkId": fake.public_network["id"]}


def test_clouds_yaml_cloud_name(fake: FakeOpenStack, tmp_path, spec_for) -> None:
    path = tmp_path / "clouds.yaml"
    path.write_text(fake.clouds_yaml("ovh-gra"))
    config = PLUGIN.config_model.model_validate(
        {"cloud": "ovh-gra", "cloudsFile": str(path), **_placement(fake)})
    _works(fake, config, spec_for())


def test_os_environment(fake: FakeOpenStack, monkeypatch, spec_for) -> None:
    for key, value in fake.env().items():
        monkeypatch.setenv(key, value)
    _works(fake, OpenStackConfig.model_validate(_placement(fake)), spec_for())


def test_auth_section_with_an_application_credential(fake: FakeOpenStack, spec_for) -> None:
    config = OpenStackConfig.model_validate({
        "auth": {"authUrl": fake.auth_url,
                 "applicationCredentialId": fake.app_credential_id,
                 "applicationCredentialSecret": fake.app_credential_secret},
        "region": fake.region, **_placement(fake)})
    _works(fake, config, spec_for())


def test_auth_section_with_a_password(fake: FakeOpenStack, spec_for) -> None:
    config = OpenStackConfig.model_validate({
        "auth": {"authUrl": fake.auth_url, "username": fake.username,
                 "password": fake.password, "projectName": "k8s-project"},
        **_placement(fake)})
    _works(fake, config, spec_for())


def test_wrong_credentials_are_a_clear_non_retryable_error(fake: FakeOpenStack,
                                                           spec_for) -> None:
    config = OpenStackConfig.model_validate({
        "auth": {"authUrl": fake.auth_url, "username": fake.username,
                 "password": "wrong-password", "projectId": fake.project_id},
        **_placement(fake)})
    provider = OpenStackProvider(config, ProviderContext(cluster_name="prod"))
    with pytest.raises(CloudError) as caught:
        provider.ensure(spec_for())
    provider.close()
    assert not caught.value.retryable
    assert "wrong-password" not in str(caught.value)


def test_secrets_never_print() -> None:
    config = OpenStackConfig.model_validate({
        "auth": {"authUrl": "https://auth.example/v3", "applicationCredentialId": "id",
                 "applicationCredentialSecret": "s3cr3t-value"}})
    assert "s3cr3t-value" not in repr(config) and "s3cr3t-value" not in str(config)
    assert "s3cr3t-value" not in config.model_dump_json()


@pytest.mark.parametrize("auth", [
    {"authUrl": "u"},  # no method
    {"authUrl": "u", "password": "p"},  # no user
    {"authUrl": "u", "applicationCredentialSecret": "s"},  # no credential id or name
    {"authUrl": "u", "username": "x", "password": "p", "applicationCredentialId": "i",
     "applicationCredentialSecret": "s"},  # both
])
def test_incomplete_auth_sections_are_rejected(auth) -> None:
    with pytest.raises(ValidationError):
        AuthConfig.model_validate(auth)


def test_cloud_and_auth_are_exclusive_and_unknown_keys_rejected() -> None:
    with pytest.raises(ValidationError):
        OpenStackConfig.model_validate({"cloud": "x", "auth": {
            "authUrl": "u", "username": "a", "password": "p"}})
    with pytest.raises(ValidationError):
        OpenStackConfig.model_validate({"floatingNetwork": "typo"})
