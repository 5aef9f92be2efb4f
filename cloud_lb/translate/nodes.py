"""Which nodes receive a load balancer's traffic, and a fingerprint of that set.

A node is a backend when it is Ready, not being deleted, not tainted for deletion by
the cluster autoscaler, not labelled with the exclude label (any value, as upstream),
matches the configured node selector, and has an address of the configured type.
Unschedulable (cordoned) nodes stay backends: kube-proxy still forwards on them, and
dropping them would break connections during a routine drain, as upstream decided.

Address choice: the first `status.addresses` entry of `settings.address_type`. A node
without one is skipped (and logged) unless `settings.address_fallback` allows the other
type; silently putting an InternalIP behind a load balancer configured for ExternalIPs
could route over a network the load balancer cannot reach.

The node sync compares `node_fingerprint` before and after a Node event and calls
`update_backends` only when it changed, so heartbeats (which change
`status.conditions[].lastHeartbeatTime` every few seconds) cost nothing.
"""

from __future__ import annotations

import hashlib
import threading
import ipaddress
import logging
from collections.abc import Iterable, Mapping
from typing import Any

from cloud_lb.model import Backend
from cloud_lb.translate.predicates import is_being_deleted
from cloud_lb.translate.settings import TranslateSettings

log = logging.getLogger(__name__)

ZONE_LABEL = "topology.kubernetes.io/zone"
# the cluster autoscaler taints a node it is about to delete (cordoned for deletion)
TO_BE_DELETED_TAINT = "ToBeDeletedByClusterAutoscaler"


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def is_ready(node: Mapping[str, Any]) -> bool:
    """The node's Ready condition is True (a node with no conditions is not Ready)."""
    for cond in _list(_mapping(node.get("status")).get("conditions")):
        cond = _mapping(cond)
        if cond.get("type") == "Ready":
            return cond.get("status") == "True"
    return False


def is_tainted_for_deletion(node: Mapping[str, Any]) -> bool:
    return any(
        _mapping(taint).get("key") == TO_BE_DELETED_TAINT
        for taint in _list(_mapping(node.get("spec")).get("taints"))
    )


