"""Carry out an `ALBDiff`: the only module that changes an Ingress's ALB for `ensure`.

The NLB `Applier` runs the shared phases; the ALB's own steps sit between them, in an
order that never sends traffic nowhere and never deletes what is still in use:
1. security groups and new rules, the ALB (`Applier.front`);
2. target groups (`Applier.target_groups`);
3. certificates: import what ACM lacks (new Secrets, rotated ones);
4. listeners: delete those no longer wanted; create new ones (default action, default
   certificate, TLS policy; then the SNI certificates and the rules in priority order);
   converge the others: rules are created (new slots), modified from the last slot to
   the first (so every rule exists somewhere at every step), then deleted; the listener's
   default action goes first when it becomes a redirect, last otherwise; a new default
   certificate replaces the old before SNI certificates are added or removed;
5. targets, unused target groups, stale rules and groups (`Applier.finish`);
6. certificates no longer wanted (deletion waits for the next reconcile if ACM still
   sees them in use).
"""

from __future__ import annotations

import logging
from typing import Any

from cloud_lb.model import LBRef
from cloud_lb.provider import InvalidSpecError
from providers.aws import alb_annotations, certificates
from providers.aws.alb_diff import ALBDiff, ListenerChange
from providers.aws.alb_observe import ALBObserver
from providers.aws.alb_state import REDIRECT, DesiredALB, ListenerRule, ObservedALB
from providers.aws.apply import Applier
from providers.aws.clients import AWSCallError, AWSClients
from providers.aws.naming import ownership_tags, tags_list
from providers.aws.observe import Observer

log = logging.getLogger(__name__)


