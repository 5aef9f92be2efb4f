"""Ingress spec -> desired ALB: listeners, rules, target groups, certificates, groups. Pure.

As the aws-load-balancer-controller builds it, one ALB per Ingress:
- a target group per backend Service port (`instance` targets on its node port, HTTP),
  health-checked as the spec says (`HTTP` on the node port or the healthCheckNodePort);
- an HTTP listener and, with certificates, an HTTPS listener. Both carry the same
  rules; with `https_redirect` the HTTP listener only redirects (301) to HTTPS;
- one listener rule per `L7Rule`, priority = its place in the spec's order (Exact before
  Prefix, longest first: the translation's order). Conditions: `host-header` (unless any
  host) and `path-pattern`; Exact `/p` -> `/p`; Prefix `/p` -> `/p` and `/p/*`
  (element-wise, as Kubernetes defines Prefix), Prefix `/` -> `/*`;
- the default action forwards to the default backend, else a fixed 404;
- certificates: those named by the `certificate-arn` annotation, else one ACM import
  per TLS Secret (default certificate: the Secret listed without hosts, else the first;
  ALB picks the others by SNI from their own names);
- security groups as for NLBs in `loadBalancer` mode: the ALB's own group admits the
  source ranges on the listener ports, the cluster's shared backend group is admitted on
  the nodes' node-port range (ALBs always carry groups, whatever `securityGroupMode`).

`check_alb_spec` rejects, before any AWS call, what an ALB cannot serve (ALB path
patterns treat `*` and `?` as wildcards and allow few characters; quotas).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from cloud_lb.model import (
    HealthCheckProtocol,
    IPFamily,
    L7Backend,
    L7Rule,
    LoadBalancerSpec,
    PathType,
    Protocol,
)
from cloud_lb.provider import CloudError, InvalidSpecError
from providers.aws import alb_annotations as ann
from providers.aws.alb_annotations import ALBOptions
from providers.aws.alb_state import (
    FIXED_RESPONSE,
    FORWARD,
    REDIRECT,
    Action,
    ALBListener,
    Condition,
    DesiredALB,
    DesiredCertificate,
    ListenerRule,
    cert_placeholder,
)
from providers.aws.naming import (
    CERT_FINGERPRINT_TAG,
    CERT_SECRET_TAG,
    backend_security_group_name,
    backend_tags,
    load_balancer_name,
    ownership_tags,
    rule_description,
    security_group_name,
    shared_rule_description,
    target_group_name,
)
from providers.aws.render import Placement, Settings, instance_id
from providers.aws.security_groups import (
    BACKEND,
    FRONTEND,
    PortNeed,
    frontend_rules,
    node_rules_from_backend,
)
from providers.aws.state import (
    Desired,
    DesiredLoadBalancer,
    DesiredSecurityGroup,
    DesiredTargetGroup,
    HealthCheckSpec,
    SubnetMapping,
)

NOT_FOUND = Action(
    FIXED_RESPONSE, status_code="404", content_type="text/plain", message="Not Found"
)
MAX_VALUE_LENGTH = 128  # of one host-header or path-pattern value
# what an ALB path pattern may hold besides its wildcards (AWS documents `&` only as
# `&amp;`: left out rather than guessed); `*` and `?` would be wildcards, never literal
_PATH = re.compile(r"^/[A-Za-z0-9_\-.$/~\"'@:+]*$")
_HOST = re.compile(r"^(\*\.)?[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$")
_CERT_BLOCK = re.compile(r"-----BEGIN CERTIFICATE-----.+?-----END CERTIFICATE-----", re.DOTALL)


@dataclass(frozen=True)
class ALBSettings:
    """The provider config's ALB quotas and TLS policy."""

    rule_limit: int = 100
    certificate_limit: int = 25
    ssl_policy: str = "ELBSecurityPolicy-TLS13-1-2-2021-06"


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
    spec: LoadBalancerSpec, opts: ALBOptions, limits: ALBSettings = ALBSettings()
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


def conditions(rule: L7Rule) -> tuple[Condition, ...]:
    out = [Condition("path-pattern", path_values(rule))]
    if rule.host:
        out.append(Condition("host-header", (rule.host,)))
    return tuple(sorted(out))


