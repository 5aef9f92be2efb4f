"""Which Ingresses are ours, and what an Ingress refers to. Pure predicates over raw dicts.

Selection, in the order Kubernetes defines it (networking.k8s.io/v1):

1. `spec.ingressClassName` names an IngressClass: ours when that IngressClass exists and
   its `spec.controller` is our controller name (`cloud-lb.io/ingress-controller` by
   default). A class that does not exist (yet) is nobody's: we wait for it.
2. else the deprecated annotation `kubernetes.io/ingress.class`: ours when its value is
   our class name (`IngressSettings.class_name`), as ingress-nginx and ingress-gce did.
3. else the cluster's default IngressClass (annotation
   `ingressclass.kubernetes.io/is-default-class: "true"`; with several, the newest, as
   the API server's admission plugin picks): ours when that class is ours.

Ingresses of other classes are never touched. The finalizer is per controller name
(`finalizer_for`), so an Ingress that switches to another class - even one served by
another cloud-lb instance - is recognisably ours to clean up, and only ours.

`references` lists the Services and Secrets an Ingress names (namespace/name keys), for
the controller's index that re-syncs an Ingress when one of them changes. It never
raises: an odd Ingress simply refers to less.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

DEFAULT_CONTROLLER_NAME = "cloud-lb.io/ingress-controller"
DEFAULT_CLASS_NAME = "cloud-lb"
DEFAULT_FINALIZER = "cloud-lb.io/ingress-cleanup"
LEGACY_CLASS_ANNOTATION = "kubernetes.io/ingress.class"
DEFAULT_CLASS_ANNOTATION = "ingressclass.kubernetes.io/is-default-class"

Obj = Mapping[str, Any]


@dataclass(frozen=True)
class IngressSettings:
    """How Ingresses become L7 load balancers in this cluster.

    - `controller_name`: the `spec.controller` of IngressClasses that are ours.
    - `class_name`: the value of the legacy `kubernetes.io/ingress.class` annotation
      that is ours.
    - `http_port` / `https_port`: the listener ports of every Ingress load balancer
      (80/443 in a cloud; the local provider's demo uses unprivileged ports).
    """

    enabled: bool = True
    controller_name: str = DEFAULT_CONTROLLER_NAME
    class_name: str = DEFAULT_CLASS_NAME
    http_port: int = 80
    https_port: int = 443

    def __post_init__(self) -> None:
        if not self.controller_name or not self.class_name:
            raise ValueError("IngressSettings.controller_name and class_name must not be empty")
        for port in (self.http_port, self.https_port):
            if not 1 <= port <= 65535:
                raise ValueError(f"Ingress listener port must be in 1..65535, got {port}")
        if self.http_port == self.https_port:
            raise ValueError("Ingress http_port and https_port must differ")

    @property
    def finalizer(self) -> str:
        return finalizer_for(self.controller_name)


def finalizer_for(controller_name: str) -> str:
    """Our finalizer on Ingresses: fixed for the default controller name, else suffixed
    with a digest of the name (a controller name may hold several '/', a finalizer may
    not), so two cloud-lb instances never release each other's Ingresses."""
    if controller_name == DEFAULT_CONTROLLER_NAME:
        return DEFAULT_FINALIZER
    digest = hashlib.sha256(controller_name.encode()).hexdigest()[:10]
    return f"{DEFAULT_FINALIZER}-{digest}"


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _meta(obj: Obj) -> Mapping[str, Any]:
    return _mapping(obj.get("metadata"))


def class_name_of(ingress: Obj) -> str | None:
    value = _mapping(ingress.get("spec")).get("ingressClassName")
    return value if isinstance(value, str) and value else None


def legacy_class_of(ingress: Obj) -> str | None:
    value = _mapping(_meta(ingress).get("annotations")).get(LEGACY_CLASS_ANNOTATION)
    return value if isinstance(value, str) and value else None


def is_default_class(ingress_class: Obj) -> bool:
    value = _mapping(_meta(ingress_class).get("annotations")).get(DEFAULT_CLASS_ANNOTATION)
    return isinstance(value, str) and value.strip().lower() == "true"


def default_class(classes: Iterable[Obj]) -> Obj | None:
    """The cluster's default IngressClass: the newest of those marked default."""
    defaults = [c for c in classes if is_default_class(c)]
    if not defaults:
        return None
    return max(defaults, key=lambda c: (str(_meta(c).get("creationTimestamp") or ""),
                                        str(_meta(c).get("name") or "")))


def controller_of(ingress_class: Obj) -> str | None:
    value = _mapping(ingress_class.get("spec")).get("controller")
    return value if isinstance(value, str) else None


def is_ours(ingress: Obj, classes: Iterable[Obj], settings: IngressSettings) -> bool:
    """Whether this controller serves the Ingress (see the module docstring)."""
    name = class_name_of(ingress)
    if name is not None:
        match = next((c for c in classes if _meta(c).get("name") == name), None)
        return match is not None and controller_of(match) == settings.controller_name
    legacy = legacy_class_of(ingress)
    if legacy is not None:
        return legacy == settings.class_name
    default = default_class(classes)
    return default is not None and controller_of(default) == settings.controller_name


def has_finalizer(obj: Obj, name: str) -> bool:
    return name in _list(_meta(obj).get("finalizers"))


def is_being_deleted(obj: Obj) -> bool:
    return bool(_meta(obj).get("deletionTimestamp"))


def needs_cleanup(ingress: Obj, classes: Iterable[Obj], settings: IngressSettings) -> bool:
    """Our finalizer is on it and it is being deleted or is no longer ours."""
    if not has_finalizer(ingress, settings.finalizer):
        return False
    return is_being_deleted(ingress) or not is_ours(ingress, classes, settings)


def should_enqueue(ingress: Obj, classes: Iterable[Obj], settings: IngressSettings) -> bool:
    classes = list(classes)
    return is_ours(ingress, classes, settings) or needs_cleanup(ingress, classes, settings)


@dataclass(frozen=True)
class IngressReferences:
    """The objects an Ingress names, as namespace/name keys."""

    services: frozenset[str] = frozenset()
    secrets: frozenset[str] = frozenset()


def _backend_service(backend: Any) -> str | None:
    name = _mapping(_mapping(backend).get("service")).get("name")
    return name if isinstance(name, str) and name else None


def references(ingress: Obj) -> IngressReferences:
    namespace = _meta(ingress).get("namespace") or "default"
    spec = _mapping(ingress.get("spec"))
    services: set[str] = set()
    if name := _backend_service(spec.get("defaultBackend")):
        services.add(name)
    for rule in _list(spec.get("rules")):
        for path in _list(_mapping(_mapping(rule).get("http")).get("paths")):
            if name := _backend_service(_mapping(path).get("backend")):
                services.add(name)
    secrets = {
        secret for tls in _list(spec.get("tls"))
        if isinstance(secret := _mapping(tls).get("secretName"), str) and secret
    }
    return IngressReferences(frozenset(f"{namespace}/{s}" for s in services),
                             frozenset(f"{namespace}/{s}" for s in secrets))
