"""Desired vs observed ALB -> the smallest set of changes. Pure.

The load balancer, target groups, targets and security group rules are diffed by
`diff.diff`, as for NLBs. This adds the ALB's own parts:

- certificates by fingerprint: one we want and ACM lacks is imported; one of ours no
  longer wanted (a rotated Secret, a removed TLS entry, a duplicate left by a crash) is
  deleted once no listener uses it;
- listeners by port (a protocol change deletes and creates), then in place: default
  action, default certificate, TLS policy (one ModifyListener), SNI certificates
  (Add/RemoveListenerCertificates);
- rules by priority slot: priority *n* holds the *n*-th rule of the spec's order; a slot
  whose conditions or action differ is modified in place, missing slots are created,
  slots past the end deleted. A changed path is one ModifyRule; a rule inserted in the
  middle shifts the slots after it (a ModifyRule each), which keeps every priority
  unique at every step (AWS rejects duplicates) without reprioritising.
"""

from __future__ import annotations

from dataclasses import dataclass

from cloud_lb.provider import Change
from providers.aws.alb_state import (
    ALBListener,
    DesiredALB,
    DesiredCertificate,
    ListenerRule,
    ObservedALB,
    ObservedALBListener,
    ObservedCertificate,
    ObservedRule,
    cert_placeholder,
)
from providers.aws.diff import Diff, diff


@dataclass(frozen=True)
class RuleChanges:
    create: tuple[ListenerRule, ...] = ()
    modify: tuple[tuple[ObservedRule, ListenerRule], ...] = ()
    delete: tuple[ObservedRule, ...] = ()

    @property
    def empty(self) -> bool:
        return not (self.create or self.modify or self.delete)


@dataclass(frozen=True)
class ListenerChange:
    """What to do to one desired listener; `observed` None means create it."""

    listener: ALBListener
    observed: ObservedALBListener | None = None
    default_action: bool = False  # set the desired default action
    default_certificate: str | None = None  # a reference (ARN or cert: placeholder)
    ssl_policy: str | None = None
    add_certificates: tuple[str, ...] = ()  # references
    remove_certificates: tuple[str, ...] = ()  # ARNs
    rules: RuleChanges = RuleChanges()

    @property
    def modifies_listener(self) -> bool:
        return self.default_action or bool(self.default_certificate) or bool(self.ssl_policy)

    @property
    def empty(self) -> bool:
        return (
            self.observed is not None
            and not self.modifies_listener
            and not self.add_certificates
            and not self.remove_certificates
            and self.rules.empty
        )


@dataclass(frozen=True)
class ALBDiff:
    base: Diff
    import_certificates: tuple[DesiredCertificate, ...]
    listeners: tuple[ListenerChange, ...]  # non-empty ones only
    delete_listeners: tuple[ObservedALBListener, ...]
    delete_certificates: tuple[ObservedCertificate, ...]
    certificate_arns: tuple[tuple[str, str], ...]  # placeholder -> ARN of what ACM has

    @property
    def empty(self) -> bool:
        return not self.changes()

    def changes(self) -> list[Change]:
        out = self.base.changes()
        for cert in self.import_certificates:
            out.append(
                Change("create", "certificate", cert.secret, f"ACM import, {cert.fingerprint}")
            )
        for old in self.delete_listeners:
            out.append(Change("delete", "listener", old.key))
        for lc in self.listeners:
            li = lc.listener
            if lc.observed is None:
                out.append(Change("create", "listener", li.key, f"default {li.default_action}"))
                out += [Change("create", "listener-rule", f"{li.key}{r}") for r in li.rules]
                continue
            details = []
            if lc.default_action:
                details.append(f"default {lc.observed.default_action} -> {li.default_action}")
            if lc.default_certificate:
                details.append(f"default certificate {lc.default_certificate}")
            if lc.ssl_policy:
                details.append(f"ssl policy {lc.ssl_policy}")
            details += [f"+certificate {c}" for c in lc.add_certificates]
            details += [f"-certificate {c}" for c in lc.remove_certificates]
            if details:
                out.append(Change("update", "listener", li.key, "; ".join(details)))
            out += [Change("create", "listener-rule", f"{li.key}{r}") for r in lc.rules.create]
            out += [
                Change("update", "listener-rule", f"{li.key}{new}", f"was {old.rule}")
                for old, new in lc.rules.modify
            ]
            out += [
                Change("delete", "listener-rule", f"{li.key}{old.rule}") for old in lc.rules.delete
            ]
        for gone in self.delete_certificates:
            out.append(Change("delete", "certificate", gone.secret or gone.arn, gone.arn))
        return out