def alb_health(backend: L7Backend, opts: ALBOptions) -> HealthCheckSpec:
    """An ALB target group checks over HTTP only: a TCP check becomes GET / on its port."""
    hc = backend.health_check
    http = hc.protocol is HealthCheckProtocol.HTTP
    interval = _clamp(hc.interval_seconds, 5, 300)
    timeout = min(_clamp(hc.timeout_seconds, 2, 120), interval - 1)
    return HealthCheckSpec(
        protocol="HTTP",
        port="traffic-port" if hc.port == backend.node_port else str(hc.port),
        path=hc.path if http else "/",
        interval=interval,
        timeout=timeout,
        healthy=_clamp(hc.healthy_threshold, 2, 10),
        unhealthy=_clamp(hc.unhealthy_threshold, 2, 10),
        matcher=opts.success_codes or "200-399",
    )


def render_alb(
    spec: LoadBalancerSpec,
    opts: ALBOptions,
    *,
    placement: Placement,
    settings: Settings,
    limits: ALBSettings = ALBSettings(),
) -> DesiredALB:
    ref = spec.ref
    plan = check_alb_spec(spec, opts, limits)
    if len({s.zone for s in placement.subnets}) < 2:
        message = "an ALB needs subnets in at least two availability zones"
        if opts.subnets:
            raise InvalidSpecError(f"{ann.SUBNETS}: {message}", field=ann.SUBNETS)
        raise CloudError(f"{message}; tag subnets in more zones or set aws.subnets")
    tags = {**ownership_tags(ref), **dict(settings.extra_tags), **dict(opts.additional_tags)}
    tags.update(ownership_tags(ref))  # ownership tags always win
    dualstack = opts.dualstack if opts.dualstack is not None else IPFamily.IPV6 in spec.ip_families
    cidrs = (
        opts.inbound_cidrs
        or spec.source_ranges
        or (("0.0.0.0/0", "::/0") if dualstack else ("0.0.0.0/0",))
    )

    target_groups = tuple(
        DesiredTargetGroup(
            name=name,
            protocol="HTTP",
            port=backend.node_port,
            health=alb_health(backend, opts),
            attributes=(),
            tags=tuple(sorted(tags.items())),
        )
        for name, backend in plan.target_groups
    )
    rules = tuple(
        ListenerRule(
            i + 1,
            conditions(rule),
            Action(FORWARD, target_group=plan.target_group_of(rule.backend)),
        )
        for i, rule in enumerate(spec.rules)
    )
    default = (
        Action(FORWARD, target_group=plan.target_group_of(spec.default_backend))
        if spec.default_backend is not None
        else NOT_FOUND
    )
    certificates, refs = _certificates(spec, opts, tags) if plan.https_port else ((), ())
    listeners: list[ALBListener] = []
    if plan.http_port is not None:
        if plan.redirect:
            listeners.append(ALBListener(plan.http_port, "HTTP", _redirect(plan.https_port)))
        else:
            listeners.append(ALBListener(plan.http_port, "HTTP", default, rules))
    if plan.https_port is not None:
        listeners.append(
            ALBListener(
                plan.https_port,
                "HTTPS",
                default,
                rules,
                certificates=refs,
                ssl_policy=opts.ssl_policy or limits.ssl_policy,
            )
        )

    own_frontend = not placement.user_security_groups
    frontend = placement.frontend_sg_id or FRONTEND
    backend_sg = placement.backend_sg_id or BACKEND
    lb_groups = (
        (*placement.user_security_groups, backend_sg)
        if not own_frontend
        else (frontend, backend_sg)
    )
    sg_rules = []
    managed: list[str] = []
    if own_frontend:
        needs = [PortNeed(("tcp",), li.port, 0, None) for li in listeners]
        sg_rules += frontend_rules(needs, cidrs, description=rule_description(ref))
        managed.append(frontend)
    if settings.manage_node_rules and placement.node_security_groups:
        managed += placement.node_security_groups
        needs = [
            PortNeed(
                ("tcp",),
                0,
                tg.port,
                None if tg.health.port == "traffic-port" else int(tg.health.port),
            )
            for tg in target_groups
        ]
        sg_rules += [
            r.resolve({BACKEND: backend_sg})
            for r in node_rules_from_backend(
                needs,
                placement.node_security_groups,
                node_port_range=settings.node_port_range,
                description=shared_rule_description(ref.cluster),
            )
        ]

    targets: set[str] = set()
    skipped: list[str] = []
    for node in spec.backends:
        iid = instance_id(node.provider_id)
        if iid is None:
            skipped.append(node.node_name)
        else:
            targets.add(iid)

    base = Desired(
        lb=DesiredLoadBalancer(
            name=load_balancer_name(ref),
            scheme=opts.scheme or ("internal" if spec.internal else "internet-facing"),
            ip_address_type="dualstack" if dualstack else "ipv4",
            subnets=tuple(SubnetMapping(s.id) for s in placement.subnets),
            security_groups=lb_groups,
            attributes=(),
            tags=tuple(sorted(tags.items())),
            type="application",
        ),
        target_groups=target_groups,
        listeners=(),
        targets=frozenset(targets),
        frontend_sg=DesiredSecurityGroup(
            name=security_group_name(ref),
            description=f"cloud-lb ALB {ref.key} (cluster {ref.cluster})",
            tags=tuple(sorted(tags.items())),
        )
        if own_frontend
        else None,
        backend_sg=DesiredSecurityGroup(
            name=backend_security_group_name(ref.cluster),
            description=f"cloud-lb load balancers of cluster {ref.cluster}: admitted on the nodes",
            tags=tuple(sorted(backend_tags(ref.cluster).items())),
        ),
        rules=tuple(sorted(sg_rules)),
        managed_groups=tuple(managed),
        skipped_backends=tuple(skipped),
    )
    return DesiredALB(base=base, listeners=tuple(listeners), certificates=certificates)


