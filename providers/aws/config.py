"""The `aws:` section of the cloud-lb config file, validated by pydantic.

Credentials are optional: without them boto3 walks its standard chain (environment,
shared config/profile, web identity, instance metadata), which is what a production
deployment on EKS or with IRSA uses. When given here they are `SecretStr`, so they never
print in a repr, a log line or a validation error.

Rate limits are per API family and per kind of call (read / mutate), mirroring how EC2
and ELBv2 throttle accounts: a burst of Services must not throttle the whole account
(other controllers share its buckets).
"""

from __future__ import annotations

import enum

from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator
from pydantic.alias_generators import to_camel

_MODEL_CONFIG = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")


class SecurityGroupMode(str, enum.Enum):
    """Where `loadBalancerSourceRanges` are enforced.

    `loadBalancer` (default): the NLB gets a security group of its own holding the
    allow-list; the nodes' security group admits traffic from that group only.
    `nodes`: the NLB has no security group (as cloud-provider-aws does it); client CIDRs
    and the NLB health checks (from the VPC CIDR) are admitted on the nodes' group.
    """

    LOAD_BALANCER = "loadBalancer"
    NODES = "nodes"

    def __str__(self) -> str:
        return self.value


class RateLimit(BaseModel):
    model_config = _MODEL_CONFIG

    per_second: float = Field(gt=0, description="sustained calls per second")
    burst: int = Field(ge=1, description="calls allowed at once before pacing")


class RateLimits(BaseModel):
    """Client-side token buckets, one per API family and kind of call."""

    model_config = _MODEL_CONFIG

    ec2_read: RateLimit = RateLimit(per_second=20, burst=100)
    ec2_mutate: RateLimit = RateLimit(per_second=5, burst=50)
    elbv2_read: RateLimit = RateLimit(per_second=10, burst=40)
    elbv2_mutate: RateLimit = RateLimit(per_second=5, burst=20)
    # ACM: ImportCertificate is limited to about one call per second per account
    acm_read: RateLimit = Field(
        default=RateLimit(per_second=8, burst=20), description="ACM reads (Ingress certificates)"
    )
    acm_mutate: RateLimit = Field(
        default=RateLimit(per_second=1, burst=5),
        description="ACM imports and deletions (AWS allows about one import per second)",
    )
    tagging_read: RateLimit = Field(
        default=RateLimit(per_second=5, burst=10),
        description="Resource Groups Tagging API (finds our certificates by tag)",
    )


class RetryConfig(BaseModel):
    """Two layers: botocore's standard retry mode (short, per HTTP request), then our
    own tenacity backoff on throttling and 5xx for a longer, jittered wait."""

    model_config = _MODEL_CONFIG

    botocore_max_attempts: int = Field(default=3, ge=1, le=10)
    attempts: int = Field(default=6, ge=1, le=20)
    initial_delay_seconds: float = Field(default=1.0, ge=0)
    max_delay_seconds: float = Field(default=30.0, ge=0)


class AWSConfig(BaseModel):
    model_config = _MODEL_CONFIG

    region: str = Field(min_length=1)
    vpc_id: str = Field(min_length=1, pattern=r"^vpc-[0-9a-f]+$")
    # explicit subnet IDs for every NLB; empty means discovery by tags, one per AZ
    subnets: list[str] = Field(default_factory=list)
    # for moto (tests, demo) or a VPC endpoint; None means AWS's public endpoints
    endpoint_url: str | None = None
    profile: str | None = None
    access_key_id: SecretStr | None = None
    secret_access_key: SecretStr | None = None
    session_token: SecretStr | None = None
    security_group_mode: SecurityGroupMode = SecurityGroupMode.LOAD_BALANCER
    # the nodes' security groups; empty means: per instance, the group tagged
    # kubernetes.io/cluster/<cluster> (or its only group), as cloud-provider-aws does
    node_security_group_ids: list[str] = Field(default_factory=list)
    manage_node_security_group_rules: bool = True
    # the cluster's --service-node-port-range: what the shared backend rules open
    node_port_range: str = Field(default="30000-32767", pattern=r"^\d{1,5}-\d{1,5}$")
    # tags added to every resource we create, after the ownership tags
    extra_tags: dict[str, str] = Field(default_factory=dict)
    # Ingress ALBs: AWS's default quotas (raise them here when AWS raised yours) and the
    # TLS policy of HTTPS listeners without an ssl-policy annotation
    alb_rule_limit: int = Field(
        default=100, ge=1, le=1000, description="listener rules per Ingress ALB (AWS quota)"
    )
    alb_certificate_limit: int = Field(
        default=25,
        ge=1,
        le=100,
        description="SNI certificates per ALB listener, besides the default (AWS quota)",
    )
    alb_ssl_policy: str = Field(
        default="ELBSecurityPolicy-TLS13-1-2-2021-06",
        min_length=1,
        description="TLS policy of HTTPS listeners without the ssl-policy annotation",
    )
    rate_limits: RateLimits = RateLimits()
    retry: RetryConfig = RetryConfig()
    connect_timeout_seconds: float = Field(default=10, gt=0)
    read_timeout_seconds: float = Field(default=30, gt=0)

    @property
    def node_ports(self) -> tuple[int, int]:
        low, _, high = self.node_port_range.partition("-")
        return int(low), int(high)

    @model_validator(mode="after")
    def _credentials_come_in_pairs(self) -> AWSConfig:
        if (self.access_key_id is None) != (self.secret_access_key is None):
            raise ValueError("accessKeyId and secretAccessKey must be given together")
        if self.session_token is not None and self.access_key_id is None:
            raise ValueError("sessionToken needs accessKeyId and secretAccessKey")
        for subnet in self.subnets:
            if not subnet.startswith("subnet-"):
                raise ValueError(f"subnets: {subnet!r} is not a subnet ID (subnet-...)")
        low, high = self.node_ports
        if not 1 <= low <= high <= 65535:
            raise ValueError(f"nodePortRange {self.node_port_range!r} is not a port range")
        for group in self.node_security_group_ids:
            if not group.startswith("sg-"):
                raise ValueError(f"nodeSecurityGroupIds: {group!r} is not a security group ID")
        return self
