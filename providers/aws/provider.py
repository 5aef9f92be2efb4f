"""`AWSProvider`: one Network Load Balancer per Service (and, through `alb.ALBs`, one
Application Load Balancer per Ingress), converged by diff.

Each verb is read -> render -> diff -> apply:
- annotations are parsed and the spec checked before any AWS call (`InvalidSpecError`);
- `observe` reads the NLB, its listeners, target groups, targets and the security
  groups involved, checking ownership tags first;
- `placement` resolves subnets, static addresses and security group names;
- `render` builds the desired objects, `diff` compares, `apply` changes only what
  differs, so an unchanged resync makes no mutating call;
- `update_backends` only registers/deregisters targets (one call each per group).
Specs of Ingresses (`ref.kind` INGRESS) go to `ALBs`, which works the same way; `get`,
`update_backends`, `delete` and `list_owned` serve both kinds.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Callable

from cloud_lb.model import IngressPoint, LBRef, LoadBalancerSpec, LoadBalancerStatus, ObjectKind
from cloud_lb.provider import Capabilities, Change, OwnershipError, ProviderContext
from providers.aws import annotations as nlb_annotations
from providers.aws import cleanup
from providers.aws.alb import ALBs
from providers.aws.apply import Applier
from providers.aws.clients import AWSCallError, AWSClients
from providers.aws.config import AWSConfig, SecurityGroupMode
from providers.aws.diff import diff
from providers.aws.naming import (
    is_owned,
    load_balancer_name,
    rule_description,
    target_group_name,
)
from providers.aws.observe import Observer
from providers.aws.placement import PlacementResolver
from providers.aws.render import Settings, check_spec, instance_id, render
from providers.aws.state import Desired, Observed
from providers.aws.surroundings import observed_base, read_surroundings

log = logging.getLogger(__name__)

CAPABILITIES = Capabilities(
    tcp=True,
    udp=True,
    sctp=False,
    mixed_protocols=True,
    l7=True,
    source_ranges=True,
    internal=True,
    static_ip=True,
    ipv6=True,
    dual_stack=True,
    proxy_protocol=True,
    pod_targets=False,
    hostname_status=True,
)


class AWSProvider:
    name = "aws"
    capabilities = CAPABILITIES

    def __init__(
        self,
        config: AWSConfig,
        context: ProviderContext,
        *,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.config = config
        self.cluster = context.cluster_name
        self.recorder = context.recorder
        self.clients = AWSClients(config, context.recorder, sleep=sleep)
        self._observer = Observer(self.clients, config.vpc_id)
        self._placement = PlacementResolver(self.clients, config, self.cluster)
        self._settings = Settings(
            mode=config.security_group_mode,
            manage_node_rules=config.manage_node_security_group_rules,
            extra_tags=tuple(sorted(config.extra_tags.items())),
            node_port_range=config.node_ports,
        )
        self._albs = ALBs(self.clients, self._observer, self._placement, config, self._settings)

    @classmethod
    def from_config(cls, config: AWSConfig, context: ProviderContext) -> AWSProvider:
        return cls(config, context)

    # -- the contract ------------------------------------------------------------------

    def get(self, ref: LBRef) -> LoadBalancerStatus | None:
        try:
            lb, groups, tags = self._observer.owned_load_balancer(ref, load_balancer_name(ref))
        except OwnershipError:
            return None
        if lb is None:
            return None
        ours = [g for g in groups if is_owned(tags.get(g["TargetGroupArn"], {}), ref)]
        observed = [
            self._observer.target_group(g, tags[g["TargetGroupArn"]], with_attributes=False)
            for g in ours
        ]
        targets = set().union(*(tg.targets for tg in observed)) if observed else set()
        listeners = self._observer.listeners(lb.arn)
        return LoadBalancerStatus(
            ref=ref,
            provider_id=lb.arn,
            ingress=(IngressPoint(hostname=lb.dns_name),) if lb.dns_name else (),
            backends_total=len(targets),
            backends_healthy=min((tg.healthy for tg in observed), default=0),
            listeners=tuple(f"{li.protocol}/{li.port}" for li in listeners),
        )

    def plan(self, spec: LoadBalancerSpec) -> list[Change]:
        if _is_ingress(spec):
            return self._albs.plan(spec)
        desired, observed = self._read(spec)
        return diff(desired, observed, our_description=rule_description(spec.ref)).changes()

    def ensure(self, spec: LoadBalancerSpec) -> LoadBalancerStatus:
        if _is_ingress(spec):
            return self._albs.ensure(spec)
        ref = spec.ref
        desired, observed = self._read(spec)
        changes = diff(desired, observed, our_description=rule_description(ref))
        if changes.empty:
            assert observed.lb is not None
            arn, dns = observed.lb.arn, observed.lb.dns_name
            log.info("event=nlb_in_sync service=%s name=%s", ref.key, desired.lb.name)
        else:
            for change in changes.changes():
                log.info("event=nlb_change service=%s change=%r", ref.key, str(change))
            arn, dns = Applier(
                self.clients, self._observer, vpc_id=self.config.vpc_id, ref=ref
            ).apply(desired, observed, changes)
        healthy = None
        if not changes.targets and observed.target_groups:
            healthy = min(tg.healthy for tg in observed.target_groups)
        return LoadBalancerStatus(
            ref=ref,
            provider_id=arn,
            ingress=(IngressPoint(hostname=dns),) if dns else (),
            backends_total=len(desired.targets),
            backends_healthy=healthy,
            listeners=tuple(f"{li.protocol}/{li.port}" for li in desired.listeners),
        )

    def update_backends(self, spec: LoadBalancerSpec) -> None:
        ref = spec.ref
        if _is_ingress(spec):
            names = self._albs.target_group_names(spec)
        else:
            groups = check_spec(spec, nlb_annotations.parse(spec.options))
            names = {
                target_group_name(ref, protocol=g.protocol, node_port=g.node_port) for g in groups
            }
        lb, raw_groups, tags = self._observer.owned_load_balancer(ref, load_balancer_name(ref))
        ours = {
            g["TargetGroupName"]: g
            for g in raw_groups
            if is_owned(tags.get(g["TargetGroupArn"], {}), ref)
        }
        if lb is None or not names <= set(ours):
            # more than the backends differ (the load balancer or a group missing)
            log.info("event=lb_backends_need_ensure object=%s", ref)
            self.ensure(spec)
            return
        wanted = frozenset(i for b in spec.backends if (i := instance_id(b.provider_id)))
        applier = Applier(self.clients, self._observer, vpc_id=self.config.vpc_id, ref=ref)
        for name in sorted(names):
            raw = ours[name]
            current = self._observer.target_group(
                raw, tags[raw["TargetGroupArn"]], with_attributes=False
            )
            register = sorted(wanted - current.targets)
            deregister = sorted(current.targets - wanted)
            if register or deregister:
                log.info(
                    "event=nlb_targets service=%s target_group=%s register=%s deregister=%s",
                    ref.key,
                    name,
                    ",".join(register),
                    ",".join(deregister),
                )
            try:
                applier.targets(current.arn, register=register, deregister=deregister)
            except AWSCallError as exc:
                if exc.code not in ("InvalidTarget", "TargetNotRunning"):  # AWS's, moto's
                    raise
                # a node whose instance is gone or stopped: ensure checks the instances
                # (one more read) and skips those
                log.warning("event=nlb_targets_invalid service=%s detail=%r", ref.key, str(exc))
                self.ensure(spec)
                return

    def delete(self, ref: LBRef) -> None:
        cleanup.delete(self.clients, self._observer, ref, vpc_id=self.config.vpc_id)
        if ref.kind is ObjectKind.INGRESS:
            self._albs.delete_certificates(ref)

    def list_owned(self) -> list[LBRef]:
        refs = set(
            cleanup.list_owned(
                self.clients, self._observer, self.cluster, vpc_id=self.config.vpc_id
            )
        )
        refs |= self._albs.certificate_refs(self.cluster)
        return sorted(refs, key=lambda r: (r.namespace, r.name, r.uid))

    def close(self) -> None:
        self.clients.close()

    # -- reading -------------------------------------------------------------------------

    def _read(self, spec: LoadBalancerSpec) -> tuple[Desired, Observed]:
        ref = spec.ref
        opts = nlb_annotations.parse(spec.options)
        check_spec(spec, opts)  # everything the user can get wrong, before any call
        wants_frontend = (
            self._settings.mode is SecurityGroupMode.LOAD_BALANCER and not opts.security_groups
        )
        around = read_surroundings(
            self._observer,
            self._placement,
            spec,
            vpc_id=self.config.vpc_id,
            manage_node_rules=self._settings.manage_node_rules,
            wants_frontend=wants_frontend,
            # the NLB will carry groups: the cluster's backend group is one of them
            wants_backend=wants_frontend or bool(opts.security_groups),
            wants_vpc_cidrs=self._settings.mode is SecurityGroupMode.NODES,
        )
        placement = self._placement.resolve(
            spec,
            opts,
            frontend_sg_id=around.frontend_id,
            node_security_groups=around.node_groups,
            vpc_cidrs=around.vpc_cidrs,
        )
        placement = dataclasses.replace(placement, backend_sg_id=around.backend_id)
        desired = render(spec, opts, placement=placement, settings=self._settings)
        desired = dataclasses.replace(
            desired, targets=desired.targets & frozenset(around.instances)
        )
        if desired.skipped_backends:
            log.warning(
                "event=backend_without_instance service=%s nodes=%s",
                ref.key,
                ",".join(desired.skipped_backends),
            )
        return desired, observed_base(self._observer, ref, around, desired, nlb=True)


def _is_ingress(spec: LoadBalancerSpec) -> bool:
    return spec.ref.kind is ObjectKind.INGRESS or spec.is_l7
