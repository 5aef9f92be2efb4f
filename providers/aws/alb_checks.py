"""What an Ingress may ask of an ALB, checked before any AWS call. Pure.

`check_alb_spec` rejects what an ALB cannot serve with an `InvalidSpecError` naming the
field or annotation: listeners other than one HTTP and one HTTPS, HTTPS without a
certificate, a redirect without HTTPS, hosts and paths an ALB condition cannot hold (its
path patterns treat `*` and `?` as wildcards and allow few characters), more rules or
certificates than the quotas, backends without a node port. What passes comes back as
an `ALBPlan`: the listener ports, whether HTTP redirects, and one target group name per
backend node port.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from cloud_lb.model import L7Backend, L7Rule, LoadBalancerSpec, PathType, Protocol
from cloud_lb.provider import InvalidSpecError
from providers.aws import alb_annotations as ann
from providers.aws.alb_annotations import ALBOptions
from providers.aws.naming import target_group_name

MAX_VALUE_LENGTH = 128  # of one host-header or path-pattern value
# what an ALB path pattern may hold besides its wildcards (AWS documents `&` only as
# `&amp;`: left out rather than guessed); `*` and `?` would be wildcards, never literal
_PATH = re.compile(r"^/[A-Za-z0-9_\-.$/~\"'@:+]*$")
_HOST = re.compile(r"^(\*\.)?[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$")


@dataclass(frozen=True)
class ALBSettings:
    """The provider config's ALB quotas and TLS policy."""

    rule_limit: int = 100
    certificate_limit: int = 25
    ssl_policy: str = "ELBSecurityPolicy-TLS13-1-2-2021-06"


DEFAULTS = ALBSettings()


@dataclass(frozen=True)
class ALBPlan:
    """What `check_alb_spec` found: listener ports and the backends by target group."""

    http_port: int | None
    https_port: int | None
    redirect: bool
    target_groups: tuple[tuple[str, L7Backend], ...]  # (name, backend), first use order

    def target_group_of(self, backend: L7Backend) -> str:
        return next(name for name, b in self.target_groups if b.node_port == backend.node_port)


def check_alb_spec(
    spec: LoadBalancerSpec, opts: ALBOptions, limits: ALBSettings = DEFAULTS
) -> ALBPlan:
    """Reject what an ALB cannot serve; return the plan's skeleton. No I/O."""
    http = [li for li in spec.listeners if li.protocol is Protocol.HTTP]
    https = [li for li in spec.listeners if li.protocol is Protocol.HTTPS]
    other = [li for li in spec.listeners if li.protocol not in (Protocol.HTTP, Protocol.HTTPS)]
    if other or len(http) > 1 or len(https) > 1:
        raise InvalidSpecError(
            "an Ingress ALB has one HTTP and at most one HTTPS listener", field="spec.listeners"
        )
    http_port = http[0].port if http else None
    https_port = https[0].port if https else None
    if opts.certificate_arns and https_port is None:
        if http_port == 443:
            raise InvalidSpecError(
                f"{ann.CERTIFICATE_ARN}: port 443 is the HTTP listener's", field=ann.CERTIFICATE_ARN
            )
        https_port = 443  # the annotation alone asks for HTTPS, as in the ALB controller
    if https_port is not None and not spec.tls and not opts.certificate_arns:
        raise InvalidSpecError("an HTTPS listener needs a certificate", field="spec.tls")
    redirect = spec.https_redirect or opts.ssl_redirect_port is not None
    if redirect and https_port is None:
        raise InvalidSpecError(
            f"{ann.SSL_REDIRECT}: redirecting to HTTPS needs a certificate (spec.tls or "
            f"{ann.CERTIFICATE_ARN})",
            field=ann.SSL_REDIRECT,
        )
    if opts.ssl_redirect_port is not None and opts.ssl_redirect_port != https_port:
        raise InvalidSpecError(
            f"{ann.SSL_REDIRECT}: the HTTPS listener is on port {https_port}, "
            f"not {opts.ssl_redirect_port}",
            field=ann.SSL_REDIRECT,
        )
    for i, rule in enumerate(spec.rules):
        _check_rule(rule, i)
    listeners_with_rules = (https_port is not None) + (http_port is not None and not redirect)
    if len(spec.rules) * listeners_with_rules > limits.rule_limit:
        raise InvalidSpecError(
            f"{len(spec.rules)} paths need {len(spec.rules) * listeners_with_rules} ALB "
            f"listener rules (one per path and listener); the ALB quota is "
            f"{limits.rule_limit}: split the Ingress",
            field="spec.rules",
        )
    n_certs = len(opts.certificate_arns) if opts.certificate_arns else len(spec.tls)
    if https_port is not None and n_certs - 1 > limits.certificate_limit:
        raise InvalidSpecError(
            f"{n_certs} certificates; an ALB listener takes 1 default and "
            f"{limits.certificate_limit} more",
            field="spec.tls",
        )
    groups: dict[int, tuple[str, L7Backend]] = {}
    backends = [r.backend for r in spec.rules]
    if spec.default_backend is not None:
        backends.append(spec.default_backend)
    for backend in backends:
        if backend.node_port == 0:
            raise InvalidSpecError(
                f"backend {backend.service} port {backend.port} has no node port; the AWS "
                "provider targets node ports",
                field="spec.rules",
            )
        name = target_group_name(spec.ref, protocol="HTTP", node_port=backend.node_port)
        groups.setdefault(backend.node_port, (name, backend))
    return ALBPlan(http_port, https_port, redirect, tuple(groups.values()))


def _check_rule(rule: L7Rule, index: int) -> None:
    where = f"rule {index + 1} (host {rule.host or '*'!r}, path {rule.path!r})"
    if rule.host and (len(rule.host) > MAX_VALUE_LENGTH or not _HOST.match(rule.host)):
        raise InvalidSpecError(
            f"{where}: the host is not one an ALB host-header condition can hold",
            field="spec.rules.host",
        )
    longest = max(path_values(rule), key=len)
    if not _PATH.match(rule.path) or len(longest) > MAX_VALUE_LENGTH:
        raise InvalidSpecError(
            f"{where}: an ALB path pattern holds at most {MAX_VALUE_LENGTH} characters of "
            "A-Z a-z 0-9 _ - . $ / ~ \" ' @ : + (and `*`, `?` would be wildcards)",
            field="spec.rules.http.paths.path",
        )


def path_values(rule: L7Rule) -> tuple[str, ...]:
    """The path-pattern values of one rule, sorted."""
    if rule.path_type is PathType.EXACT:
        return (rule.path,)
    if rule.path == "/":
        return ("/*",)
    return (rule.path, rule.path + "/*")


def scheme_conflict(spec: LoadBalancerSpec, opts: ALBOptions) -> None:
    """An Ingress annotated both internal (cloud-lb.io/internal, ...) and internet-facing."""
    if opts.scheme == "internet-facing" and spec.internal:
        raise InvalidSpecError(
            f"{ann.SCHEME}: internet-facing contradicts the Ingress's internal annotation; "
            "remove one of them",
            field=ann.SCHEME,
        )
