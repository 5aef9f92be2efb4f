"""The OpenStack provider: one Octavia load balancer per Service or Ingress, public via a
floating IP. Ingress specs (L7: host/path policies, TLS from Barbican) are served by
`ingress.IngressBalancers` with the same lookup, waiting, floating IPs and status; the
rest of this docstring is the Service path.

ensure(spec):
  1. parse the annotations (InvalidSpecError before any cloud call), resolve placement;
  2. find our load balancer by tags (cluster + UID); otherwise check the OCCM-style name
     for a look-alike: another cluster's is refused (OwnershipError), an untagged one is
     adopted only with `adoptExisting` (or named by the load-balancer-id annotation);
  3. none: create it fully populated in ONE call and wait briefly for ACTIVE;
     ERROR: recover per `onError` (cascade delete and recreate, or leave it);
     PENDING_*: hand back with PendingError (requeue, never an error event);
  4. otherwise read the tree, diff, and apply only the differing writes, waiting for
     ACTIVE between writes for at most `inlineWaitSeconds` (then PendingError: the next
     reconcile recomputes the diff, so nothing is lost);
  5. ensure the floating IP and report the address.
update_backends(spec): only the batch member updates, one PUT per pool that differs.
delete(ref): release or detach floating IPs, then cascade-delete. Gone is success.
An Ingress's Barbican certificates are deleted after its load balancer.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from cloud_lb.model import (
    IngressPoint,
    IPMode,
    LBRef,
    LoadBalancerSpec,
    LoadBalancerStatus,
    ObjectKind,
)
from cloud_lb.provider import (
    Capabilities,
    Change,
    CloudError,
    InvalidSpecError,
    OwnershipError,
    PendingError,
    ProviderContext,
)
from providers.openstack import annotations, naming
from providers.openstack.annotations import ServiceOptions
from providers.openstack.calls import Cloud
from providers.openstack.config import OpenStackConfig
from providers.openstack.connection import connect
from providers.openstack.diff import (
    ObservedLB,
    Step,
    diff,
    immutable_conflicts,
    member_steps,
    member_steps_by_pool_name,
)
from providers.openstack.floating_ips import FloatingIPs, Wanted
from providers.openstack.ingress import IngressBalancers
from providers.openstack.observe import healthy_nodes, lb_summary, observe
from providers.openstack.render import DesiredLB, Placement, render

log = logging.getLogger(__name__)

GONE = ("DELETED", "PENDING_DELETE")
CAPABILITIES = Capabilities(
    tcp=True, udp=True, sctp=True, mixed_protocols=True, l7=True, source_ranges=True,
    internal=True, static_ip=True, ipv6=False, dual_stack=False, proxy_protocol=True,
    pod_targets=False, hostname_status=False)


class OpenStackProvider:
    name = "openstack"
    capabilities = CAPABILITIES

    def __init__(self, config: OpenStackConfig, context: ProviderContext, *,
                 connection_factory: Callable[[], Any] | None = None,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.config = config
        self.cluster = context.cluster_name
        self.recorder = context.recorder
        self.cloud = Cloud(connection_factory=connection_factory or (lambda: connect(config)),
                           recorder=self.recorder, config=config)
        self.fips = FloatingIPs(self.cloud, config)
        self._sleep = sleep
        self._flavors: dict[str, str] = {}
        self._floating_network: str | None = None
        self.ingress = IngressBalancers(self)

    def close(self) -> None:
        self.cloud.close()

    # -- lookup ----------------------------------------------------------------------
    def _find(self, ref: LBRef) -> Any | None:
        tags = f"{naming.cluster_tag(ref.cluster)},{naming.uid_tag(ref.uid)}"
        found = [lb for lb in self.cloud.load_balancers(tags=tags)
                 if lb.provisioning_status != "DELETED"]
        live = [lb for lb in found if lb.provisioning_status not in GONE]
        if len(live) > 1:
            log.warning("duplicate load balancers key=%s ids=%s", ref.key,
                        ",".join(lb.id for lb in live))
        return (live or found or [None])[0]

    def _find_for_ensure(self, ref: LBRef, options: ServiceOptions) -> Any | None:
        lb = self._find(ref)
        if lb is not None:
            return lb
        if options.load_balancer_id:
            named = self.cloud.get_load_balancer(options.load_balancer_id)
            if named is None:
                raise CloudError(f"annotation {annotations.LOAD_BALANCER_ID}: load balancer "
                                 f"{options.load_balancer_id} not found",
                                 operation="octavia.get_load_balancer", retryable=False)
            self._refuse_foreign(ref, named, explicit=True)
            return named
        for candidate in self.cloud.load_balancers(name=naming.lb_name(ref)):
            if candidate.provisioning_status in GONE:
                continue
            self._refuse_foreign(ref, candidate, explicit=self.config.adopt_existing)
            log.info("adopting load balancer key=%s id=%s", ref.key, candidate.id)
            return candidate
        return None

    def _refuse_foreign(self, ref: LBRef, lb: Any, *, explicit: bool) -> None:
        if naming.is_ours(lb.tags, ref):
            return
        if naming.has_our_tags(lb.tags):
            raise OwnershipError(f"load balancer {lb.id} ({lb.name}) belongs to another "
                                 f"cluster or object (tags {sorted(lb.tags or [])}); "
                                 f"not touched")
        if not explicit:
            raise OwnershipError(f"load balancer {lb.id} named {lb.name} exists without "
                                 f"cloud-lb tags; set adoptExisting: true to adopt it")

    # -- placement -------------------------------------------------------------------
    def _placement(self, options: ServiceOptions) -> Placement:
        cfg = self.config
        flavor = options.flavor_id or (self._ovh_flavor(options.ovh_flavor)
                                       if options.ovh_flavor else cfg.flavor_id)
        if options.port_id:
            subnet, network = None, None
        elif options.subnet_id or options.network_id:
            subnet, network = options.subnet_id, options.network_id
        else:
            subnet, network = cfg.subnet_id, cfg.network_id
        if not (options.port_id or subnet or network):
            raise InvalidSpecError("no VIP placement: set subnetId or networkId in the "
                                   "openstack config, or the loadbalancer.openstack.org/"
                                   "subnet-id annotation", field=annotations.SUBNET_ID)
        return Placement(vip_subnet_id=subnet, vip_network_id=network,
                         vip_port_id=options.port_id,
                         member_subnet_id=options.member_subnet_id or cfg.member_subnet_id,
                         flavor_id=flavor,
                         availability_zone=options.availability_zone or cfg.availability_zone,
                         provider=cfg.lb_provider)

    def _ovh_flavor(self, size: str) -> str:
        if size not in self._flavors:
            found = self.cloud.flavors(name=size)
            if not found:
                raise InvalidSpecError(f"annotation {annotations.OVH_FLAVOR}: no Octavia "
                                       f"flavor named {size!r} in this region",
                                       field=annotations.OVH_FLAVOR)
            self._flavors[size] = found[0].id
        return self._flavors[size]

    def _wanted_fip(self, spec: LoadBalancerSpec, options: ServiceOptions) -> Wanted:
        public = not (spec.internal or options.internal)
        network = options.floating_network_id or self.config.floating_network_id
        if public and network is None:
            network = self._default_floating_network()
        return Wanted(public=public, network_id=network,
                      subnet_id=options.floating_subnet_id or self.config.floating_subnet_id,
                      static_ip=spec.static_ip, keep=options.keep_floating_ip)

    def _default_floating_network(self) -> str | None:
        if self._floating_network is None:
            external = self.cloud.networks(is_router_external=True)
            if len(external) == 1:
                self._floating_network = external[0].id
            else:
                log.warning("no single external network found=%d: set floatingNetworkId",
                            len(external))
        return self._floating_network

    def _prepare(self, spec: LoadBalancerSpec) -> tuple[ServiceOptions, DesiredLB]:
        options = annotations.parse(spec)
        return options, render(spec, options, self.config, self._placement(options))

    # -- waiting ---------------------------------------------------------------------
    def _wait_active(self, ref: LBRef, lb_id: str) -> Any:
        deadline = time.monotonic() + self.config.inline_wait_seconds
        pause = 0.05
        while True:
            lb = self.cloud.get_load_balancer(lb_id)
            if lb is None:
                raise PendingError(f"load balancer {lb_id} of {ref.key} disappeared",
                                   retry_after=self.config.pending_retry_seconds)
            if lb.provisioning_status in ("ACTIVE", "ERROR"):
                return lb
            if time.monotonic() + pause > deadline:
                raise PendingError(f"load balancer {lb_id} of {ref.key} is "
                                   f"{lb.provisioning_status}",
                                   retry_after=self.config.pending_retry_seconds)
            self._sleep(pause)
            pause = min(pause * 2, 1.0)

    def _settled(self, ref: LBRef, lb: Any) -> Any:
        """An ACTIVE load balancer, or PendingError; ERROR is recovered per config."""
        if lb.provisioning_status in ("PENDING_CREATE", "PENDING_UPDATE", "PENDING_DELETE"):
            lb = self._wait_active(ref, lb.id)
        if lb.provisioning_status == "ERROR":
            self._recover(ref, lb)
        return lb

    def _recover(self, ref: LBRef, lb: Any) -> None:
        if self.config.on_error == "leave":
            raise CloudError(f"load balancer {lb.id} of {ref.key} is in ERROR; onError is "
                             f"'leave': an operator must repair or delete it",
                             operation="octavia.get_load_balancer", retryable=False)
        log.warning("load balancer in ERROR, recreating key=%s id=%s", ref.key, lb.id)
        # the floating IP stays: it is detached with the VIP port and reused on recreation
        self.cloud.delete_load_balancer(lb.id)
        raise PendingError(f"load balancer {lb.id} of {ref.key} was in ERROR: deleted, "
                           f"it will be recreated", retry_after=self.config.pending_retry_seconds)

    # -- the contract ----------------------------------------------------------------
    def get(self, ref: LBRef) -> LoadBalancerStatus | None:
        lb = self._find(ref)
        if lb is None or lb.provisioning_status in GONE:
            return None
        observed = observe(self.cloud, lb, ref.uid, with_monitors=False)
        fip = self.fips.attached(observed.vip_port_id)
        address = fip.floating_ip_address if fip is not None else observed.vip_address
        return self._status(ref, observed, address, None, None)

    def plan(self, spec: LoadBalancerSpec) -> list[Change]:
        if _is_ingress(spec):
            return self.ingress.plan(spec)
        options, desired = self._prepare(spec)
        wanted = self._wanted_fip(spec, options)
        lb = self._find_for_ensure(spec.ref, options)
        if lb is None:
            return self._creation_plan(desired) + self.fips.plan(spec.ref, "", wanted)
        if lb.provisioning_status == "ERROR" and self.config.on_error == "recreate":
            return [Change("delete", "loadbalancer", lb.name, "ERROR: recreate")] \
                + self._creation_plan(desired)
        observed = observe(self.cloud, lb, spec.ref.uid)
        self._check_immutable(observed, desired)
        return [s.change for s in diff(observed, desired)] + self.fips.plan(
            spec.ref, observed.vip_port_id, wanted)

    def ensure(self, spec: LoadBalancerSpec) -> LoadBalancerStatus:
        if _is_ingress(spec):
            return self.ingress.ensure(spec)
        ref = spec.ref
        options, desired = self._prepare(spec)
        wanted = self._wanted_fip(spec, options)
        lb = self._find_for_ensure(ref, options)
        fresh = lb is None
        if lb is None:
            lb = self.cloud.create_load_balancer(desired.create_body())
            log.info("load balancer created key=%s id=%s listeners=%d", ref.key, lb.id,
                     len(desired.listeners))
        elif lb.provisioning_status in GONE:
            raise PendingError(f"load balancer {lb.id} of {ref.key} is being deleted",
                               retry_after=self.config.pending_retry_seconds)
        lb = self._settled(ref, lb)
        if fresh:
            # the fully-populated create made exactly `desired`: nothing to read or diff
            observed = lb_summary(lb)
            healthy = None
        else:
            observed = observe(self.cloud, lb, ref.uid)
            self._check_immutable(observed, desired)
            steps = diff(observed, desired)
            self._apply(ref, lb.id, steps)
            healthy = None if steps else healthy_nodes(observed)
        address = self.fips.ensure(ref, observed.vip_port_id, wanted, fresh_port=fresh)
        return self._status(ref, observed, address or observed.vip_address, options,
                            healthy, total=len({b.address for b in spec.backends}),
                            listeners=tuple(li.name for li in desired.listeners))

    def update_backends(self, spec: LoadBalancerSpec) -> None:
        if _is_ingress(spec):
            return self.ingress.update_backends(spec)
        ref = spec.ref
        _, desired = self._prepare(spec)
        lb = self._find(ref)
        if lb is None or lb.provisioning_status in GONE:
            raise PendingError(f"no load balancer yet for {ref.key}; ensure creates it",
                               retry_after=self.config.pending_retry_seconds)
        lb = self._settled(ref, lb)
        # our pools carry our names: no need to read the listeners to find them
        observed = observe(self.cloud, lb, ref.uid, with_listeners=False, with_monitors=False)
        steps = member_steps_by_pool_name(observed, desired)
        if steps is None:
            observed = observe(self.cloud, lb, ref.uid, with_monitors=False)
            steps = member_steps(observed, desired)
        self._apply(ref, lb.id, steps)

    def delete(self, ref: LBRef) -> None:
        lb = self._find(ref)
        if lb is None:
            log.info("load balancer absent key=%s", ref.key)
            self.fips.release(ref, None)
        elif lb.provisioning_status not in GONE:
            self.fips.release(ref, lb.vip_port_id)
            self.cloud.delete_load_balancer(lb.id)
            log.info("load balancer deleted key=%s id=%s", ref.key, lb.id)
        if ref.kind is ObjectKind.INGRESS:
            # after the cascade delete is accepted: no listener will load them again
            self.ingress.delete_certificates(ref)

    def list_owned(self) -> list[LBRef]:
        owned = []
        for lb in self.cloud.load_balancers(tags=naming.cluster_tag(self.cluster)):
            if lb.provisioning_status in GONE:
                continue
            ref = naming.ref_from_tags(lb.tags, self.cluster)
            if ref is not None:
                owned.append(ref)
        return owned

    # -- helpers ---------------------------------------------------------------------
    def _apply(self, ref: LBRef, lb_id: str, steps: list[Step],
               write: Callable[[Step], None] | None = None) -> None:
        """One write per step, waiting for ACTIVE between writes (Octavia refuses a write
        while PENDING_*). Not after the last: the next reconcile waits if it must."""
        for index, step in enumerate(steps):
            if index:
                self._settled(ref, self._wait_active(ref, lb_id))
            (write or self._write)(step)
            log.info("load balancer step key=%s change=%s", ref.key, step.change)

    def _write(self, step: Step) -> None:
        op, target, body = step.op, step.target, step.body
        if op == "update_load_balancer":
            self.cloud.update_load_balancer(target, body)
        elif op == "batch_update_members":
            self.cloud.batch_update_members(target, body["members"])
        elif op == "create_pool":
            self.cloud.create_pool_with_children(body)
        elif op.startswith(("create_", "update_", "delete_")):
            verb, _, kind = op.partition("_")
            if verb == "create":
                self.cloud.create(kind, body)
            elif verb == "update":
                self.cloud.update(kind, target, body)
            else:
                self.cloud.delete(kind, target)
        else:  # pragma: no cover - diff only emits the ops above
            raise AssertionError(op)

    @staticmethod
    def _check_immutable(observed: ObservedLB, desired: DesiredLB) -> None:
        conflicts = immutable_conflicts(observed, desired)
        if conflicts:
            raise InvalidSpecError(
                f"load balancer {observed.id} cannot change in place ({'; '.join(conflicts)}); "
                f"revert the annotation or recreate the Service", field="metadata.annotations")

    def _creation_plan(self, desired: DesiredLB) -> list[Change]:
        changes = [Change("create", "loadbalancer", desired.name,
                          f"{len(desired.listeners)} listeners, fully populated")]
        for li in desired.listeners:
            changes.append(Change("create", "listener", li.name,
                                  f"{li.protocol}/{li.protocol_port}"))
            changes.append(Change("create", "pool", li.pool.name,
                                  f"{li.pool.protocol} {li.pool.lb_algorithm}, "
                                  f"{len(li.pool.members)} members"))
            if li.pool.monitor is not None:
                changes.append(Change("create", "healthmonitor", li.pool.monitor.name,
                                      li.pool.monitor.type))
        return changes

    def _status(self, ref: LBRef, observed: ObservedLB, address: str,
                options: ServiceOptions | None, healthy: int | None, *,
                total: int | None = None,
                listeners: tuple[str, ...] | None = None) -> LoadBalancerStatus:
        proxy = options is not None and bool(options.proxy_protocol)
        if options is not None and options.hostname:
            point = IngressPoint(hostname=options.hostname)
        else:
            point = IngressPoint(ip=address, ip_mode=IPMode.PROXY if proxy else IPMode.VIP)
        if total is None:
            total = len({m.address for p in observed.pools for m in p.members})
        return LoadBalancerStatus(
            ref=ref, provider_id=observed.id, ingress=(point,), backends_total=total,
            backends_healthy=healthy,
            listeners=tuple(sorted(listeners if listeners is not None
                                   else (li.name for li in observed.listeners))))


def _is_ingress(spec: LoadBalancerSpec) -> bool:
    return spec.ref.kind is ObjectKind.INGRESS or spec.is_l7
