"""Names and ownership tags of everything the AWS provider creates.

Names are stable functions of (cluster, UID) so that a crash between two calls is
recovered by finding the resource by name (adopt, don't duplicate):

    load balancer   k8s-<ns:8>-<name:8>-<h10>        h10 = sha256(cluster/uid)[:10]
    target group    k8s-<ns:8>-<name:8>-<h5><t5>     t5 = hash of the group's immutable
                                                      settings (protocol, node port)
    security group  k8s-<ns:8>-<name:8>-<h10>
    backend group   k8s-traffic-<cluster:16>-<sha256(cluster)[:10]>   (one per cluster)

ELBv2 names are at most 32 characters of [A-Za-z0-9-], no leading/trailing hyphen, no
"--", and must not start with "internal-"; `k8s-` plus two sanitised 8-character parts
plus a 10-character hash is exactly 32 and obeys all of that. The target group's first
five hash characters are the load balancer's, so orphaned groups of one Service can be
recognised by name before their tags are read.

Ownership is decided by tags only, never by name: `kubernetes.io/cluster/<cluster>=owned`
and `cloud-lb.io/uid=<uid>` must both be present. An Ingress's ALB and target groups are
named like a Service's NLB (the UID tells them apart; `cloud-lb.io/kind` says which
object), and `kubernetes.io/service-name` holds the Ingress's namespace/name. ACM
certificates have no name: they are found by these tags (Resource Groups Tagging API).
"""

from __future__ import annotations

import hashlib
import re

from cloud_lb.model import LBRef, ObjectKind

CLUSTER_TAG_PREFIX = "kubernetes.io/cluster/"
SERVICE_NAME_TAG = "kubernetes.io/service-name"
UID_TAG = "cloud-lb.io/uid"
KIND_TAG = "cloud-lb.io/kind"
ROLE_TAG = "cloud-lb.io/role"
BACKEND_ROLE = "backend"
# records the static addresses an NLB was created with (immutable afterwards); see render
STATIC_ADDRESSES_TAG = "cloud-lb.io/static-addresses"
# an ACM certificate imported from a TLS Secret: which Secret, and a digest of its
# content (TLSCert.fingerprint) that tells a rotated Secret from the imported one
CERT_SECRET_TAG = "cloud-lb.io/tls-secret"
CERT_FINGERPRINT_TAG = "cloud-lb.io/tls-fingerprint"
OWNED = "owned"
RESERVED_TAG_KEYS = frozenset(
    {
        SERVICE_NAME_TAG,
        UID_TAG,
        KIND_TAG,
        STATIC_ADDRESSES_TAG,
        ROLE_TAG,
        CERT_SECRET_TAG,
        CERT_FINGERPRINT_TAG,
    }
)

_ELB_NAME = re.compile(r"^(?!internal-)(?!-)(?!.*--)(?!.*-$)[A-Za-z0-9-]{1,32}$")
_NOT_ALNUM = re.compile(r"[^a-z0-9]")


def _part(value: str) -> str:
    return _NOT_ALNUM.sub("", value.lower())[:8] or "x"


def lb_hash(ref: LBRef) -> str:
    return hashlib.sha256(f"{ref.cluster}/{ref.uid}".encode()).hexdigest()[:10]


def name_prefix(ref: LBRef) -> str:
    return f"k8s-{_part(ref.namespace)}-{_part(ref.name)}-"


def load_balancer_name(ref: LBRef) -> str:
    return name_prefix(ref) + lb_hash(ref)


def security_group_name(ref: LBRef) -> str:
    return name_prefix(ref) + lb_hash(ref)


def backend_security_group_name(cluster: str) -> str:
    digest = hashlib.sha256(cluster.encode()).hexdigest()[:10]
    return f"k8s-traffic-{_NOT_ALNUM.sub('', cluster.lower())[:16] or 'x'}-{digest}"


def backend_tags(cluster: str) -> dict[str, str]:
    """The cluster's shared backend group: ours by cluster, no UID (no one Service owns it)."""
    return {cluster_tag(cluster): OWNED, ROLE_TAG: BACKEND_ROLE}


def is_backend_group(tags: dict[str, str], cluster: str) -> bool:
    return tags.get(cluster_tag(cluster)) == OWNED and tags.get(ROLE_TAG) == BACKEND_ROLE


def target_group_name(ref: LBRef, *, protocol: str, node_port: int) -> str:
    settings = hashlib.sha256(f"{protocol}/{node_port}".encode()).hexdigest()[:5]
    return name_prefix(ref) + lb_hash(ref)[:5] + settings


def is_target_group_of(name: str, ref: LBRef) -> bool:
    """Whether `name` has the shape of one of `ref`'s target group names."""
    prefix = name_prefix(ref) + lb_hash(ref)[:5]
    return name.startswith(prefix) and len(name) == len(prefix) + 5


def is_valid_elb_name(name: str) -> bool:
    return bool(_ELB_NAME.match(name))


def cluster_tag(cluster: str) -> str:
    return CLUSTER_TAG_PREFIX + cluster


def ownership_tags(ref: LBRef) -> dict[str, str]:
    return {
        cluster_tag(ref.cluster): OWNED,
        SERVICE_NAME_TAG: ref.key,
        UID_TAG: ref.uid,
        KIND_TAG: ref.kind.value,
    }


def is_owned(tags: dict[str, str], ref: LBRef) -> bool:
    """Tagged as this cluster's and this object's."""
    return tags.get(cluster_tag(ref.cluster)) == OWNED and tags.get(UID_TAG) == ref.uid


def ref_from_tags(tags: dict[str, str], cluster: str) -> LBRef | None:
    """The LBRef a resource of this cluster was created for, or None if it isn't ours."""
    if tags.get(cluster_tag(cluster)) != OWNED or not tags.get(UID_TAG):
        return None
    namespace, _, name = tags.get(SERVICE_NAME_TAG, "").partition("/")
    if not namespace or not name:
        return None
    try:
        kind = ObjectKind(tags.get(KIND_TAG, ObjectKind.SERVICE.value))
    except ValueError:
        return None
    return LBRef(cluster=cluster, kind=kind, namespace=namespace, name=name, uid=tags[UID_TAG])


def rule_description(ref: LBRef) -> str:
    """The description that marks a security group rule as this load balancer's.

    Rules have no name; the description is what `describe_security_groups` returns with
    each rule, so it is how we tell ours from the rest (we also tag rules, for people).
    """
    return f"cloud-lb/{ref.cluster}/{ref.uid}"


def shared_rule_description(cluster: str) -> str:
    """Rules many load balancers of one cluster need (node ports from the backend group,
    kube-proxy's health port from the VPC): created when missing, revoked only when the
    cluster's last NLB goes."""
    return f"cloud-lb/{cluster}/shared"


def tags_list(tags: dict[str, str]) -> list[dict[str, str]]:
    return [{"Key": k, "Value": v} for k, v in sorted(tags.items())]


def tags_dict(tags: list[dict[str, str]] | None) -> dict[str, str]:
    return {t["Key"]: t.get("Value", "") for t in tags or []}
