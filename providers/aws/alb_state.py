"""The ALB-only objects of one Ingress as plain frozen values: listeners, rules, actions,
certificates; what we want and what AWS has, in the same shapes.

The parts an ALB shares with an NLB (the load balancer itself, target groups, targets,
security groups and rules) stay in `state.Desired` / `state.Observed` and are rendered,
diffed and applied by the same code; `DesiredALB` and `ObservedALB` wrap them.

References that only exist after a call are placeholders, resolved when applying (as
security groups are): a forward action names its target group by *name* (observed
actions are mapped back from ARN to name, so the diff is plain equality), and an
imported certificate is `cert:<fingerprint>` until ACM gave it an ARN.

Secrets: `DesiredCertificate` holds the PEM of certificate and key for the import call;
neither is in its repr, and nothing else here ever holds them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from providers.aws.state import Desired, Observed

CERT_PREFIX = "cert:"
FORWARD = "forward"
FIXED_RESPONSE = "fixed-response"
REDIRECT = "redirect"


def cert_placeholder(fingerprint: str) -> str:
    return CERT_PREFIX + fingerprint


@dataclass(frozen=True, order=True)
class Condition:
    field: str  # host-header | path-pattern
    values: tuple[str, ...]  # sorted: AWS ORs them, their order means nothing

    def to_params(self) -> dict[str, Any]:
        config = "HostHeaderConfig" if self.field == "host-header" else "PathPatternConfig"
        return {"Field": self.field, config: {"Values": list(self.values)}}

    def __str__(self) -> str:
        what = "host" if self.field == "host-header" else "path"
        return f"{what} {','.join(self.values)}"


@dataclass(frozen=True)
class Action:
    """One listener or rule action. Fields not used by `type` stay empty."""

    type: str  # forward | fixed-response | redirect
    target_group: str = ""  # forward: our target group's name (or a foreign ARN, observed)
    status_code: str = ""  # fixed-response: "404"; redirect: "HTTP_301"
    content_type: str = ""  # fixed-response
    message: str = ""  # fixed-response
    protocol: str = ""  # redirect
    port: str = ""  # redirect
    host: str = ""  # redirect
    path: str = ""  # redirect
    query: str = ""  # redirect

    def to_params(self, arns: dict[str, str]) -> dict[str, Any]:
        """The action for CreateListener/ModifyListener/CreateRule; `arns` maps our
        target group names to ARNs."""
        if self.type == FORWARD:
            return {"Type": FORWARD, "TargetGroupArn": arns[self.target_group]}
        if self.type == FIXED_RESPONSE:
            return {
                "Type": FIXED_RESPONSE,
                "FixedResponseConfig": {
                    "StatusCode": self.status_code,
                    "ContentType": self.content_type,
                    "MessageBody": self.message,
                },
            }
        return {
            "Type": REDIRECT,
            "RedirectConfig": {
                "Protocol": self.protocol,
                "Port": self.port,
                "Host": self.host,
                "Path": self.path,
                "Query": self.query,
                "StatusCode": self.status_code,
            },
        }

    def __str__(self) -> str:
        if self.type == FORWARD:
            return f"forward {self.target_group}"
        if self.type == FIXED_RESPONSE:
            return f"fixed {self.status_code}"
        return f"redirect {self.protocol}:{self.port} {self.status_code}"


@dataclass(frozen=True)
class ListenerRule:
    priority: int  # 1 = evaluated first; our rule order
    conditions: tuple[Condition, ...]  # sorted
    action: Action

    def __str__(self) -> str:
        return f"#{self.priority} {' '.join(map(str, self.conditions))} -> {self.action}"


@dataclass(frozen=True)
class ALBListener:
    port: int
    protocol: str  # HTTP | HTTPS
    default_action: Action
    rules: tuple[ListenerRule, ...] = ()
    # HTTPS: certificate references (ARNs or cert: placeholders), the default first
    certificates: tuple[str, ...] = ()
    ssl_policy: str | None = None  # HTTPS only

    @property
    def key(self) -> str:
        return f"{self.protocol}/{self.port}"


@dataclass(frozen=True)
class ObservedRule:
    arn: str
    rule: ListenerRule


@dataclass(frozen=True)
class ObservedALBListener:
    arn: str
    port: int
    protocol: str
    default_action: Action
    rules: tuple[ObservedRule, ...] = ()
    default_certificate: str = ""  # ARN
    extra_certificates: frozenset[str] = frozenset()  # ARNs, the default not included
    ssl_policy: str | None = None

    @property
    def key(self) -> str:
        return f"{self.protocol}/{self.port}"


@dataclass(frozen=True)
class DesiredCertificate:
    """A TLS Secret's certificate to import into ACM. PEM never in the repr."""

    secret: str  # the Secret's name
    fingerprint: str  # TLSCert.fingerprint
    tags: tuple[tuple[str, str], ...]
    certificate: str = field(repr=False, default="")  # the leaf, PEM
    chain: str = field(repr=False, default="")  # the intermediates, PEM ("" for none)
    private_key: str = field(repr=False, default="")

    @property
    def placeholder(self) -> str:
        return cert_placeholder(self.fingerprint)


@dataclass(frozen=True)
class ObservedCertificate:
    """An ACM certificate tagged as this Ingress's (imported by us)."""

    arn: str
    secret: str
    fingerprint: str


@dataclass(frozen=True)
class DesiredALB:
    base: Desired  # the load balancer, target groups, targets, security groups (no listeners)
    listeners: tuple[ALBListener, ...]
    certificates: tuple[DesiredCertificate, ...] = ()


@dataclass(frozen=True)
class ObservedALB:
    base: Observed  # its `listeners` stay empty: ALB listeners are below
    listeners: tuple[ObservedALBListener, ...] = ()
    certificates: tuple[ObservedCertificate, ...] = ()
