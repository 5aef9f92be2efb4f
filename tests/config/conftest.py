"""A test provider plugin with credentials, registered by monkeypatching the registry
(alongside the real `local` plugin), so config tests do not depend on cloud SDKs."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from pydantic import BaseModel, ConfigDict, Field, SecretStr
from pydantic.alias_generators import to_camel

from cloud_lb import provider as registry

SECRET = "s3cr3t-Pa55word-never-printed"

_MODEL = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")


class VaultRetry(BaseModel):
    model_config = _MODEL

    attempts: int = Field(3, ge=1)


class VaultConfig(BaseModel):
    """A provider section with a required URL, a password and a nested model."""

    model_config = _MODEL

    auth_url: str = Field(min_length=1)
    username: str = "admin"
    password: SecretStr | None = None
    password_file: str | None = None
    retry: VaultRetry = Field(default_factory=VaultRetry)


VAULT = registry.ProviderPlugin(
    name="vault", config_model=VaultConfig, factory=lambda config, context: None,
    description="a test provider",
)


@pytest.fixture(autouse=True)
def plugins(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, registry.ProviderPlugin]]:
    from providers.local import PLUGIN as LOCAL

    installed = {"local": LOCAL, "vault": VAULT}
    monkeypatch.setattr(registry, "available_plugins", lambda: dict(installed))
    yield installed
