"""Names and descriptions of the GCE resources of one load balancer.

Names: `k8s-<hash>` where the hash is of cluster and object UID (`LBRef.short_hash`),
so a Service keeps its names across renames and two clusters never collide, and every
name matches GCE's `[a-z]([-a-z0-9]*[a-z0-9])?` within 63 characters:

    address, health check, backend service   k8s-<hash>
    forwarding rules (one per protocol)      k8s-<hash>-tcp, k8s-<hash>-udp
    firewall rules                           k8s-fw-<hash>, k8s-fw-<hash>-hc
    instance groups (shared, one per zone)   k8s-ig--<cluster hash>

An Ingress's global Application Load Balancer (`ingress_*`), all under `k8s-<hash>-`,
so one filtered list per collection finds every piece, stale ones included:

    global address                           k8s-<hash>-ip
    health check + backend service           k8s-<hash>-be-<sha256(ns/svc:port)[:10]>
    the 404 backend service                  k8s-<hash>-be-404
    URL map, HTTP->HTTPS redirect URL map    k8s-<hash>-um, k8s-<hash>-rm
    target HTTP / HTTPS proxy                k8s-<hash>-tp, k8s-<hash>-ts
    SSL certificate (per Secret content)     k8s-<hash>-cr-<TLSCert.fingerprint>
    forwarding rules on HTTP / HTTPS         k8s-<hash>-fr, k8s-<hash>-fs
    firewall (Google's front ends to nodes)  k8s-<hash>-fw

Descriptions carry the owner as compact JSON, like cloud-provider-gcp's
`{"kubernetes.io/service-name":"ns/name"}`, plus the cluster and UID that ownership
checks need: a resource is ours only if its description names our cluster and the
object's UID. GCE resources of this kind have no labels (backend services, health
checks, firewalls), so the description is the one tag every resource can carry.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass

from cloud_lb.model import LBRef, ObjectKind

HASH_LENGTH = 20
NAME_RE = re.compile(r"[a-z](?:[-a-z0-9]{0,61}[a-z0-9])?")
CLUSTER_KEY = "kubernetes.io/cluster"
UID_KEY = "kubernetes.io/uid"
MANAGED_BY_KEY = "managed-by"
MANAGED_BY = "cloud-lb"
_OBJECT_KEYS = {
    ObjectKind.SERVICE: "kubernetes.io/service-name",
    ObjectKind.INGRESS: "kubernetes.io/ingress-name",
}


def _checked(name: str) -> str:
    if not NAME_RE.fullmatch(name):
        raise ValueError(f"generated GCE name {name!r} breaks GCE's naming rule")
    return name


def lb_name(ref: LBRef) -> str:
    return _checked(f"k8s-{ref.short_hash(HASH_LENGTH)}")


def forwarding_rule_name(ref: LBRef, protocol: str) -> str:
    return _checked(f"{lb_name(ref)}-{protocol.lower()}")


def firewall_name(ref: LBRef) -> str:
    return _checked(f"k8s-fw-{ref.short_hash(HASH_LENGTH)}")


def health_check_firewall_name(ref: LBRef) -> str:
    return _checked(f"{firewall_name(ref)}-hc")


def ingress_prefix(ref: LBRef) -> str:
    """What every resource name of an Ingress's load balancer starts with."""
    return f"{lb_name(ref)}-"


def ingress_filter(ref: LBRef) -> str:
    """The list filter that finds an Ingress's resources (GCE's RE2 full match)."""
    return f'name eq "{ingress_prefix(ref)}.*"'


def ingress_name(ref: LBRef, part: str) -> str:
    """`k8s-<hash>-<part>` for the fixed parts: ip, um, rm, tp, ts, fr, fs, fw."""
    return _checked(f"{ingress_prefix(ref)}{part}")


def ingress_backend_name(ref: LBRef, service: str | None, port: int = 0) -> str:
    """Health check and backend service of one backend Service port (None: the 404
    backend). Hashed, so any namespace/name length fits; stable across node ports."""
    if service is None:
        return ingress_name(ref, "be-404")
    digest = hashlib.sha256(f"{service}:{port}".encode()).hexdigest()[:10]
    return ingress_name(ref, f"be-{digest}")


def ingress_certificate_name(ref: LBRef, fingerprint: str) -> str:
    """A certificate per content: rotation is a new name, never an in-place change."""
    return ingress_name(ref, f"cr-{fingerprint[:16]}")


def named_port(node_port: int) -> str:
    """The instance groups' named port for a node port (ingress-gce's spelling)."""
    return f"port{node_port}"


def instance_group_name(cluster: str) -> str:
    digest = hashlib.sha256(cluster.encode()).hexdigest()[:16]
    return _checked(f"k8s-ig--{digest}")


def describe(ref: LBRef) -> str:
    """The description every per-object resource carries."""
    return json.dumps(
        {
            _OBJECT_KEYS[ref.kind]: ref.key,
            CLUSTER_KEY: ref.cluster,
            UID_KEY: ref.uid,
            MANAGED_BY_KEY: MANAGED_BY,
        },
        sort_keys=True,
        separators=(",", ":"),
    )


def describe_shared(cluster: str, what: str) -> str:
    """The description of a resource shared by the cluster's load balancers."""
    return json.dumps(
        {CLUSTER_KEY: cluster, MANAGED_BY_KEY: MANAGED_BY, "purpose": what},
        sort_keys=True,
        separators=(",", ":"),
    )


@dataclass(frozen=True)
class Owner:
    cluster: str
    uid: str
    kind: ObjectKind | None
    key: str  # namespace/name

    def ref(self) -> LBRef | None:
        namespace, _, name = self.key.partition("/")
        if self.kind is None or not namespace or not name or not self.uid:
            return None
        return LBRef(
            cluster=self.cluster, kind=self.kind, namespace=namespace, name=name, uid=self.uid
        )


def owner(description: str | None) -> Owner | None:
    """Who a description says owns the resource; None if it is not cloud-lb's JSON."""
    if not description:
        return None
    try:
        data = json.loads(description)
    except ValueError:
        return None
    if not isinstance(data, dict) or data.get(MANAGED_BY_KEY) != MANAGED_BY:
        return None
    cluster = data.get(CLUSTER_KEY)
    if not isinstance(cluster, str):
        return None
    for kind, key in _OBJECT_KEYS.items():
        if isinstance(data.get(key), str):
            return Owner(cluster, str(data.get(UID_KEY, "")), kind, data[key])
    return Owner(cluster, "", None, "")


def owned_by(description: str | None, ref: LBRef) -> bool:
    found = owner(description)
    return found is not None and found.cluster == ref.cluster and found.uid == ref.uid


def shared_owned_by(description: str | None, cluster: str) -> bool:
    found = owner(description)
    return found is not None and found.cluster == cluster and found.kind is None


def relative(link: str) -> str:
    """`projects/...` part of a Compute link, whatever host it names."""
    marker = "/compute/v1/"
    return link.split(marker, 1)[1] if marker in link else link


def provider_id(project: str, region: str, ref: LBRef) -> str:
    return f"gce://{project}/{region}/{lb_name(ref)}"
