"""Pure parsing of an Ingress's `alb.ingress.kubernetes.io/*` annotations into `ALBOptions`.

The keys and values are those of the aws-load-balancer-controller, where they mean the
same thing for one ALB per Ingress (see docs/providers/aws.md for the table). What the
controller does differently and users would miss silently is refused instead: IngressGroups
(`group.name`, one ALB for many Ingresses) and `ip` targets. A bad value raises
`InvalidSpecError` naming the annotation, before any AWS call.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable
from dataclasses import dataclass

from cloud_lb.provider import InvalidSpecError
from providers.aws.annotations import _SUCCESS_CODES, NLBOptions, _list, _tags

PREFIX = "alb.ingress.kubernetes.io/"

SCHEME = PREFIX + "scheme"
SUBNETS = PREFIX + "subnets"
INBOUND_CIDRS = PREFIX + "inbound-cidrs"
CERTIFICATE_ARN = PREFIX + "certificate-arn"
SSL_POLICY = PREFIX + "ssl-policy"
SSL_REDIRECT = PREFIX + "ssl-redirect"
TAGS = PREFIX + "tags"
SECURITY_GROUPS = PREFIX + "security-groups"
IP_ADDRESS_TYPE = PREFIX + "ip-address-type"
SUCCESS_CODES = PREFIX + "success-codes"
TARGET_TYPE = PREFIX + "target-type"
GROUP_NAME = PREFIX + "group.name"

_CERT_ARN = re.compile(
    r"^arn:aws[a-z-]*:(acm:[a-z0-9-]+:\d{12}:certificate/[A-Za-z0-9-]+"
    r"|iam::\d{12}:server-certificate/[\w+=,.@/-]+)$"
)
_POLICY = re.compile(r"^[A-Za-z0-9-]{1,128}$")


@dataclass(frozen=True)
class ALBOptions:
    """What the annotations ask of the ALB. `None` / empty means "not said"."""

    scheme: str | None = None  # "internal" | "internet-facing"
    subnets: tuple[str, ...] = ()  # subnet IDs or Name tags
    inbound_cidrs: tuple[str, ...] = ()
    certificate_arns: tuple[str, ...] = ()  # the first is the listener's default
    ssl_policy: str | None = None
    ssl_redirect_port: int | None = None
    additional_tags: tuple[tuple[str, str], ...] = ()
    security_groups: tuple[str, ...] = ()  # IDs or names, replace our own group
    dualstack: bool | None = None
    success_codes: str | None = None

    def placement_options(self) -> NLBOptions:
        """The subset `PlacementResolver` reads (subnets, scheme, groups, IP type)."""
        return NLBOptions(
            scheme=self.scheme,
            subnets=self.subnets,
            security_groups=self.security_groups,
            dualstack=self.dualstack,
        )


def parse(options: Iterable[tuple[str, str]]) -> ALBOptions:
    """Parse the Ingress annotations (spec.options). Unknown keys are ignored."""
    ann = {k: v.strip() for k, v in options}
    if ann.get(GROUP_NAME):
        raise InvalidSpecError(
            f"{GROUP_NAME}: IngressGroups are not supported; cloud-lb gives every "
            "Ingress its own ALB",
            field=GROUP_NAME,
        )
    target = ann.get(TARGET_TYPE)
    if target not in (None, "instance"):
        raise InvalidSpecError(
            f"{TARGET_TYPE}: only instance targets are supported (nodes on their node "
            f"ports), got {target!r}",
            field=TARGET_TYPE,
        )
    scheme = ann.get(SCHEME)
    if scheme is not None and scheme not in ("internal", "internet-facing"):
        raise InvalidSpecError(
            f"{SCHEME}: must be internal or internet-facing, got {scheme!r}", field=SCHEME
        )
    cidrs = _list(ann, INBOUND_CIDRS)
    for cidr in cidrs:
        try:
            ipaddress.ip_network(cidr, strict=True)
        except ValueError:
            raise InvalidSpecError(
                f"{INBOUND_CIDRS}: {cidr!r} is not a network in CIDR notation",
                field=INBOUND_CIDRS,
            ) from None
    if len(set(cidrs)) != len(cidrs):
        raise InvalidSpecError(f"{INBOUND_CIDRS}: duplicate value", field=INBOUND_CIDRS)
    arns = _list(ann, CERTIFICATE_ARN)
    for arn in arns:
        if not _CERT_ARN.match(arn):
            raise InvalidSpecError(
                f"{CERTIFICATE_ARN}: {arn!r} is not an ACM certificate ARN "
                "(or an IAM server certificate ARN)",
                field=CERTIFICATE_ARN,
            )
    if len(set(arns)) != len(arns):
        raise InvalidSpecError(f"{CERTIFICATE_ARN}: duplicate value", field=CERTIFICATE_ARN)
    policy = ann.get(SSL_POLICY)
    if policy is not None and not _POLICY.match(policy):
        raise InvalidSpecError(
            f"{SSL_POLICY}: {policy!r} is not a security policy name "
            "(e.g. ELBSecurityPolicy-TLS13-1-2-2021-06)",
            field=SSL_POLICY,
        )
    ip_type = ann.get(IP_ADDRESS_TYPE)
    if ip_type is not None and ip_type not in ("ipv4", "dualstack"):
        raise InvalidSpecError(
            f"{IP_ADDRESS_TYPE}: must be ipv4 or dualstack, got {ip_type!r}", field=IP_ADDRESS_TYPE
        )
    codes = ann.get(SUCCESS_CODES)
    if codes is not None and not _SUCCESS_CODES.match(codes):
        raise InvalidSpecError(
            f"{SUCCESS_CODES}: must look like 200, 200-399 or 200,204", field=SUCCESS_CODES
        )
    return ALBOptions(
        scheme=scheme,
        subnets=_list(ann, SUBNETS),
        inbound_cidrs=cidrs,
        certificate_arns=arns,
        ssl_policy=policy,
        ssl_redirect_port=_redirect_port(ann),
        additional_tags=_tags(ann, TAGS),
        security_groups=_list(ann, SECURITY_GROUPS),
        dualstack=None if ip_type is None else ip_type == "dualstack",
        success_codes=codes,
    )


def _redirect_port(ann: dict[str, str]) -> int | None:
    raw = ann.get(SSL_REDIRECT)
    if raw is None:
        return None
    if not raw.isdigit() or not 1 <= int(raw) <= 65535:
        raise InvalidSpecError(
            f"{SSL_REDIRECT}: must be the HTTPS port to redirect to (e.g. '443'), got {raw!r}",
            field=SSL_REDIRECT,
        )
    return int(raw)
