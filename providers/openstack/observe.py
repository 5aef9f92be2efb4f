"""Read one load balancer's tree from Octavia into `diff`'s observed model.

Reads are few and bulk: one list of listeners and one of pools by load balancer id,
one list of health monitors by our UID tag (a per-id read only for a monitor without
our tags, as on an adopted load balancer), and one member list per pool. That is
4 + <pools> reads for a whole tree, whatever its size.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from providers.openstack import naming
from providers.openstack.calls import Cloud
from providers.openstack.diff import (
    ObservedLB,
    ObservedListener,
    ObservedMember,
    ObservedMonitor,
    ObservedPool,
)

TIMEOUT_KEYS = ("timeout_client_data", "timeout_member_connect", "timeout_member_data",
                "timeout_tcp_inspect")


def lb_summary(lb: Any) -> ObservedLB:
    """The load balancer alone (no children read)."""
    return ObservedLB(
        id=lb.id, name=lb.name or "", tags=tuple(lb.tags or ()),
        provisioning_status=lb.provisioning_status or "", vip_address=lb.vip_address or "",
        vip_port_id=lb.vip_port_id or "", vip_subnet_id=lb.vip_subnet_id,
        vip_network_id=lb.vip_network_id, flavor_id=lb.flavor_id,
        availability_zone=lb.availability_zone)


def observe(cloud: Cloud, lb: Any, uid: str, *, with_listeners: bool = True,
            with_monitors: bool = True) -> ObservedLB:
    base = lb_summary(lb)
    # the server filters by load balancer; filtering again costs nothing and keeps a
    # cloud that ignores the filter from mixing other load balancers' objects in
    listeners = tuple(_listener(li) for li in cloud.listeners(lb.id)
                      if _belongs(li, lb.id)) if with_listeners else ()
    raw_pools = [p for p in cloud.pools(lb.id) if _belongs(p, lb.id)]
    monitors: dict[str, ObservedMonitor] = {}
    if with_monitors and any(p.health_monitor_id for p in raw_pools):
        for hm in cloud.health_monitors(tags=naming.uid_tag(uid)):
            monitors[hm.id] = _monitor(hm)
    pools = []
    for pool in raw_pools:
        monitor = None
        if with_monitors and pool.health_monitor_id:
            monitor = monitors.get(pool.health_monitor_id)
            if monitor is None:
                found = cloud.get_health_monitor(pool.health_monitor_id)
                monitor = _monitor(found) if found is not None else None
        members = tuple(_member(m) for m in cloud.members(pool.id))
        pools.append(ObservedPool(id=pool.id, name=pool.name or "", protocol=pool.protocol,
                                  lb_algorithm=pool.lb_algorithm, members=members,
                                  monitor=monitor))
    return dataclasses.replace(base, listeners=listeners, pools=tuple(pools))


def _belongs(resource: Any, lb_id: str) -> bool:
    links = getattr(resource, "load_balancers", None) or getattr(resource, "loadbalancers",
                                                                 None) or []
    return not links or any((x.get("id") if isinstance(x, dict) else x) == lb_id
                            for x in links)


def _listener(li: Any) -> ObservedListener:
    headers = li.insert_headers or {}
    return ObservedListener(
        id=li.id, name=li.name or "", protocol=li.protocol, protocol_port=li.protocol_port,
        allowed_cidrs=tuple(li.allowed_cidrs) if li.allowed_cidrs else None,
        connection_limit=li.connection_limit if li.connection_limit is not None else -1,
        timeouts=tuple(sorted((k, getattr(li, k)) for k in TIMEOUT_KEYS
                              if getattr(li, k) is not None)),
        insert_headers=tuple(sorted((str(k), str(v)) for k, v in headers.items())),
        default_pool_id=li.default_pool_id,
        default_tls_ref=li.default_tls_container_ref or None,
        sni_refs=tuple(li.sni_container_refs or ()))


def _monitor(hm: Any) -> ObservedMonitor:
    return ObservedMonitor(
        id=hm.id, name=hm.name or "", type=hm.type, delay=hm.delay, timeout=hm.timeout,
        max_retries=hm.max_retries, max_retries_down=hm.max_retries_down,
        url_path=hm.url_path, http_method=hm.http_method, expected_codes=hm.expected_codes)


def _member(m: Any) -> ObservedMember:
    return ObservedMember(id=m.id, name=m.name or "", address=m.address,
                          protocol_port=m.protocol_port, monitor_port=m.monitor_port,
                          operating_status=m.operating_status or "")


def healthy_nodes(observed: ObservedLB) -> int | None:
    """Nodes whose members are ONLINE (or NO_MONITOR) in every pool."""
    if not observed.pools:
        return None
    by_node: dict[str, bool] = {}
    for pool in observed.pools:
        for m in pool.members:
            ok = m.operating_status in ("ONLINE", "NO_MONITOR")
            by_node[m.address] = by_node.get(m.address, True) and ok
    return sum(1 for ok in by_node.values() if ok)
