"""The Ingress half of the AWS provider: one Application Load Balancer per Ingress.

`AWSProvider` hands every spec of an Ingress (`ref.kind` INGRESS) here. Each verb is
read -> render -> diff -> apply, like the NLB's, on the same shared pieces
(`surroundings`, `placement`, `diff`, `Applier`) plus the ALB's own (`alb_render`,
`alb_observe`, `alb_diff`, `alb_apply`, `certificates`). The annotations are parsed and
the spec checked before any AWS call; ownership is checked on reading, before any change.
"""

from __future__ import annotations

import dataclasses
import logging

from cloud_lb.model import IngressPoint, LBRef, LoadBalancerSpec, LoadBalancerStatus
from cloud_lb.provider import Change
from providers.aws import alb_annotations, certificates
from providers.aws.alb_apply import ALBApplier
from providers.aws.alb_checks import ALBSettings, check_alb_spec, scheme_conflict
from providers.aws.alb_diff import diff_alb
from providers.aws.alb_observe import ALBObserver
from providers.aws.alb_render import render_alb
from providers.aws.alb_state import DesiredALB, ObservedALB
from providers.aws.clients import AWSCallError, AWSClients
from providers.aws.config import AWSConfig
from providers.aws.naming import ref_from_tags, rule_description
from providers.aws.observe import Observer
from providers.aws.placement import PlacementResolver
from providers.aws.render import Settings
from providers.aws.surroundings import observed_base, read_surroundings

log = logging.getLogger(__name__)

ACCESS_DENIED = frozenset({"AccessDenied", "AccessDeniedException"})


class ALBs:
    def __init__(
        self,
        clients: AWSClients,
        observer: Observer,
        placement: PlacementResolver,
        config: AWSConfig,
        settings: Settings,
    ) -> None:
        self._aws = clients
        self._observer = observer
        self._alb_observer = ALBObserver(clients)
        self._placement = placement
        self._vpc_id = config.vpc_id
        self._settings = settings
        self._limits = ALBSettings(
            rule_limit=config.alb_rule_limit,
            certificate_limit=config.alb_certificate_limit,
            ssl_policy=config.alb_ssl_policy,
        )

    def target_group_names(self, spec: LoadBalancerSpec) -> set[str]:
        """The target groups the spec's backends need (no I/O)."""
        opts = self._options(spec)
        return {name for name, _ in check_alb_spec(spec, opts, self._limits).target_groups}

    def plan(self, spec: LoadBalancerSpec) -> list[Change]:
        desired, observed = self._read(spec)
        return diff_alb(desired, observed, our_description=rule_description(spec.ref)).changes()

    def ensure(self, spec: LoadBalancerSpec) -> LoadBalancerStatus:
        ref = spec.ref
        desired, observed = self._read(spec)
        changes = diff_alb(desired, observed, our_description=rule_description(ref))
        if changes.empty:
            assert observed.base.lb is not None
            arn, dns = observed.base.lb.arn, observed.base.lb.dns_name
            log.info("event=alb_in_sync ingress=%s name=%s", ref.key, desired.base.lb.name)
        else:
            for change in changes.changes():
                log.info("event=alb_change ingress=%s change=%r", ref.key, str(change))
            arn, dns = ALBApplier(
                self._aws, self._observer, self._alb_observer, vpc_id=self._vpc_id, ref=ref
            ).apply(desired, observed, changes)
        groups = observed.base.target_groups
        healthy = None
        if not changes.base.targets and groups:
            healthy = min(tg.healthy for tg in groups)
        return LoadBalancerStatus(
            ref=ref,
            provider_id=arn,
            ingress=(IngressPoint(hostname=dns),) if dns else (),
            backends_total=len(desired.base.targets),
            backends_healthy=healthy,
            listeners=tuple(li.key for li in desired.listeners),
        )

    def delete_certificates(self, ref: LBRef) -> None:
        """Our imported certificates, once the ALB is gone (PendingError while ACM
        still counts them in use)."""
        for cert in self._alb_observer.certificates(ref):
            certificates.delete_certificate(self._aws, cert.arn, ingress=ref.key, wait=True)

    def certificate_refs(self, cluster: str) -> set[LBRef]:
        """Ingresses of this cluster that still have certificates (e.g. an ALB deleted
        by hand): `list_owned` reports them so that garbage collection finds them."""
        try:
            found = self._alb_observer.cluster_certificates(cluster)
        except AWSCallError as exc:
            if exc.code not in ACCESS_DENIED:
                raise
            # an NLB-only deployment may not grant tag:GetResources
            log.warning("event=certificates_not_listed cluster=%s code=%s", cluster, exc.code)
            return set()
        return {ref for tags in found if (ref := ref_from_tags(tags, cluster)) is not None}

    def _options(self, spec: LoadBalancerSpec) -> alb_annotations.ALBOptions:
        opts = alb_annotations.parse(spec.options)
        scheme_conflict(spec, opts)
        return opts

    def _read(self, spec: LoadBalancerSpec) -> tuple[DesiredALB, ObservedALB]:
        ref = spec.ref
        opts = self._options(spec)
        check_alb_spec(spec, opts, self._limits)  # everything the user can get wrong, first
        around = read_surroundings(
            self._observer,
            self._placement,
            spec,
            vpc_id=self._vpc_id,
            manage_node_rules=self._settings.manage_node_rules,
            wants_frontend=not opts.security_groups,
            wants_backend=True,
            wants_vpc_cidrs=False,
        )
        placement = self._placement.resolve(
            spec,
            opts.placement_options(),
            frontend_sg_id=around.frontend_id,
            node_security_groups=around.node_groups,
            vpc_cidrs=(),
        )
        placement = dataclasses.replace(placement, backend_sg_id=around.backend_id)
        desired = render_alb(
            spec, opts, placement=placement, settings=self._settings, limits=self._limits
        )
        base = dataclasses.replace(
            desired.base, targets=desired.base.targets & frozenset(around.instances)
        )
        desired = dataclasses.replace(desired, base=base)
        if base.skipped_backends:
            log.warning(
                "event=backend_without_instance ingress=%s nodes=%s",
                ref.key,
                ",".join(base.skipped_backends),
            )
        observed = observed_base(self._observer, ref, around, base, nlb=False)
        names = {tg.arn: tg.name for tg in observed.target_groups}
        lb = observed.lb
        return desired, ObservedALB(
            base=observed,
            listeners=self._alb_observer.listeners(lb.arn, names) if lb else (),
            certificates=self._alb_observer.certificates(ref),
        )
