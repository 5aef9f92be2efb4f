"""The `gcp:` config section: validation, and credentials that never print."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from google.oauth2 import service_account
from pydantic import ValidationError

from cloud_lb.provider import CloudError
from providers.gcp.clients import _credentials
from providers.gcp.config import GCPConfig

BASE = {"project": "p", "region": "europe-west1"}


def _key_file(path: Path) -> Path:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    path.write_text(
        json.dumps(
            {
                "type": "service_account",
                "project_id": "p",
                "private_key_id": "k1",
                "private_key": pem,
                "client_email": "cloud-lb@p.iam.gserviceaccount.com",
                "client_id": "1",
                "token_uri": "https://oauth2.googleapis.com/token",
            }
        )
    )
    return path


def test_a_service_account_key_file_gives_its_credentials_and_its_path_never_prints(
    tmp_path: Path,
) -> None:
    (tmp_path / "secret-mount").mkdir()
    key = _key_file(tmp_path / "secret-mount" / "key.json")
    config = GCPConfig.model_validate({**BASE, "credentialsFile": str(key)})
    credentials = _credentials(config)
    assert isinstance(credentials, service_account.Credentials)
    assert credentials.service_account_email == "cloud-lb@p.iam.gserviceaccount.com"
    for shown in (repr(config), str(config), json.dumps(config.model_dump(mode="json"))):
        assert "secret-mount" not in shown


def test_an_unreadable_key_file_is_a_clear_error_without_the_path(tmp_path: Path) -> None:
    config = GCPConfig.model_validate({**BASE, "credentialsFile": str(tmp_path / "hidden.json")})
    with pytest.raises(CloudError, match="service-account key file") as caught:
        _credentials(config)
    assert "hidden" not in str(caught.value) and not caught.value.retryable


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"nodeTargetTags": ["a"], "nodeServiceAccounts": ["x@y"]}, "not both"),
        ({"nodeTargetTags": ["Bad_Tag"]}, "not valid"),
        ({"subnetwork": "Not A Name"}, "not a valid GCE resource name"),
        ({"healthCheck": {"intervalSeconds": 2, "timeoutSeconds": 5}}, "must not exceed"),
        ({"networkTier": "GOLD"}, "PREMIUM"),
        ({"anonymousCredentials": True, "credentialsFile": "/k.json"}, "exclude each other"),
        ({"unknownKey": 1}, "Extra inputs"),
    ],
)
def test_bad_sections_are_refused_with_a_message(extra: dict, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        GCPConfig.model_validate({**BASE, **extra})


def test_defaults_are_cloud_provider_gcps() -> None:
    config = GCPConfig.model_validate(BASE)
    check = config.health_check
    assert (
        check.interval_seconds,
        check.timeout_seconds,
        check.healthy_threshold,
        check.unhealthy_threshold,
    ) == (8, 1, 1, 3)
    assert config.network == "default" and config.network_tier == "PREMIUM"
