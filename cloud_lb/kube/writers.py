"""The writes the reconcilers make to the objects they manage: finalizers and status.

Finalizer changes carry the object's resourceVersion, so a concurrent writer makes us
fail with a conflict (and requeue) rather than clobber its list. Status is written as a
merge patch of `status.loadBalancer` only, and only by callers that saw it differ.
"""

from __future__ import annotations

from typing import Any

from cloud_lb.kube.client import KubeAPI

Obj = dict[str, Any]


def finalizers(obj: Obj) -> list[str]:
    return list((obj.get("metadata") or {}).get("finalizers") or [])


def _meta(obj: Obj) -> tuple[str, str]:
    meta = obj["metadata"]
    return meta["namespace"], meta["name"]


def add_finalizer(api: KubeAPI, obj: Obj, finalizer: str) -> Obj:
    current = finalizers(obj)
    if finalizer in current:
        return obj
    namespace, name = _meta(obj)
    body = {"metadata": {"finalizers": [*current, finalizer],
                         "resourceVersion": obj["metadata"]["resourceVersion"]}}
    return api.patch_service(namespace, name, body)


def remove_finalizer(api: KubeAPI, obj: Obj, finalizer: str) -> Obj:
    current = finalizers(obj)
    if finalizer not in current:
        return obj
    namespace, name = _meta(obj)
    remaining = [f for f in current if f != finalizer]
    body = {"metadata": {"finalizers": remaining or None,
                         "resourceVersion": obj["metadata"]["resourceVersion"]}}
    return api.patch_service(namespace, name, body)


def load_balancer_status(obj: Obj) -> dict[str, Any]:
    return ((obj.get("status") or {}).get("loadBalancer")) or {}


def patch_load_balancer_status(api: KubeAPI, obj: Obj, status: dict[str, Any]) -> Obj:
    """Set `status.loadBalancer` to `status` ({} clears it)."""
    namespace, name = _meta(obj)
    ingress = status.get("ingress") or None
    return api.patch_service_status(namespace, name,
                                    {"status": {"loadBalancer": {"ingress": ingress}}})
