"""Pure decisions about one Service: is it ours, does it want a load balancer, must its
load balancer be cleaned up. Modelled on the cloud-provider service controller's
`wantsLoadBalancer` / `needsCleanup`, extended for `spec.loadBalancerClass`.

Objects are raw dicts as the API returns them (camelCase keys). Nothing here raises on
odd input: a predicate answers False for what it cannot read.

Why `needs_cleanup` looks at the class: the finalizer name is the standard one that the
upstream CCM and every other cloud-lb instance (with another class) use too. A Service
of another class that carries it belongs to that other controller, and cleaning it up
would delete that controller's load balancer, so a foreign class is never cleaned up,
even while being deleted. The API server wipes `loadBalancerClass` when the type changes
away from LoadBalancer, so a non-LoadBalancer Service with the finalizer and no class is
cleaned up: `delete` is idempotent and ownership-checked, so that is safe even when we
never created anything for it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from cloud_lb.translate.settings import TranslateSettings

FINALIZER = "service.kubernetes.io/load-balancer-cleanup"
LOAD_BALANCER = "LoadBalancer"


def _spec(obj: Mapping[str, Any]) -> Mapping[str, Any]:
    spec = obj.get("spec")
    return spec if isinstance(spec, Mapping) else {}


def _metadata(obj: Mapping[str, Any]) -> Mapping[str, Any]:
    meta = obj.get("metadata")
    return meta if isinstance(meta, Mapping) else {}


def load_balancer_class(service: Mapping[str, Any]) -> str | None:
    """`spec.loadBalancerClass`, or None when unset or empty."""
    value = _spec(service).get("loadBalancerClass")
    return value if isinstance(value, str) and value else None


def is_ours_by_class(service: Mapping[str, Any], settings: TranslateSettings) -> bool:
    """Unset class: ours unless `manage_unclassed` is off. Set: ours only if equal."""
    cls = load_balancer_class(service)
    if cls is None:
        return settings.manage_unclassed
    return cls == settings.load_balancer_class


def is_foreign_class(service: Mapping[str, Any], settings: TranslateSettings) -> bool:
    """The Service names a class, and it is not ours."""
    cls = load_balancer_class(service)
    return cls is not None and cls != settings.load_balancer_class


def is_load_balancer_type(service: Mapping[str, Any]) -> bool:
    return _spec(service).get("type") == LOAD_BALANCER


def wants_load_balancer(service: Mapping[str, Any], settings: TranslateSettings) -> bool:
    """`type: LoadBalancer` and of our class: this controller must ensure its LB."""
    return is_load_balancer_type(service) and is_ours_by_class(service, settings)


def is_being_deleted(obj: Mapping[str, Any]) -> bool:
    return bool(_metadata(obj).get("deletionTimestamp"))


def has_finalizer(obj: Mapping[str, Any], name: str) -> bool:
    finalizers = _metadata(obj).get("finalizers")
    return isinstance(finalizers, list) and name in finalizers


def needs_cleanup(service: Mapping[str, Any], settings: TranslateSettings) -> bool:
    """The Service carries our finalizer and its load balancer must go.

    True when it is being deleted (and is of our class), or is no longer of type
    LoadBalancer (and names no foreign class). Never for a foreign class: see the
    module docstring.
    """
    if not has_finalizer(service, FINALIZER):
        return False
    if is_being_deleted(service):
        return is_ours_by_class(service, settings)
    if not is_load_balancer_type(service):
        return not is_foreign_class(service, settings)
    return False


def should_enqueue(service: Mapping[str, Any], settings: TranslateSettings) -> bool:
    """Whether the informer should hand this Service to the reconciler at all."""
    return wants_load_balancer(service, settings) or needs_cleanup(service, settings)
