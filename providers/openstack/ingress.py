"""Ingress load balancers on Octavia: the L7 half of the OpenStack provider.

ensure(spec):
  1. parse the annotations and placement, render the wanted tree (`l7_render`);
  2. find our load balancer (as for Services: tags, then look-alikes refused);
  3. certificates first: the wanted ones are stored in Barbican if missing
     (`certificates.Certificates.ensure`), so listeners can refer to them;
  4. none: create the whole tree - pools, listeners, policies with their rules - in ONE
     fully-populated call; otherwise read the tree, diff (`l7_diff`) and write only the
     difference, waiting for ACTIVE between writes (PendingError past the inline wait:
     the next reconcile recomputes the rest);
  5. after a converge that wrote everything, certificates no listener uses any more are
     deleted (a rotation: new container in, listener updated, old container out);
  6. the floating IP, and the status.
update_backends(spec): the batch member update of each of our pools (found by name).
delete(ref): the provider deletes the load balancer; then our Barbican objects go.
"""

from __future__ import annotations

import dataclasses
import logging
from typing import TYPE_CHECKING, Any

from cloud_lb.model import LBRef, LoadBalancerSpec, LoadBalancerStatus
from cloud_lb.provider import Change, CloudError, InvalidSpecError, PendingError
from providers.openstack.annotations import ServiceOptions
from providers.openstack.annotations import parse as parse_options
from providers.openstack.calls_l7 import L7Calls
from providers.openstack.certificates import Certificates, StoredCert, no_key_manager
from providers.openstack.diff import Step, immutable_conflicts, pool_member_steps
from providers.openstack.l7_diff import ObservedIngressLB, Ref, diff_ingress
from providers.openstack.l7_observe import observe_ingress
from providers.openstack.l7_render import DesiredIngressLB, render_ingress
from providers.openstack.observe import healthy_nodes, lb_summary, observe

if TYPE_CHECKING:
    from providers.openstack.provider import OpenStackProvider

log = logging.getLogger(__name__)

GONE = ("DELETED", "PENDING_DELETE")


