"""The public address of a load balancer: a Neutron floating IP on its VIP port.

Ownership rules:
- a floating IP we allocate carries our cluster and UID tags plus `cloud-lb:allocated`;
  only such a floating IP is ever released (deleted), and not when the Service asked to
  keep it (`keep-floatingip`, remembered as the `cloud-lb:keep` tag because `delete`
  only gets the reference, not the annotations);
- a floating IP named by `loadBalancerIP` is the user's: we associate it with the VIP
  port and, on delete or change, only disassociate it. One already associated with some
  other port is never taken over;
- a floating IP found on our VIP port that we did not allocate is left as it is.
Allocation is one call (create with `port_id` and tags); a crash between allocation and
association is healed by finding our tagged, unassociated floating IP.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from cloud_lb.model import LBRef
from cloud_lb.provider import Change, CloudError
from providers.openstack import naming
from providers.openstack.calls import Cloud
from providers.openstack.config import OpenStackConfig

log = logging.getLogger(__name__)

KEEP = naming.PREFIX + "keep"


@dataclass(frozen=True)
class Wanted:
    """What the Service asks for its public address."""

    public: bool
    network_id: str | None  # the floating network (resolved)
    subnet_id: str | None = None
    static_ip: str | None = None
    keep: bool = False


def allocated_by_us(fip: Any, ref: LBRef) -> bool:
    tags = set(fip.tags or [])
    return {naming.neutron_cluster_tag(ref.cluster), naming.uid_tag(ref.uid),
            naming.ALLOCATED} <= tags


def _our_tags(ref: LBRef, keep: bool) -> list[str]:
    return naming.floating_ip_tags(ref) + ([KEEP] if keep else [])


class FloatingIPs:
    def __init__(self, cloud: Cloud, config: OpenStackConfig) -> None:
        self.cloud = cloud
        self.config = config

    def attached(self, vip_port_id: str) -> Any | None:
        if not vip_port_id:
            return None
        found = self.cloud.floating_ips(port_id=vip_port_id)
        return found[0] if found else None

    def _leftover(self, ref: LBRef) -> list[Any]:
        tags = f"{naming.neutron_cluster_tag(ref.cluster)},{naming.uid_tag(ref.uid)}"
        return [f for f in self.cloud.floating_ips(tags=tags) if allocated_by_us(f, ref)]

    # -- plan ------------------------------------------------------------------------
    def plan(self, ref: LBRef, vip_port_id: str, wanted: Wanted) -> list[Change]:
        current = self.attached(vip_port_id) if vip_port_id else None
        if not wanted.public:
            if current is None:
                return []
            action = "delete" if allocated_by_us(current, ref) else "update"
            return [Change(action, "floatingip", current.floating_ip_address,
                           "internal load balancer")]
        if current is not None and (wanted.static_ip in (None, current.floating_ip_address)):
            if allocated_by_us(current, ref) and (KEEP in (current.tags or [])) != wanted.keep:
                return [Change("update", "floatingip", current.floating_ip_address,
                               f"keep={str(wanted.keep).lower()}")]
            return []
        if wanted.static_ip:
            return [Change("update", "floatingip", wanted.static_ip,
                           f"associate with the VIP port {vip_port_id or '(new)'}")]
        return [Change("create", "floatingip", "(allocated)",
                       f"on network {wanted.network_id}")]

    # -- ensure ----------------------------------------------------------------------
    def ensure(self, ref: LBRef, vip_port_id: str, wanted: Wanted, *,
               fresh_port: bool = False) -> str | None:
        """The public address for the status (None for an internal load balancer).
        `fresh_port`: the VIP port was just created, nothing can be attached to it yet."""
        current = None if fresh_port else self.attached(vip_port_id)
        if not wanted.public:
            if current is not None:
                self._let_go(ref, current, keep=False)
            return None
        if current is not None and wanted.static_ip not in (None,
                                                            current.floating_ip_address):
            self._let_go(ref, current, keep=False)  # the user moved to another address
            current = None
        if current is not None:
            if allocated_by_us(current, ref) and (KEEP in (current.tags or [])) != wanted.keep:
                self.cloud.set_floating_ip_tags(current, _our_tags(ref, wanted.keep))
            return str(current.floating_ip_address)
        if wanted.static_ip:
            return self._associate_static(ref, vip_port_id, wanted.static_ip)
        for leftover in self._leftover(ref):
            if not leftover.port_id:
                self.cloud.update_floating_ip(leftover.id, {"port_id": vip_port_id})
                log.info("floating ip reused key=%s address=%s", ref.key,
                         leftover.floating_ip_address)
                return str(leftover.floating_ip_address)
        return self._allocate(ref, vip_port_id, wanted)

    def _allocate(self, ref: LBRef, vip_port_id: str, wanted: Wanted) -> str:
        if not wanted.network_id:
            raise CloudError("no floating network: set floatingNetworkId in the config or "
                             "the loadbalancer.openstack.org/floating-network-id annotation",
                             operation="neutron.create_floating_ip", retryable=False)
        body: dict[str, Any] = {"floating_network_id": wanted.network_id,
                                "port_id": vip_port_id, "description": naming.description(ref)}
        if wanted.subnet_id:
            body["subnet_id"] = wanted.subnet_id
        tags = _our_tags(ref, wanted.keep)
        if self.config.tags_on_create:
            body["tags"] = tags
        fip = self.cloud.create_floating_ip(body)
        if not self.config.tags_on_create:
            self.cloud.set_floating_ip_tags(fip, tags)
        log.info("floating ip allocated key=%s address=%s", ref.key, fip.floating_ip_address)
        return str(fip.floating_ip_address)

    def _associate_static(self, ref: LBRef, vip_port_id: str, address: str) -> str:
        found = self.cloud.floating_ips(floating_ip_address=address)
        if not found:
            raise CloudError(f"loadBalancerIP {address} is not a floating IP of this project; "
                             f"allocate it first", operation="neutron.list_floating_ips",
                             retryable=False)
        fip = found[0]
        if fip.port_id and fip.port_id != vip_port_id:
            raise CloudError(f"floating IP {address} is associated with port {fip.port_id}; "
                             f"it is not taken over", operation="neutron.update_floating_ip",
                             retryable=False)
        if fip.port_id != vip_port_id:
            self.cloud.update_floating_ip(fip.id, {"port_id": vip_port_id})
            log.info("floating ip associated key=%s address=%s", ref.key, address)
        return address

    def _let_go(self, ref: LBRef, fip: Any, *, keep: bool) -> None:
        if allocated_by_us(fip, ref) and not keep and KEEP not in (fip.tags or []):
            self.cloud.delete_floating_ip(fip.id)
            log.info("floating ip released key=%s address=%s", ref.key,
                     fip.floating_ip_address)
        elif fip.port_id:
            self.cloud.update_floating_ip(fip.id, {"port_id": None})
            log.info("floating ip disassociated key=%s address=%s", ref.key,
                     fip.floating_ip_address)

    # -- delete ----------------------------------------------------------------------
    def release(self, ref: LBRef, vip_port_id: str | None) -> None:
        """Before the load balancer goes: release ours (unless kept), detach the rest."""
        seen: dict[str, Any] = {}
        if vip_port_id:
            attached = self.attached(vip_port_id)
            if attached is not None:
                seen[attached.id] = attached
        for fip in self._leftover(ref):
            seen.setdefault(fip.id, fip)
        for fip in seen.values():
            self._let_go(ref, fip, keep=False)
