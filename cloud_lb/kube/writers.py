"""The writes the reconcilers make to the objects they manage: finalizers and status.

Finalizer changes carry the object's resourceVersion, so a concurrent writer makes us
fail with a conflict (and requeue) rather than clobber its list. Status is written as a
merge patch of `status.loadBalancer` only, and only by callers that saw it differ.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from cloud_lb.kube.client import KubeAPI

Obj = dict[str, Any]
Patch = Callable[[str, str, Any], Obj]


def finalizers(obj: Obj) -> list[str]:
    return list((obj.get("metadata") or {}).get("finalizers") or [])


def _meta(obj: Obj) -> tuple[str, str]:
    meta = obj["metadata"]
    return meta["namespace"], meta["name"]


def add_finalizer(api: KubeAPI, obj: Obj, finalizer: str, *, patch: Patch | None = None) -> Obj:
    """`patch` writes the object (default: `api.patch_service`)."""
    current = finalizers(obj)
    if finalizer in current:
        return obj
    namespace, name = _meta(obj)
    body = {"metadata": {"finalizers": [*current, finalizer],
                         "resourceVersion": obj["metadata"]["resourceVersion"]}}
    return (patch or api.patch_service)(namespace, name, body)


def remove_finalizer(api: KubeAPI, obj: Obj, finalizer: str, *,
                     patch: Patch | None = None) -> Obj:
    current = finalizers(obj)
    if finalizer not in current:
        return obj
    namespace, name = _meta(obj)
    remaining = [f for f in current if f != finalizer]
    body = {"metadata": {"finalizers": remaining or None,
                         "resourceVersion": obj["metadata"]["resourceVersion"]}}
    return (patch or api.patch_service)(namespace, name, body)


def load_balancer_status(obj: Obj) -> dict[str, Any]:
    return ((obj.get("status") or {}).get("loadBalancer")) or {}


def patch_load_balancer_status(api: KubeAPI, obj: Obj, status: dict[str, Any], *,
                               patch: Patch | None = None) -> Obj:
    """Set `status.loadBalancer` to `status` ({} clears it). `patch` writes the status
    subresource (default: `api.patch_service_status`)."""
    namespace, name = _meta(obj)
    ingress = status.get("ingress") or None
    return (patch or api.patch_service_status)(
        namespace, name, {"status": {"loadBalancer": {"ingress": ingress}}})


def ingress_status(status: dict[str, Any]) -> dict[str, Any]:
    """A Service's `status.loadBalancer` value reshaped for an Ingress: an Ingress's
    load balancer ingress points have `ip`, `hostname` and `ports`, no `ipMode`."""
    points = [{k: v for k, v in p.items() if k != "ipMode"} for p in status.get("ingress") or []]
    return {"ingress": points} if points else {}
