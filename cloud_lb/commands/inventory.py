"""A one-shot read of the cluster for the offline commands (plan, status, gc): the
Services we manage, their specs and the nodes, with no informer and no writes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cloud_lb.kube.client import NODES, SERVICES, KubeAPI
from cloud_lb.model import LBRef, LoadBalancerSpec, ObjectKind
from cloud_lb.provider import Capabilities
from cloud_lb.translate.errors import TranslationError
from cloud_lb.translate.predicates import has_finalizer, FINALIZER, wants_load_balancer
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
        return self.ref.key


def read_managed(api: KubeAPI, settings: TranslateSettings,
                 capabilities: Capabilities) -> list[ManagedService]:
    services, _ = api.list_all(SERVICES)
    nodes, _ = api.list_all(NODES)
    out: list[ManagedService] = []
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
    return sorted(out, key=lambda m: m.key)


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