class ALBApplier:
    def __init__(
        self,
        clients: AWSClients,
        observer: Observer,
        alb_observer: ALBObserver,
        *,
        vpc_id: str,
        ref: LBRef,
    ) -> None:
        self._aws = clients
        self._alb_observer = alb_observer
        self._ref = ref
        self._base = Applier(clients, observer, vpc_id=vpc_id, ref=ref)

    def apply(self, desired: DesiredALB, observed: ObservedALB, diff: ALBDiff) -> tuple[str, str]:
        """Returns the ALB's (ARN, DNS name)."""
        arn, dns = self._base.front(desired.base, observed.base, diff.base)
        tg_arns = self._base.target_groups(observed.base, diff.base)
        cert_arns = dict(diff.certificate_arns)
        for cert in diff.import_certificates:
            cert_arns[cert.placeholder] = certificates.import_certificate(
                self._aws, cert, ingress=self._ref.key
            )
        for old in diff.delete_listeners:
            self._aws.call("elbv2", "delete_listener", ListenerArn=old.arn)
        for change in diff.listeners:
            if change.observed is None:
                self._create_listener(arn, change, tg_arns, cert_arns)
            else:
                self._converge_listener(change, tg_arns, cert_arns)
        self._base.finish(diff.base, tg_arns)
        for gone in diff.delete_certificates:
            certificates.delete_certificate(self._aws, gone.arn, ingress=self._ref.key, wait=False)
        return arn, dns

    def _create_listener(
        self,
        lb_arn: str,
        change: ListenerChange,
        tg_arns: dict[str, str],
        cert_arns: dict[str, str],
    ) -> None:
        li = change.listener
        params: dict[str, object] = {
            "LoadBalancerArn": lb_arn,
            "Protocol": li.protocol,
            "Port": li.port,
            "DefaultActions": [li.default_action.to_params(tg_arns)],
            "Tags": tags_list(ownership_tags(self._ref)),
        }
        if li.protocol == "HTTPS":
            params["Certificates"] = [
                {"CertificateArn": cert_arns.get(li.certificates[0], li.certificates[0])}
            ]
            params["SslPolicy"] = li.ssl_policy
        created = self._call("create_listener", **params)["Listeners"][0]
        listener_arn = created["ListenerArn"]
        log.info("event=alb_listener_created ingress=%s listener=%s", self._ref.key, li.key)
        self._certificates(
            listener_arn, add=change.add_certificates, remove=(), cert_arns=cert_arns
        )
        for rule in li.rules:
            self._create_rule(listener_arn, rule, tg_arns)

    def _converge_listener(
        self, change: ListenerChange, tg_arns: dict[str, str], cert_arns: dict[str, str]
    ) -> None:
        old = change.observed
        assert old is not None
        li = change.listener
        redirect_first = li.default_action.type == REDIRECT
        if change.modifies_listener and redirect_first:
            self._modify_listener(change, tg_arns, cert_arns)
        rules = change.rules
        for rule in rules.create:
            self._create_rule(old.arn, rule, tg_arns)
        for slot, rule in sorted(rules.modify, key=lambda pair: -pair[1].priority):
            self._aws.call(
                "elbv2",
                "modify_rule",
                RuleArn=slot.arn,
                Conditions=[c.to_params() for c in rule.conditions],
                Actions=[rule.action.to_params(tg_arns)],
            )
        for slot in rules.delete:
            self._aws.call("elbv2", "delete_rule", RuleArn=slot.arn)
        if change.modifies_listener and not redirect_first:
            self._modify_listener(change, tg_arns, cert_arns)
        add, remove = change.add_certificates, change.remove_certificates
        if change.default_certificate:
            # AWS keeps the SNI list when the default changes (moto drops it): read it again
            have_extras = self._alb_observer.extra_certificates(old.arn)
            default = cert_arns.get(change.default_certificate, change.default_certificate)
            want = [cert_arns.get(r, r) for r in li.certificates[1:]]
            want = [r for r in dict.fromkeys(want) if r != default]
            add = tuple(r for r in want if r not in have_extras)
            remove = tuple(sorted(have_extras - set(want)))
        self._certificates(old.arn, add=add, remove=remove, cert_arns=cert_arns)

    def _modify_listener(
        self, change: ListenerChange, tg_arns: dict[str, str], cert_arns: dict[str, str]
    ) -> None:
        assert change.observed is not None
        params: dict[str, object] = {"ListenerArn": change.observed.arn}
        if change.default_action:
            params["DefaultActions"] = [change.listener.default_action.to_params(tg_arns)]
        if change.default_certificate:
            arn = cert_arns.get(change.default_certificate, change.default_certificate)
            params["Certificates"] = [{"CertificateArn": arn}]
        if change.ssl_policy:
            params["SslPolicy"] = change.ssl_policy
        self._call("modify_listener", **params)

    def _certificates(
        self,
        listener_arn: str,
        *,
        add: tuple[str, ...],
        remove: tuple[str, ...],
        cert_arns: dict[str, str],
    ) -> None:
        if add:
            self._call(
                "add_listener_certificates",
                ListenerArn=listener_arn,
                Certificates=[{"CertificateArn": cert_arns.get(r, r)} for r in add],
            )
        if remove:
            self._aws.call(
                "elbv2",
                "remove_listener_certificates",
                ListenerArn=listener_arn,
                Certificates=[{"CertificateArn": arn} for arn in remove],
            )

    def _create_rule(self, listener_arn: str, rule: ListenerRule, tg_arns: dict[str, str]) -> None:
        self._aws.call(
            "elbv2",
            "create_rule",
            ListenerArn=listener_arn,
            Priority=rule.priority,
            Conditions=[c.to_params() for c in rule.conditions],
            Actions=[rule.action.to_params(tg_arns)],
            Tags=tags_list(ownership_tags(self._ref)),
        )

    def _call(self, method: str, **params: Any) -> dict[str, Any]:
        """A listener call naming certificates: one that does not exist can only come
        from the annotation (we just imported ours), so it is the user's to fix."""
        try:
            return self._aws.call("elbv2", method, **params)
        except AWSCallError as exc:
            if exc.code != "CertificateNotFound":
                raise
            raise InvalidSpecError(
                f"{alb_annotations.CERTIFICATE_ARN}: a certificate does not exist in this "
                f"account and region ({exc})",
                field=alb_annotations.CERTIFICATE_ARN,
            ) from exc
