"""The `openstack:` section of the cloud-lb config file.

Credentials come from exactly one place: a `clouds.yaml` cloud name (`cloud`, with an
optional `cloudsFile`), the config's own `auth` section (password or application
credential; secrets are `SecretStr` and never print), or, when neither is given, the
`OS_*` environment that openstacksdk reads. Network placement (VIP subnet or network,
floating network, member subnet) and behaviour (load-balancing method, health monitor
defaults, what to do with an ERROR load balancer, adopting OCCM's load balancers) follow.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator
from pydantic.alias_generators import to_camel

_MODEL_CONFIG = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")

LbMethod = Literal["ROUND_ROBIN", "LEAST_CONNECTIONS", "SOURCE_IP", "SOURCE_IP_PORT"]


class AuthConfig(BaseModel):
    """Keystone v3 credentials: a user's password or an application credential."""

    model_config = _MODEL_CONFIG

    auth_url: str
    username: str | None = None
    user_id: str | None = None
    password: SecretStr | None = None
    project_id: str | None = None
    project_name: str | None = None
    user_domain_name: str | None = "Default"
    project_domain_name: str | None = "Default"
    application_credential_id: str | None = None
    application_credential_name: str | None = None
    application_credential_secret: SecretStr | None = None

    @model_validator(mode="after")
    def _one_method(self) -> AuthConfig:
        app = self.application_credential_secret is not None
        password = self.password is not None
        if app == password:
            raise ValueError("auth needs either password (with username or userId) or "
                             "applicationCredentialSecret (with its id or name), not both")
        if app and not (self.application_credential_id or self.application_credential_name):
            raise ValueError("applicationCredentialSecret needs applicationCredentialId or "
                             "applicationCredentialName")
        if password and not (self.username or self.user_id):
            raise ValueError("password needs username or userId")
        return self

    @property
    def auth_type(self) -> str:
        return "v3applicationcredential" if self.application_credential_secret else "password"

    def sdk_auth(self) -> dict[str, str]:
        """The openstacksdk `auth` dict (holds the secret: pass it on, never log it)."""
        out = {"auth_url": self.auth_url}
        for key in ("username", "user_id", "project_id", "project_name", "user_domain_name",
                    "project_domain_name", "application_credential_id",
                    "application_credential_name"):
            value = getattr(self, key)
            if value:
                out[key] = value
        if self.password is not None:
            out["password"] = self.password.get_secret_value()
            if not (self.project_id or self.project_name):
                raise ValueError("password auth needs projectId or projectName")
        if self.application_credential_secret is not None:
            out["application_credential_secret"] = (
                self.application_credential_secret.get_secret_value())
            for key in ("project_id", "project_name", "project_domain_name"):
                out.pop(key, None)  # an application credential is scoped already
        return out


class HealthMonitorConfig(BaseModel):
    """Health monitor defaults; each may be overridden per Service by annotation."""

    model_config = _MODEL_CONFIG

    enabled: bool = True
    # externalTrafficPolicy Cluster: HTTP to kube-proxy's /healthz (the spec's check) or
    # a TCP connect to the node port
    cluster_policy: Literal["kube-proxy", "tcp"] = "kube-proxy"
    # None: take the value from the spec's health check
    delay: int | None = Field(default=None, ge=1)
    timeout: int | None = Field(default=None, ge=1)
    max_retries: int | None = Field(default=None, ge=1, le=10)
    max_retries_down: int | None = Field(default=None, ge=1, le=10)


class OpenStackConfig(BaseModel):
    """Config of the `openstack` provider (Octavia + Neutron, as OVHcloud runs them)."""

    model_config = _MODEL_CONFIG

    cloud: str | None = Field(default=None, description="a clouds.yaml cloud name")
    clouds_file: str | None = Field(default=None, description="clouds.yaml path")
    auth: AuthConfig | None = None
    region: str | None = None
    interface: str = "public"
    # VIP placement: subnetId wins over networkId
    subnet_id: str | None = None
    network_id: str | None = None
    member_subnet_id: str | None = None
    floating_network_id: str | None = None
    floating_subnet_id: str | None = None
    lb_method: LbMethod = "ROUND_ROBIN"
    lb_provider: str | None = None
    flavor_id: str | None = None
    availability_zone: str | None = None
    health_monitor: HealthMonitorConfig = Field(default_factory=HealthMonitorConfig)
    # an Octavia load balancer in ERROR: delete and recreate it, or leave it for an operator
    on_error: Literal["recreate", "leave"] = "recreate"
    # adopt untagged load balancers named like OCCM's (kube_service_<cluster>_<ns>_<name>)
    adopt_existing: bool = False
    # how long one call may wait for ACTIVE between two Octavia writes before it hands
    # the work back (PendingError) instead of holding a worker
    inline_wait_seconds: float = Field(default=3.0, ge=0)
    pending_retry_seconds: float = Field(default=5.0, gt=0)
    # retries of one cloud call on 5xx/429/413/connection errors (tenacity)
    retry_attempts: int = Field(default=5, ge=1)
    retry_initial_seconds: float = Field(default=0.5, ge=0)
    retry_max_seconds: float = Field(default=20.0, ge=0)
    # Neutron's tag-creation extension: tags in the floating IP's create body
    tags_on_create: bool = True

    @model_validator(mode="after")
    def _one_credential_source(self) -> OpenStackConfig:
        if self.cloud and self.auth:
            raise ValueError("give either cloud (a clouds.yaml entry) or auth, not both")
        if self.clouds_file and not self.cloud:
            raise ValueError("cloudsFile needs cloud (the entry to use)")
        return self
