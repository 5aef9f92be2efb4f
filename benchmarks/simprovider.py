"""cloud-lb's model on the simulated cloud: the way providers/openstack works.

- `ensure` creates a missing load balancer in one fully-populated call and returns
  `PendingError(retry_after)` while it provisions: the worker is free for other keys and
  the controller comes back; the first time it finds it ACTIVE, a tree this process
  created from the same desired state is not read back (as providers/openstack skips
  the read after its fully-populated create); otherwise an existing one is read (load balancer, listeners, pools,
  monitors, members per pool), diffed, and only the difference is written, one write per
  call because the load balancer is immutable while PENDING_UPDATE.
- `update_backends` replaces each pool's members in one batch call.
- `delete` is one cascade delete.
- mutating calls are paced by a client-side token bucket at the cloud's limit.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from typing import Any

from benchmarks.simcalls import CloudClient
from benchmarks.simcloud import ACTIVE, PENDING_DELETE
from benchmarks.simconfig import SimProviderConfig
from benchmarks.simrender import (
    DesiredLB,
    ObservedListener,
    Step,
    cluster_tag,
    diff,
    is_ours,
    lb_name,
    observed_listener,
    render,
)
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
    OwnershipError,
    PendingError,
    ProviderContext,
)

log = logging.getLogger(__name__)

CAPABILITIES = Capabilities(tcp=True, udp=True, mixed_protocols=True, source_ranges=True)


class SimProvider:
    name = "sim"
    capabilities = CAPABILITIES

    def __init__(self, config: SimProviderConfig, context: ProviderContext) -> None:
        self.config = config
        self.cluster = context.cluster_name
        self.client = CloudClient(config, context.recorder, pace=True)
        # load balancers this process created, with a digest of what it asked for, until
        # first ACTIVE (a digest: 1,000 trees of 1,000 members would cost ~100 MB)
        self._created: dict[str, bytes] = {}
        self._created_lock = threading.Lock()

    # -- reading -----------------------------------------------------------------------------
    def _find(self, ref: LBRef) -> dict[str, Any] | None:
        found = self.client.read("find_load_balancers", name=lb_name(ref))
        for lb in found:
            if not is_ours(lb, ref):
                raise OwnershipError(f"load balancer {lb['name']} ({lb['id']}) exists but is "
                                     f"not tagged as {ref}: not touching it")
        return found[0] if found else None

    def _observe(self, lb_id: str) -> tuple[ObservedListener, ...]:
        """4 + <pools> reads, whatever the tree's size (as providers/openstack observes)."""
        listeners = self.client.read("list_listeners", lb_id)
        pools = {p["id"]: p for p in self.client.read("list_pools", lb_id)}
        monitors = {m["id"]: m for m in self.client.read("list_monitors", lb_id)} \
            if any(p["healthmonitor_id"] for p in pools.values()) else {}
        out = []
        for li in listeners:
            pool = pools.get(li["default_pool_id"] or "")
            members = self.client.read("list_members", pool["id"]) if pool else []
            monitor = monitors.get(pool["healthmonitor_id"] or "") if pool else None
            out.append(observed_listener(li, pool, members, monitor))
        return tuple(out)

    def _settled(self, lb: dict[str, Any], ref: LBRef) -> None:
        status = lb["provisioning_status"]
        if status != ACTIVE:
            raise PendingError(f"load balancer {lb['id']} of {ref.key} is {status}",
                               retry_after=self.config.pending_retry_seconds)

    def _status(self, ref: LBRef, lb: dict[str, Any], desired: DesiredLB,
                backends: int) -> LoadBalancerStatus:
        return LoadBalancerStatus(
            ref=ref, provider_id=lb["id"],
            ingress=(IngressPoint(ip=lb["vip_address"], ip_mode=IPMode.VIP),),
            backends_total=backends, listeners=tuple(li.name for li in desired.listeners))

    # -- the contract -----------------------------------------------------------------------
    def get(self, ref: LBRef) -> LoadBalancerStatus | None:
        lb = self._find(ref)
        if lb is None or lb["provisioning_status"] == PENDING_DELETE:
            return None
        observed = self._observe(lb["id"])
        return LoadBalancerStatus(
            ref=ref, provider_id=lb["id"],
            ingress=(IngressPoint(ip=lb["vip_address"], ip_mode=IPMode.VIP),),
            backends_total=max((len(li.members) for li in observed), default=0),
            listeners=tuple(f"{li.protocol}/{li.port}" for li in observed))

    def plan(self, spec: LoadBalancerSpec) -> list[Change]:
        desired = render(spec)
        lb = self._find(spec.ref)
        if lb is None:
            return [Change("create", "loadbalancer", desired.name,
                           f"{len(desired.listeners)} listeners, fully populated")]
        return [_change(s) for s in diff(self._observe(lb["id"]), desired, lb["id"])]

    def ensure(self, spec: LoadBalancerSpec) -> LoadBalancerStatus:
        desired = render(spec)
        lb = self._find(spec.ref)
        if lb is None:
            lb = self.client.write("create_load_balancer", desired.create_body())
            with self._created_lock:
                self._created[lb["id"]] = _digest(desired)
            log.info("load balancer created key=%s id=%s", spec.ref.key, lb["id"])
            raise PendingError(f"load balancer {lb['id']} of {spec.ref.key} is provisioning",
                               retry_after=self.config.pending_retry_seconds)
        self._settled(lb, spec.ref)
        with self._created_lock:
            created = self._created.pop(lb["id"], None)
        if created == _digest(desired):
            return self._status(spec.ref, lb, desired, len(spec.backends))
        steps = diff(self._observe(lb["id"]), desired, lb["id"])
        if steps:
            self._apply(steps[0])
            if len(steps) > 1:
                # the write made the load balancer PENDING_UPDATE: the next one must wait
                raise PendingError(f"{len(steps) - 1} more changes for {spec.ref.key}",
                                   retry_after=self.config.pending_retry_seconds)
        return self._status(spec.ref, lb, desired, len(spec.backends))

    def update_backends(self, spec: LoadBalancerSpec) -> None:
        desired = render(spec)
        lb = self._find(spec.ref)
        if lb is None:
            raise PendingError(f"no load balancer yet for {spec.ref.key}",
                               retry_after=self.config.pending_retry_seconds)
        self._settled(lb, spec.ref)
        listeners = {(li["protocol"], li["protocol_port"]): li
                     for li in self.client.read("list_listeners", lb["id"])}
        steps = []
        for want in desired.listeners:
            li = listeners.get(want.key)
            if li is None or li["default_pool_id"] is None:
                raise PendingError(f"listener {want.name} of {spec.ref.key} missing: "
                                   f"ensure creates it", retry_after=self.config.pending_retry_seconds)
            members = self.client.read("list_members", li["default_pool_id"])
            have = sorted((m["name"], m["address"], m["protocol_port"]) for m in members)
            if have != sorted((m.name, m.address, m.port) for m in want.members):
                steps.append(Step("batch_update_members", li["default_pool_id"],
                                  [m.body() for m in want.members]))
        if steps:
            self._apply(steps[0])
            if len(steps) > 1:
                raise PendingError(f"{len(steps) - 1} more pools of {spec.ref.key}",
                                   retry_after=self.config.pending_retry_seconds)

    def delete(self, ref: LBRef) -> None:
        lb = self._find(ref)
        if lb is None or lb["provisioning_status"] == PENDING_DELETE:
            return
        self._settled(lb, ref)
        self.client.write("delete_load_balancer", lb["id"], cascade=True)
        log.info("load balancer deleted key=%s id=%s", ref.key, lb["id"])

    def list_owned(self) -> list[LBRef]:
        owned = []
        for lb in self.client.read("find_load_balancers", tag=cluster_tag(self.cluster)):
            ref = ref_from_tags(lb, self.cluster)
            if ref is not None and lb["provisioning_status"] != PENDING_DELETE:
                owned.append(ref)
        return owned

    def close(self) -> None:
        pass

    def _apply(self, step: Step) -> None:
        if step.op == "update_listener":
            self.client.write(step.op, step.target, allowed_cidrs=step.body)
        elif step.body is None:
            self.client.write(step.op, step.target)
        else:
            self.client.write(step.op, step.target, step.body)


def _digest(desired: DesiredLB) -> bytes:
    return hashlib.sha256(repr(desired).encode()).digest()


def ref_from_tags(lb: dict[str, Any], cluster: str) -> LBRef | None:
    tags = dict(t.split("=", 1) for t in lb["tags"] if "=" in t)
    if tags.get("kube_cluster") != cluster or "kube_service" not in tags:
        return None
    namespace, _, name = tags["kube_service"].partition("/")
    return LBRef(cluster=cluster, kind=ObjectKind.SERVICE, namespace=namespace, name=name,
                 uid=tags.get("kube_uid", ""))


def _change(step: Step) -> Change:
    verb, _, resource = step.op.partition("_")
    action = {"create": "create", "delete": "delete"}.get(verb, "update")
    return Change(action, resource.removesuffix("s"), step.target)