def _valid_ip(value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        return None
    if address.is_unspecified or address.is_multicast:  # no node receives traffic there
        return None
    return str(address)


def node_address(node: Mapping[str, Any], settings: TranslateSettings) -> str | None:
    """The backend address of a node per `address_type` (and fallback), or None."""
    addresses = [_mapping(a) for a in _list(_mapping(node.get("status")).get("addresses"))]
    order = [settings.address_type]
    if settings.address_fallback:
        order.append("ExternalIP" if settings.address_type == "InternalIP" else "InternalIP")
    for wanted in order:
        for entry in addresses:
            if entry.get("type") == wanted and (ip := _valid_ip(entry.get("address"))):
                return ip
    return None


def ineligibility(node: Mapping[str, Any], settings: TranslateSettings) -> str | None:
    """Why a node is not a backend (one short reason), or None when it is one."""
    meta = _mapping(node.get("metadata"))
    name = meta.get("name")
    if not isinstance(name, str) or not name:
        return "no metadata.name"
    labels = _mapping(meta.get("labels"))
    if is_being_deleted(node):
        return "being deleted"
    if is_tainted_for_deletion(node):
        return f"tainted {TO_BE_DELETED_TAINT}"
    if settings.exclude_label in labels:
        return f"labelled {settings.exclude_label}"
    for key, value in settings.node_selector.items():
        if labels.get(key) != value:
            return f"does not match node selector {key}={value}"
    if not is_ready(node):
        return "not Ready"
    if node_address(node, settings) is None:
        return f"has no {settings.address_type} address"
    return None


def _backend(node: Mapping[str, Any], settings: TranslateSettings) -> Backend:
    meta = _mapping(node.get("metadata"))
    provider_id = _mapping(node.get("spec")).get("providerID")
    zone = _mapping(meta.get("labels")).get(ZONE_LABEL)
    address = node_address(node, settings)
    assert address is not None  # checked by ineligibility()
    return Backend(
        node_name=meta["name"],
        address=address,
        provider_id=provider_id if isinstance(provider_id, str) else "",
        zone=zone if isinstance(zone, str) else "",
    )


def node_view(node: dict[str, Any]) -> dict[str, Any]:
    """Only what eligibility and backends read: an informer transform for the Node
    cache. A Node object carries its images, volumes and capacity (tens of kilobytes);
    this keeps ~1 KB (1,000 nodes: 32 -> 3 MB measured by the benchmark)."""
    meta = _mapping(node.get("metadata"))
    spec = _mapping(node.get("spec"))
    status = _mapping(node.get("status"))
    return {
        "metadata": {k: meta[k] for k in ("name", "uid", "resourceVersion", "labels",
                                          "deletionTimestamp") if k in meta},
        "spec": {k: spec[k] for k in ("providerID", "taints", "unschedulable") if k in spec},
        "status": {"conditions": [c for c in _list(status.get("conditions"))
                                  if _mapping(c).get("type") == "Ready"],
                   "addresses": _list(status.get("addresses"))},
    }


_MEMO_SIZE = 4
_memo: dict[tuple[Any, ...], tuple[Backend, ...]] = {}
_memo_lock = threading.Lock()


def _identity(nodes: list[Mapping[str, Any]], settings: TranslateSettings) -> tuple[Any, ...] | None:
    """(settings, each node's uid and resourceVersion): equal identities mean equal
    inputs, as a resourceVersion changes with every write and a uid is never reused
    (names and versions alone repeat across clusters). None when one is missing."""
    parts: list[tuple[Any, Any]] = []
    for node in nodes:
        meta = _mapping(node.get("metadata"))
        uid, version = meta.get("uid"), meta.get("resourceVersion")
        if not uid or not version:
            return None
        parts.append((uid, version))
    return (settings, tuple(parts))


def eligible_backends(nodes: Iterable[Mapping[str, Any]], settings: TranslateSettings
                      ) -> tuple[Backend, ...]:
    """The backends for every load balancer of this cluster, sorted by node name.

    Memoized on the node set's identity: every reconcile of a resync asks with the same
    nodes, and sharing one tuple instead of building one `Backend` per node per spec
    is the difference between 180 MB and 360 MB at 1,000 load balancers x 1,000 nodes
    (benchmarks, scale scenario)."""
    nodes = list(nodes)
    key = _identity(nodes, settings)
    if key is not None:
        with _memo_lock:
            found = _memo.get(key)
        if found is not None:
            return found
    result = _eligible_backends(nodes, settings)
    if key is not None:
        with _memo_lock:
            if len(_memo) >= _MEMO_SIZE:
                _memo.pop(next(iter(_memo)))
            _memo[key] = result
    return result


def _eligible_backends(nodes: list[Mapping[str, Any]], settings: TranslateSettings
                       ) -> tuple[Backend, ...]:
    chosen: dict[str, Backend] = {}
    for node in nodes:
        reason = ineligibility(node, settings)
        name = _mapping(node.get("metadata")).get("name")
        if reason is not None:
            log.debug("event=node_skipped node=%s reason=%r", name, reason)
            continue
        # a list from a cache never repeats a name; if it did, keep the first
        chosen.setdefault(name, _backend(node, settings))
    # Two nodes reporting one address (a misconfigured kubelet, a recycled IP) would make
    # duplicate members, which clouds reject (Octavia: 409) for every load balancer at
    # once: keep the first node by name per address.
    by_address: dict[str, Backend] = {}
    for name in sorted(chosen):
        backend = chosen[name]
        if backend.address in by_address:
            log.warning("event=node_skipped node=%s reason='address %s also on node %s'",
                        name, backend.address, by_address[backend.address].node_name)
            continue
        by_address[backend.address] = backend
    return tuple(sorted(by_address.values(), key=lambda b: b.node_name))


def node_fingerprint(nodes: Iterable[Mapping[str, Any]], settings: TranslateSettings) -> str:
    """A short stable digest of the eligible backend set (names, addresses, ids, zones).

    Equal fingerprints mean `update_backends` would change nothing. A string, so that it
    can be logged and compared across restarts.
    """
    digest = hashlib.sha256()
    for b in eligible_backends(nodes, settings):
        digest.update(f"{b.node_name}\0{b.address}\0{b.provider_id}\0{b.zone}\n".encode())
    return digest.hexdigest()[:16]
