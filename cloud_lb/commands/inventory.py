"""A one-shot read of the cluster for the offline commands (plan, status, gc): the
Services and Ingresses we manage and their specs, with no informer and no writes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cloud_lb.kube.client import NODES, SERVICES, KubeAPI
from cloud_lb.model import LBRef, LoadBalancerSpec, ObjectKind
from cloud_lb.provider import Capabilities
from cloud_lb.translate.errors import TranslationError
from cloud_lb.translate.ingress_class import IngressSettings
from cloud_lb.translate.predicates import FINALIZER, has_finalizer, wants_load_balancer
from cloud_lb.translate.service import service_to_spec
from cloud_lb.translate.settings import TranslateSettings

Obj = dict[str, Any]


@dataclass
class ManagedService:
    service: Obj
    ref: LBRef
    spec: LoadBalancerSpec | None
    error: str | None
    wanted: bool  # False: has our finalizer but no longer wants a load balancer

    @property
    def key(self) -> str:
        """`namespace/name`, with the kind for anything but a Service."""
        return self.ref.key if self.ref.kind is ObjectKind.SERVICE else f"{self.ref.kind}:{self.ref.key}"


def read_managed(api: KubeAPI, settings: TranslateSettings, capabilities: Capabilities,
                 ingress: IngressSettings | None = None) -> list[ManagedService]:
    services, _ = api.list_all(SERVICES)
    nodes, _ = api.list_all(NODES)
    out: list[ManagedService] = []
    if ingress is not None and ingress.enabled and capabilities.l7:
        out.extend(_read_ingresses(api, services, nodes, settings, ingress, capabilities))
    for service in services:
        wanted = wants_load_balancer(service, settings)
        if not wanted and not has_finalizer(service, FINALIZER):
            continue
        meta = service["metadata"]
        ref = LBRef(cluster=settings.cluster_name, kind=ObjectKind.SERVICE,
                    namespace=meta["namespace"], name=meta["name"], uid=meta["uid"])
        spec, error = None, None
        if wanted and not meta.get("deletionTimestamp"):
            try:
                spec = service_to_spec(service, nodes, settings=settings, capabilities=capabilities)
            except TranslationError as exc:
                error = str(exc)
        out.append(ManagedService(service=service, ref=ref, spec=spec, error=error,
                                  wanted=wanted and not meta.get("deletionTimestamp")))
    return sorted(out, key=lambda m: (str(m.ref.kind), m.key))


def _read_ingresses(api: KubeAPI, services: list[Obj], nodes: list[Obj],
                    settings: TranslateSettings, ingress: IngressSettings,
                    capabilities: Capabilities) -> list[ManagedService]:
    from cloud_lb.kube.client import INGRESS_CLASSES, INGRESSES, TLS_SECRETS
    from cloud_lb.kube.informer import object_key
    from cloud_lb.translate import ingress_class
    from cloud_lb.translate.ingress import ingress_ref, ingress_to_spec

    classes, _ = api.list_all(INGRESS_CLASSES)
    secrets, _ = api.list_all(TLS_SECRETS)
    by_key = {object_key(s): s for s in services}
    secrets_by_key = {object_key(s): s for s in secrets}
    finalizer = ingress_class.finalizer_for(ingress.controller_name)
    out: list[ManagedService] = []
    for item in api.list_all(INGRESSES)[0]:
        wanted = ingress_class.is_ours(item, classes, ingress)
        if not wanted and not ingress_class.has_finalizer(item, finalizer):
            continue
        wanted = wanted and not ingress_class.is_being_deleted(item)
        ref = ingress_ref(item, settings)  # objects from the API always have name and uid
        spec, error = None, None
        if wanted:
            try:
                spec = ingress_to_spec(item, nodes, services=by_key, secrets=secrets_by_key,
                                       settings=settings, ingress_settings=ingress,
                                       capabilities=capabilities).spec
            except TranslationError as exc:
                error = str(exc)
        out.append(ManagedService(service=item, ref=ref, spec=spec, error=error, wanted=wanted))
    return out


def live_uids(api: KubeAPI) -> set[str]:
    """UIDs of every Service that still exists (an LB for any other uid is an orphan)."""
    services, _ = api.list_all(SERVICES)
    return {s["metadata"]["uid"] for s in services}


def live_ingress_uids(api: KubeAPI) -> set[str]:
    """UIDs of every Ingress that still exists."""
    from cloud_lb.kube.client import INGRESSES
    ingresses, _ = api.list_all(INGRESSES)
    return {i["metadata"]["uid"] for i in ingresses}


def add_common_arguments(parser: Any) -> None:
    parser.add_argument("--config", required=True, help="the cloud-lb config file (YAML)")
    parser.add_argument("--kubeconfig", help="kubeconfig file; in-cluster config when omitted")
