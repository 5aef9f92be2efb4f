"""The `gcp:` section of the cloud-lb config file.

Placement: `project`, `region`, `network` and (for internal load balancers) a
`subnetwork`. Credentials: Application Default Credentials unless `credentialsFile`
names a mounted service-account key (the path is never logged, the key never read
into anything printable); `anonymousCredentials` is for the fake Compute API and
emulators only. `apiEndpoint` points the client elsewhere (that is how tests and
`cloud-lb demo` reach the fake). Firewall rules target the nodes by `nodeTargetTags`
or `nodeServiceAccounts` (GCE allows one or the other); with neither, they apply to
every instance of the network.

Health checks use cloud-provider-gcp's timings (8 s interval, 1 s timeout, 1 healthy,
3 unhealthy) unless a Service overrides them with `cloud-lb.io/health-check-*`.
"""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator
from pydantic.alias_generators import to_camel

_MODEL_CONFIG = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")
_NAME = re.compile(r"[a-z](?:[-a-z0-9]{0,61}[a-z0-9])?")


class HealthCheckDefaults(BaseModel):
    model_config = _MODEL_CONFIG

    interval_seconds: int = Field(8, ge=1, le=300)
    timeout_seconds: int = Field(1, ge=1, le=300)
    healthy_threshold: int = Field(1, ge=1, le=10)
    unhealthy_threshold: int = Field(3, ge=1, le=10)

    @model_validator(mode="after")
    def _timeout_fits(self) -> HealthCheckDefaults:
        if self.timeout_seconds > self.interval_seconds:
            raise ValueError("timeoutSeconds must not exceed intervalSeconds")
        return self


class RetryConfig(BaseModel):
    """Retries of throttled (429) and failed (5xx) calls, with exponential backoff."""

    model_config = _MODEL_CONFIG

    attempts: int = Field(5, ge=1, le=20)
    initial_seconds: float = Field(1.0, ge=0.0, le=60.0)
    max_seconds: float = Field(30.0, ge=0.0, le=600.0)


class GCPConfig(BaseModel):
    model_config = _MODEL_CONFIG

    project: str = Field(min_length=1)
    region: str = Field(min_length=1)
    network: str = Field("default", min_length=1)
    subnetwork: str | None = Field(None, description="for internal load balancers")
    zones: list[str] | None = Field(
        None, description="zones of the region that hold nodes (default: read from the API)"
    )
    api_endpoint: str | None = None
    # the path of a mounted key says where a secret lives: masked like one (SecretStr)
    credentials_file: SecretStr | None = None
    anonymous_credentials: bool = Field(False, description="fakes and emulators only")
    node_target_tags: list[str] = Field(default_factory=list)
    node_service_accounts: list[str] = Field(default_factory=list)
    network_tier: str = Field("PREMIUM", pattern="^(PREMIUM|STANDARD)$")
    health_check: HealthCheckDefaults = Field(default_factory=HealthCheckDefaults)
    retry: RetryConfig = Field(default_factory=RetryConfig)
    operation_deadline_seconds: float = Field(
        20.0,
        gt=0,
        le=600,
        description="how long one call waits for a GCE operation before requeueing the key",
    )
    request_timeout_seconds: float = Field(30.0, gt=0, le=600)
    instance_group_cache_seconds: float = Field(
        30.0,
        ge=0,
        le=3600,
        description="how long a confirmed instance-group membership is trusted without re-reading",
    )

    @field_validator("network", "subnetwork")
    @classmethod
    def _resource_name(cls, value: str | None) -> str | None:
        # a bare name or a link (projects/.../subnetworks/x) are both accepted
        if value is None or "/" in value:
            return value
        if not _NAME.fullmatch(value):
            raise ValueError(f"{value!r} is not a valid GCE resource name")
        return value

    @field_validator("node_target_tags")
    @classmethod
    def _tags(cls, value: list[str]) -> list[str]:
        for tag in value:
            if not _NAME.fullmatch(tag):
                raise ValueError(f"network tag {tag!r} is not valid ([a-z]([-a-z0-9]*[a-z0-9])?)")
        return value

    @model_validator(mode="after")
    def _credentials(self) -> GCPConfig:
        if self.node_target_tags and self.node_service_accounts:
            raise ValueError(
                "set nodeTargetTags or nodeServiceAccounts, not both: GCE firewall "
                "rules target one or the other"
            )
        if self.anonymous_credentials and self.credentials_file:
            raise ValueError("anonymousCredentials and credentialsFile exclude each other")
        return self