class IngressBalancers:
    """The provider's verbs for `ObjectKind.INGRESS` specs (shares its cloud, floating
    IPs, lookup, waiting and status with the Service path)."""

    def __init__(self, provider: OpenStackProvider) -> None:
        self.p = provider
        self.l7 = L7Calls(provider.cloud)
        self.certs = Certificates(self.l7)

    def _prepare(self, spec: LoadBalancerSpec) -> tuple[ServiceOptions, DesiredIngressLB]:
        options = parse_options(spec)
        return options, render_ingress(spec, options, self.p.config,
                                       self.p._placement(options))

    def _observe(self, lb: Any, ref: LBRef, desired: DesiredIngressLB
                 ) -> tuple[ObservedIngressLB, list[StoredCert]]:
        """The tree, and our stored certificates when TLS is wanted or still in use."""
        observed = observe_ingress(self.p.cloud, self.l7, lb, ref.uid, container_names={})
        stored = self._stored(ref, desired, observed)
        return dataclasses.replace(observed, container_names={
            s.ref: s.name for s in stored}), stored

    def _stored(self, ref: LBRef, desired: DesiredIngressLB,
                observed: ObservedIngressLB | None) -> list[StoredCert]:
        uses_tls = bool(desired.certs) or (observed is not None and any(
            li.default_tls_ref or li.sni_refs for li in observed.lb.listeners))
        if not uses_tls:
            return []
        try:
            return self.certs.stored(ref)
        except CloudError as exc:
            if no_key_manager(exc):
                raise CloudError("TLS on OpenStack needs the key manager (Barbican), and "
                                 "this cloud's catalog has none", operation=exc.operation,
                                 retryable=False) from exc
            raise

    @staticmethod
    def _in_use(observed: ObservedIngressLB | None) -> set[str]:
        if observed is None:
            return set()
        return {r for li in observed.lb.listeners for r in (li.default_tls_ref, *li.sni_refs)
                if r}

    # -- the verbs -------------------------------------------------------------------
    def plan(self, spec: LoadBalancerSpec) -> list[Change]:
        options, desired = self._prepare(spec)
        wanted = self.p._wanted_fip(spec, options)
        lb = self.p._find_for_ensure(spec.ref, options)
        if lb is None:
            stored = self._stored(spec.ref, desired, None)
            return (self.certs.plan(desired.certs, stored, set())
                    + _creation_plan(desired)
                    + self.p.fips.plan(spec.ref, "", wanted))
        if lb.provisioning_status == "ERROR" and self.p.config.on_error == "recreate":
            return [Change("delete", "loadbalancer", lb.name, "ERROR: recreate")] \
                + _creation_plan(desired)
        observed, stored = self._observe(lb, spec.ref, desired)
        self._check_immutable(observed, desired)
        in_use = self._in_use(observed)
        refs = {**{c.container: c.container for c in desired.certs},
                **self.certs.pick(desired.certs, stored, in_use)}
        return (self.certs.plan(desired.certs, stored, in_use)
                + [s.change for s in diff_ingress(observed, desired, refs)]
                + self.p.fips.plan(spec.ref, observed.lb.vip_port_id, wanted))

    def ensure(self, spec: LoadBalancerSpec) -> LoadBalancerStatus:
        ref = spec.ref
        options, desired = self._prepare(spec)
        wanted = self.p._wanted_fip(spec, options)
        lb = self.p._find_for_ensure(ref, options)
        fresh = lb is None
        if lb is not None and lb.provisioning_status in GONE:
            raise PendingError(f"load balancer {lb.id} of {ref.key} is being deleted",
                               retry_after=self.p.config.pending_retry_seconds)
        if lb is None:
            stored = self._stored(ref, desired, None)
            refs = self.certs.ensure(ref, desired.certs, stored, set())
            lb = self.p.cloud.create_load_balancer(desired.create_body(refs))
            log.info("load balancer created key=%s id=%s kind=Ingress listeners=%d pools=%d "
                     "policies=%d", ref.key, lb.id, len(desired.listeners),
                     len(desired.pools), sum(len(li.policies) for li in desired.listeners))
            lb = self.p._settled(ref, lb)
            summary = lb_summary(lb)
            self.certs.prune(ref, stored, set(refs.values()))  # crash leftovers only
            healthy = None
        else:
            lb = self.p._settled(ref, lb)
            observed, stored = self._observe(lb, ref, desired)
            self._check_immutable(observed, desired)
            refs = self.certs.ensure(ref, desired.certs, stored, self._in_use(observed))
            steps = diff_ingress(observed, desired, refs)
            self._apply(ref, lb.id, steps)
            # every write went out (else PendingError above): old certificates can go
            self.certs.prune(ref, stored, set(refs.values()))
            summary = observed.lb
            healthy = None if steps else healthy_nodes(observed.lb)
        address = self.p.fips.ensure(ref, summary.vip_port_id, wanted, fresh_port=fresh)
        return self.p._status(ref, summary, address or summary.vip_address, options, healthy,
                              total=len({b.address for b in spec.backends}),
                              listeners=tuple(li.name for li in desired.listeners))

    def update_backends(self, spec: LoadBalancerSpec) -> None:
        ref = spec.ref
        _, desired = self._prepare(spec)
        lb = self.p._find(ref)
        if lb is None or lb.provisioning_status in GONE:
            raise PendingError(f"no load balancer yet for {ref.key}; ensure creates it",
                               retry_after=self.p.config.pending_retry_seconds)
        lb = self.p._settled(ref, lb)
        observed = observe(self.p.cloud, lb, ref.uid, with_listeners=False,
                           with_monitors=False)
        by_name = {p.name: p for p in observed.pools}
        steps: list[Step] = []
        for pool in desired.pools:
            if pool.name in by_name:  # a missing pool is ensure's to create
                steps.extend(pool_member_steps(by_name[pool.name], pool,
                                               list(desired.child_tags)))
        self.p._apply(ref, lb.id, steps)

    def delete_certificates(self, ref: LBRef) -> None:
        self.certs.delete_all(ref)

    # -- helpers ---------------------------------------------------------------------
    @staticmethod
    def _check_immutable(observed: ObservedIngressLB, desired: DesiredIngressLB) -> None:
        conflicts = immutable_conflicts(observed.lb, desired)
        if conflicts:
            raise InvalidSpecError(
                f"load balancer {observed.lb.id} cannot change in place "
                f"({'; '.join(conflicts)}); revert the annotation or recreate the Ingress",
                field="metadata.annotations")

    def _apply(self, ref: LBRef, lb_id: str, steps: list[Step]) -> None:
        ids: dict[Ref, str] = {}
        self.p._apply(ref, lb_id, steps, write=lambda step: self._write(step, ids))

    def _write(self, step: Step, ids: dict[Ref, str]) -> None:
        def resolve(value: Any) -> Any:
            if isinstance(value, Ref):
                if value not in ids:  # pragma: no cover - diff orders creations first
                    raise AssertionError(f"{value} used before it was created")
                return ids[value]
            return value

        body = {k: resolve(v) for k, v in step.body.items()}
        op, target = step.op, step.target
        if op == "create_pool":
            created = self.p.cloud.create_pool_with_children(body)
            ids[Ref("pool", body["name"])] = created["id"]
        elif op == "create_listener":
            created = self.l7.create_listener({k: v for k, v in body.items()
                                               if v is not None})
            ids[Ref("listener", body["name"])] = created["id"]
        elif op == "create_l7policy":
            self.l7.create_l7_policy(body)
        elif op == "update_l7policy":
            self.l7.update_l7_policy(target, body)
        elif op == "delete_l7policy":
            self.l7.delete_l7_policy(target)
        elif op == "create_l7rule":
            self.l7.create_l7_rule(target, body)
        elif op in ("update_l7rule", "delete_l7rule"):
            policy_id, _, rule_id = target.partition("/")
            if op == "update_l7rule":
                self.l7.update_l7_rule(policy_id, rule_id, body)
            else:
                self.l7.delete_l7_rule(policy_id, rule_id)
        else:
            self.p._write(Step(op, target, body, step.change))


def _creation_plan(desired: DesiredIngressLB) -> list[Change]:
    changes = [Change("create", "loadbalancer", desired.name,
                      f"{len(desired.listeners)} listeners, {len(desired.pools)} pools, "
                      f"fully populated")]
    for pool in desired.pools:
        monitor = f"monitor {pool.monitor.type}" if pool.monitor else "no monitor"
        changes.append(Change("create", "pool", pool.name,
                              f"{pool.protocol}, {len(pool.members)} members, {monitor}"))
    for li in desired.listeners:
        certs = f", certificate {li.default_tls}" if li.default_tls else ""
        changes.append(Change("create", "listener", li.name,
                              f"{li.protocol}/{li.protocol_port} -> "
                              f"{li.default_pool or 'no default pool'}{certs}"))
        changes += [Change("create", "l7policy", p.name, f"#{i} {p.describe()}")
                    for i, p in enumerate(li.policies, start=1)]
    return changes