def diff_alb(desired: DesiredALB, observed: ObservedALB, *, our_description: str) -> ALBDiff:
    base = diff(desired.base, observed.base, our_description=our_description)
    have_listeners = () if base.lb.creates else observed.listeners
    in_use = {li.default_certificate for li in have_listeners} | {
        arn for li in have_listeners for arn in li.extra_certificates
    }
    # one certificate per fingerprint: the one a listener uses, else the oldest ARN
    keep: dict[str, ObservedCertificate] = {}
    for cert in sorted(observed.certificates, key=lambda c: (c.arn not in in_use, c.arn)):
        keep.setdefault(cert.fingerprint, cert)
    wanted = {c.fingerprint for c in desired.certificates}
    arns = {cert_placeholder(fp): c.arn for fp, c in keep.items() if fp in wanted}
    delete_certs = tuple(
        c
        for c in observed.certificates
        if c.fingerprint not in wanted or keep[c.fingerprint].arn != c.arn
    )
    imports = tuple(c for c in desired.certificates if c.placeholder not in arns)

    by_port = {li.port: li for li in have_listeners}
    desired_ports = {li.port: li for li in desired.listeners}
    delete_listeners = [li for li in have_listeners if li.port not in desired_ports]
    changes: list[ListenerChange] = []
    for li in desired.listeners:
        old = by_port.get(li.port)
        if old is not None and old.protocol != li.protocol:
            delete_listeners.append(old)
            old = None
        change = _listener(li, old, arns)
        if not change.empty:
            changes.append(change)
    return ALBDiff(
        base=base,
        import_certificates=imports,
        listeners=tuple(changes),
        delete_listeners=tuple(delete_listeners),
        delete_certificates=delete_certs,
        certificate_arns=tuple(sorted(arns.items())),
    )


def _listener(
    li: ALBListener, old: ObservedALBListener | None, arns: dict[str, str]
) -> ListenerChange:
    refs = [arns.get(ref, ref) for ref in li.certificates]
    default = refs[0] if refs else ""
    extras = tuple(dict.fromkeys(r for r in refs[1:] if r != default))
    if old is None:
        return ListenerChange(listener=li, add_certificates=extras)
    return ListenerChange(
        listener=li,
        observed=old,
        default_action=old.default_action != li.default_action,
        default_certificate=default if default and default != old.default_certificate else None,
        ssl_policy=li.ssl_policy if li.ssl_policy and li.ssl_policy != old.ssl_policy else None,
        add_certificates=tuple(r for r in extras if r not in old.extra_certificates),
        remove_certificates=tuple(sorted(old.extra_certificates - set(extras))),
        rules=diff_rules(li.rules, old.rules),
    )


def diff_rules(want: tuple[ListenerRule, ...], have: tuple[ObservedRule, ...]) -> RuleChanges:
    slots = {r.rule.priority: r for r in have}
    create: list[ListenerRule] = []
    modify: list[tuple[ObservedRule, ListenerRule]] = []
    for rule in want:
        old = slots.get(rule.priority)
        if old is None:
            create.append(rule)
        elif old.rule != rule:
            modify.append((old, rule))
    wanted = {r.priority for r in want}
    return RuleChanges(
        create=tuple(create),
        modify=tuple(modify),
        delete=tuple(r for r in have if r.rule.priority not in wanted),
    )
