"""Names and ownership tags of everything the provider creates. Pure.

Load balancer names follow OCCM (`kube_service_<cluster>_<namespace>_<name>`, at most
255 characters) so clusters migrating from the openstack-cloud-controller-manager can
adopt their load balancers. Names are for people and for adoption; ownership is the
tags: cluster, object (kind/namespace/name) and UID on the load balancer, cluster and
UID on each child and floating IP, so lists can filter by them server side.

Neutron limits a tag to 60 characters, so a cluster name too long for that is replaced
by a hash in Neutron tags (Octavia allows 255).
"""

from __future__ import annotations

import hashlib

from cloud_lb.model import LBRef, ObjectKind

PREFIX = "cloud-lb:"
CLUSTER = PREFIX + "cluster="
OBJECT = PREFIX + "object="
UID = PREFIX + "uid="
ALLOCATED = PREFIX + "allocated"  # on a floating IP: we allocated it, we may release it
NEUTRON_TAG_MAX = 60
NAME_MAX = 255


def lb_name(ref: LBRef) -> str:
    prefix = "kube_service_" if ref.kind is ObjectKind.SERVICE else "kube_ingress_"
    return f"{prefix}{ref.cluster}_{ref.namespace}_{ref.name}"[:NAME_MAX]


def child_name(kind: str, protocol: str, port: int, ref: LBRef) -> str:
    """listener_TCP_80_<lb name>, pool_..., monitor_...: stable across port reordering."""
    return f"{kind}_{protocol}_{port}_{lb_name(ref)}"[:NAME_MAX]


def backend_child_name(kind: str, backend: str, ref: LBRef) -> str:
    """pool_<ns>-<service>-<port>_<lb name>, monitor_...: an Ingress backend's objects."""
    return f"{kind}_{backend}_{lb_name(ref)}"[:NAME_MAX]


def cluster_tag(cluster: str) -> str:
    return CLUSTER + cluster


def neutron_cluster_tag(cluster: str) -> str:
    tag = CLUSTER + cluster
    if len(tag) <= NEUTRON_TAG_MAX:
        return tag
    return CLUSTER + "sha256-" + hashlib.sha256(cluster.encode()).hexdigest()[:24]


def uid_tag(uid: str) -> str:
    return UID + uid


def lb_tags(ref: LBRef) -> list[str]:
    return [cluster_tag(ref.cluster), f"{OBJECT}{ref.kind.value}/{ref.namespace}/{ref.name}",
            uid_tag(ref.uid)]


def child_tags(ref: LBRef) -> list[str]:
    return [cluster_tag(ref.cluster), uid_tag(ref.uid)]


def floating_ip_tags(ref: LBRef) -> list[str]:
    return [neutron_cluster_tag(ref.cluster), uid_tag(ref.uid), ALLOCATED]


def is_ours(tags: list[str] | None, ref: LBRef) -> bool:
    got = set(tags or [])
    return cluster_tag(ref.cluster) in got and uid_tag(ref.uid) in got


def has_our_tags(tags: list[str] | None) -> bool:
    return any(t.startswith(PREFIX) for t in tags or [])


def ref_from_tags(tags: list[str] | None, cluster: str) -> LBRef | None:
    """The LBRef a load balancer's tags describe, if they are complete and this cluster's."""
    got = list(tags or [])
    if cluster_tag(cluster) not in got:
        return None
    obj = next((t[len(OBJECT):] for t in got if t.startswith(OBJECT)), None)
    uid = next((t[len(UID):] for t in got if t.startswith(UID)), None)
    if obj is None or not uid:
        return None
    kind, _, rest = obj.partition("/")
    namespace, _, name = rest.partition("/")
    try:
        return LBRef(cluster=cluster, kind=ObjectKind(kind), namespace=namespace, name=name,
                     uid=uid)
    except ValueError:
        return None


def description(ref: LBRef) -> str:
    return f"cloud-lb {ref.kind.value} {ref.namespace}/{ref.name} (cluster {ref.cluster})"[:255]


def barbican_prefix(ref: LBRef) -> str:
    """Barbican has no tags: our secrets and containers are the ones named with this
    prefix, a hash of cluster and UID (another cluster's or object's never match)."""
    return f"cloud-lb_{ref.short_hash(16)}_"


def container_name(ref: LBRef, cert_name: str, fingerprint: str) -> str:
    """The certificate container of one TLS Secret's content: a new fingerprint (the
    Secret rotated) is a new container, so a rotation never rewrites one in use."""
    return f"{barbican_prefix(ref)}{cert_name[:190]}_{fingerprint}"