def scheme_conflict(spec: LoadBalancerSpec, opts: ALBOptions) -> None:
    """An Ingress annotated both internal (cloud-lb.io/internal, ...) and internet-facing."""
    if opts.scheme == "internet-facing" and spec.internal:
        raise InvalidSpecError(
            f"{ann.SCHEME}: internet-facing contradicts the Ingress's internal annotation; "
            "remove one of them",
            field=ann.SCHEME,
        )


def _redirect(https_port: int | None) -> Action:
    return Action(
        REDIRECT,
        status_code="HTTP_301",
        protocol="HTTPS",
        port=str(https_port),
        host="#{host}",
        path="/#{path}",
        query="#{query}",
    )


def _certificates(
    spec: LoadBalancerSpec, opts: ALBOptions, tags: dict[str, str]
) -> tuple[tuple[DesiredCertificate, ...], tuple[str, ...]]:
    """(certificates to import, the listener's references with the default first)."""
    if opts.certificate_arns:
        return (), opts.certificate_arns  # the user's: never imported, never deleted
    wanted: dict[str, DesiredCertificate] = {}
    for cert in spec.tls:
        blocks = _CERT_BLOCK.findall(cert.cert_pem)
        if not blocks:
            raise InvalidSpecError(
                f"TLS Secret {cert.name}: no PEM certificate", field="spec.tls.secretName"
            )
        desired = DesiredCertificate(
            secret=cert.name,
            fingerprint=cert.fingerprint,
            tags=tuple(
                sorted(
                    {
                        **tags,
                        CERT_SECRET_TAG: cert.name,
                        CERT_FINGERPRINT_TAG: cert.fingerprint,
                    }.items()
                )
            ),
            certificate=blocks[0] + "\n",
            chain="\n".join(blocks[1:]) + "\n" if len(blocks) > 1 else "",
            private_key=cert.key_pem,
        )
        wanted.setdefault(desired.placeholder, desired)
    # the certificate for clients without SNI (or with unknown names): the first
    # Secret listed without hosts, else the first
    default = next((c for c in spec.tls if not c.hosts), spec.tls[0]).fingerprint
    order = sorted(wanted, key=lambda placeholder: placeholder != cert_placeholder(default))
    return tuple(wanted.values()), tuple(order)


def _clamp(value: int, low: int, high: int) -> int:
    return max(low, min(high, value))
