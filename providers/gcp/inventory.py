"""What the cluster owns across the project, and the shared groups nobody uses any more.

`owned_refs` (for `cloud-lb gc`) lists every collection a load balancer of ours may
have pieces in (the Services' regional and the Ingresses' global ones) with
`name eq "k8s-.*"` and keeps what names our cluster, so half-built load balancers are
found too. `release_groups` deletes the cluster's per-zone instance groups once no
backend service (regional or global, any cluster's: GCE would refuse anyway) uses them.
"""

from __future__ import annotations

import logging

from google.api_core import exceptions as gexc

from cloud_lb.model import LBRef
from providers.gcp import naming
from providers.gcp.clients import Compute, error_reason
from providers.gcp.errors import cloud_errors
from providers.gcp.instance_groups import InstanceGroups

log = logging.getLogger(__name__)

OWNED_KINDS = (
    "forwardingRule",
    "backendService",
    "healthCheck",
    "address",
    "firewall",
    "globalForwardingRule",
    "globalBackendService",
    "globalHealthCheck",
    "globalAddress",
    "urlMap",
    "targetHttpProxy",
    "targetHttpsProxy",
    "sslCertificate",
)


def owned_refs(compute: Compute, *, cluster: str) -> list[LBRef]:
    found: dict[str, LBRef] = {}
    for kind in OWNED_KINDS:
        with cloud_errors(f"list {kind}"):
            items = compute.list_resources(kind, filter='name eq "k8s-.*"')
        for item in items:
            owner = naming.owner(item.get("description"))
            if owner is None or owner.cluster != cluster:
                continue
            ref = owner.ref()
            if ref is not None:
                found.setdefault(ref.uid, ref)
    return sorted(found.values(), key=lambda r: (r.namespace, r.name, r.uid))


def release_groups(
    compute: Compute,
    groups: InstanceGroups,
    zones: list[str],
    *,
    cluster: str,
    deadline: float,
) -> None:
    """Delete the shared instance groups that no backend service uses any more.

    A group someone starts using meanwhile makes the delete fail with
    resourceInUseByAnotherResource, which is fine: it stays."""
    with cloud_errors("list backend services"):
        services = compute.list_resources("backendService")
        services += compute.list_resources("globalBackendService")
    used = {naming.relative(b.get("group", "")) for s in services for b in s.get("backends", [])}
    for zone in zones:
        if groups.link(zone) in used:
            continue
        with cloud_errors(f"read instance group {zone}/{groups.name}"):
            group = compute.get("instanceGroup", groups.name, zone=zone)
        if group is None or not naming.shared_owned_by(group.get("description"), cluster):
            continue
        try:
            with cloud_errors(f"delete instance group {zone}/{groups.name}"):
                try:
                    compute.delete("instanceGroup", groups.name, zone=zone, deadline=deadline)
                except gexc.BadRequest as exc:
                    if error_reason(exc) not in (
                        "resourceInUseByAnotherResource",
                        "resourceNotReady",
                    ):
                        raise
                    continue  # someone uses it again: keep it
        finally:
            groups.forget()
        log.info("gcp_instance_group_deleted zone=%s name=%s", zone, groups.name)
