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

`alb_checks.check_alb_spec` has rejected, before any AWS call, what an ALB cannot serve.
"""

from __future__ import annotations

import re

from cloud_lb.model import (
    HealthCheckProtocol,
    IPFamily,
    L7Backend,
    L7Rule,
    LoadBalancerSpec,
)
from cloud_lb.provider import CloudError, InvalidSpecError
from providers.aws import alb_annotations as ann
from providers.aws.alb_annotations import ALBOptions
from providers.aws.alb_checks import DEFAULTS, ALBSettings, check_alb_spec, path_values
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
_CERT_BLOCK = re.compile(r"-----BEGIN CERTIFICATE-----.+?-----END CERTIFICATE-----", re.DOTALL)


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
    limits: ALBSettings = DEFAULTS,
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
