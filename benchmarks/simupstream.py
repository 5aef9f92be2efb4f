"""The anchor model on the simulated cloud: how the upstream service controller with
openstack-cloud-controller-manager's classic (not fully-populated) path builds a load
balancer, reproduced so both models run against the same cloud in the same run.

- creation is step by step: load balancer, then per port a listener, a pool, one call
  per member, a health monitor; after every write the worker blocks, polling the load
  balancer until it is ACTIVE again (OCCM's backoff: check, then sleep 1 s, 1.2 s,
  1.44 s ...);
- node changes add and remove members one call each, waiting after each;
- delete is a cascade delete, and the worker waits until the load balancer is gone;
- no client-side pacing: a throttled call is an error the controller retries with
  backoff (it rarely happens: one worker does not reach the cloud's rate).

It is run by our own controller with one worker (`--concurrent-service-syncs=1`).
"""

from __future__ import annotations

import logging
import time
from typing import Any

from benchmarks.simcalls import CloudClient
from benchmarks.simcloud import ACTIVE, PENDING_DELETE
from benchmarks.simconfig import SimProviderConfig
from benchmarks.simprovider import CAPABILITIES, SimProvider
from benchmarks.simrender import DesiredListener, Member, observed_listener, render
from cloud_lb.model import LBRef, LoadBalancerSpec, LoadBalancerStatus
from cloud_lb.provider import CloudError, ProviderContext

log = logging.getLogger(__name__)


class UpstreamSimProvider(SimProvider):
    """Reads (`get`, `plan`, `list_owned`) as cloud-lb's; writes the upstream way."""

    name = "sim-sequential"
    capabilities = CAPABILITIES

    def __init__(self, config: SimProviderConfig, context: ProviderContext) -> None:
        super().__init__(config, context)
        self.client = CloudClient(config, context.recorder, pace=False)

    # -- waiting (blocks the worker, as upstream does) ------------------------------------------
    def _wait(self, lb_id: str, *, gone: bool = False) -> dict[str, Any] | None:
        pause = self.config.poll_initial_seconds
        for _ in range(self.config.poll_steps):
            lb = self.client.read("get_load_balancer", lb_id)
            if gone and lb is None:
                return None
            if not gone and lb is not None and lb["provisioning_status"] == ACTIVE:
                return lb
            time.sleep(pause)
            pause *= self.config.poll_factor
        raise CloudError(f"load balancer {lb_id} did not become "
                         f"{'deleted' if gone else 'ACTIVE'} in {self.config.poll_steps} polls",
                         operation="wait")

    def _step(self, lb_id: str, op: str, *args: Any, **kwargs: Any) -> Any:
        result = self.client.write(op, *args, **kwargs)
        self._wait(lb_id)
        return result

    # -- writes, the upstream way -------------------------------------------------------------
    def ensure(self, spec: LoadBalancerSpec) -> LoadBalancerStatus:
        desired = render(spec)
        lb = self._find(spec.ref)
        if lb is None:
            lb = self.client.write("create_load_balancer", desired.create_body(populated=False))
        if lb["provisioning_status"] != ACTIVE:
            lb = self._wait(lb["id"])
            assert lb is not None
        wanted = {li.key for li in desired.listeners}
        for want in desired.listeners:
            self._ensure_listener(lb["id"], want)
        for li in self.client.read("list_listeners", lb["id"]):
            if (li["protocol"], li["protocol_port"]) not in wanted:
                self._step(lb["id"], "delete_listener", li["id"])
        return self._status(spec.ref, lb, desired, len(spec.backends))

    def _ensure_listener(self, lb_id: str, want: DesiredListener) -> None:
        listener = next((li for li in self.client.read("list_listeners", lb_id)
                         if (li["protocol"], li["protocol_port"]) == want.key), None)
        if listener is None:
            listener = self._step(lb_id, "create_listener", lb_id, want.body(populated=False))
        elif sorted(listener["allowed_cidrs"]) != list(want.allowed_cidrs):
            self._step(lb_id, "update_listener", listener["id"],
                       allowed_cidrs=list(want.allowed_cidrs))
        pool = next((p for p in self.client.read("list_pools", lb_id)
                     if p["listener_id"] == listener["id"]), None)
        if pool is None:
            pool = self._step(lb_id, "create_pool", listener["id"],
                              want.pool_body(populated=False))
        self._sync_members(lb_id, pool["id"], want.members)
        monitor = next((m for m in self.client.read("list_monitors", lb_id)
                        if m["pool_id"] == pool["id"]), None)
        if monitor is None:
            self._step(lb_id, "create_monitor", pool["id"], want.monitor.body())
        elif observed_listener(listener, pool, [], monitor).monitor != want.monitor:
            self._step(lb_id, "update_monitor", monitor["id"], want.monitor.body())

    def _sync_members(self, lb_id: str, pool_id: str, wanted: tuple[Member, ...]) -> None:
        have = {Member(m["name"], m["address"], m["protocol_port"]): m["id"]
                for m in self.client.read("list_members", pool_id)}
        for member in wanted:
            if member not in have:
                self._step(lb_id, "create_member", pool_id, member.body())
        for member, member_id in have.items():
            if member not in wanted:
                self._step(lb_id, "delete_member", pool_id, member_id)

    def update_backends(self, spec: LoadBalancerSpec) -> None:
        desired = render(spec)
        lb = self._find(spec.ref)
        if lb is None:
            self.ensure(spec)
            return
        if lb["provisioning_status"] != ACTIVE:
            self._wait(lb["id"])
        for want in desired.listeners:
            listener = next((li for li in self.client.read("list_listeners", lb["id"])
                             if (li["protocol"], li["protocol_port"]) == want.key), None)
            if listener is None or listener["default_pool_id"] is None:
                self.ensure(spec)
                return
            self._sync_members(lb["id"], listener["default_pool_id"], want.members)

    def delete(self, ref: LBRef) -> None:
        lb = self._find(ref)
        if lb is None:
            return
        if lb["provisioning_status"] != PENDING_DELETE:
            if lb["provisioning_status"] != ACTIVE:
                self._wait(lb["id"])
            self.client.write("delete_load_balancer", lb["id"], cascade=True)
        self._wait(lb["id"], gone=True)
