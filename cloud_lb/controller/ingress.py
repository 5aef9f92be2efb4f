"""The Ingress reconciler: one Ingress key in, its L7 load balancer and status converged.

The same decisions as the Service reconciler (`service.py`), over an Ingress:

1. gone from the cache → delete what we built for it (if we saw it);
2. `needs_cleanup` (our per-controller finalizer, and being deleted or no longer of our
   class) → delete the load balancer, clear status, remove the finalizer;
3. not ours → nothing;
4. ours → finalizer first, translate with the Services and Secrets it names (an error
   → an `InvalidIngressSpec` event and no cloud call; a missing Service or Secret → an
   `InvalidIngressSpec` warning naming what is skipped, the rest is served), then the
   cheapest converging call: nothing, `update_backends` (only nodes changed) or
   `ensure`; `status.loadBalancer.ingress` written only when it differs.

Events carry the reasons of the Service path (`EnsuringLoadBalancer`,
`EnsuredLoadBalancer`, `UpdatedLoadBalancer`, `SyncLoadBalancerFailed`,
`DeletingLoadBalancer`, `DeletedLoadBalancer`) on the Ingress.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from cloud_lb.controller.outcomes import Outcome, Result, SyncRecord
from cloud_lb.controller.records import RecordKeeper
from cloud_lb.kube import writers
from cloud_lb.kube.client import KubeAPI
from cloud_lb.kube.errors import APIConflictError, APIError, APINotFoundError
from cloud_lb.kube.events import EventRecorder
from cloud_lb.model import LBRef, LoadBalancerStatus, ObjectKind
from cloud_lb.provider import LoadBalancerProvider
from cloud_lb.translate.errors import TranslationError
from cloud_lb.translate.ingress import INVALID_REASON, ingress_to_spec
from cloud_lb.translate.ingress_class import (
    IngressSettings,
    is_ours,
    needs_cleanup,
    references,
)
from cloud_lb.translate.settings import TranslateSettings

log = logging.getLogger(__name__)

Obj = dict[str, Any]
API_VERSION = "networking.k8s.io/v1"


@dataclass
class IngressRecord(SyncRecord):
    warnings: frozenset[str] = field(default_factory=frozenset)


class IngressReconciler(RecordKeeper[IngressRecord]):
    record_type = IngressRecord
    invalid_reason = INVALID_REASON
    log_key = "ingress"
    announce_first_ensure = True

    def __init__(self, *, api: KubeAPI, lookup: Callable[[str], Obj | None],
                 classes: Callable[[], Iterable[Obj]], services: Callable[[str], Obj | None],
                 secrets: Callable[[str], Obj | None], nodes: Callable[[], Iterable[Obj]],
                 provider: LoadBalancerProvider, settings: TranslateSettings,
                 ingress_settings: IngressSettings, events: EventRecorder) -> None:
        self.api = api
        self.lookup = lookup
        self.classes = classes
        self.services = services
        self.secrets = secrets
        self.nodes = nodes
        self.provider = provider
        self.settings = settings
        self.ingress_settings = ingress_settings
        self.events = events
        self.patch_status = api.patch_ingress_status
        super().__init__()

    # -- the decision ---------------------------------------------------------------------
    def reconcile(self, key: str, *, check_drift: bool = False) -> Outcome:
        cached = self.lookup(key)
        if cached is None:
            return self._forget_deleted(key)
        ingress = _typed(cached)
        classes = list(self.classes())
        if needs_cleanup(ingress, classes, self.ingress_settings):
            return self._cleanup(key, ingress)
        if not is_ours(ingress, classes, self.ingress_settings):
            return Outcome(Result.SKIPPED)
        return self._sync(key, ingress, check_drift=check_drift)

    def _ref(self, ingress: Obj) -> LBRef:
        meta = ingress["metadata"]
        return LBRef(cluster=self.settings.cluster_name, kind=ObjectKind.INGRESS,
                     namespace=meta["namespace"], name=meta["name"], uid=meta["uid"])

    def _sync(self, key: str, ingress: Obj, *, check_drift: bool) -> Outcome:
        ref = self._ref(ingress)
        record = self._record_for(key, ref)
        try:
            ingress = _typed(writers.add_finalizer(self.api, ingress, self.ingress_settings.finalizer,
                                                   patch=self.api.patch_ingress))
        except APIConflictError as exc:
            return Outcome(Result.ERROR, retry_after=0.5, message=str(exc))
        except APINotFoundError:
            return Outcome(Result.SKIPPED)
        except APIError as exc:  # the API server is down or throttling: back off, no crash
            return Outcome(Result.ERROR, message=f"adding finalizer: {exc}")
        refs = references(ingress)
        services = {k: s for k in refs.services if (s := self.services(k)) is not None}
        secrets = {k: s for k in refs.secrets if (s := self.secrets(k)) is not None}
        try:
            result = ingress_to_spec(ingress, self.nodes(), services=services, secrets=secrets,
                                     settings=self.settings,
                                     ingress_settings=self.ingress_settings,
                                     capabilities=self.provider.capabilities)
        except TranslationError as exc:
            return self._invalid(record, ingress, str(exc))
        record.invalid_message = None
        self._warn(record, ingress, [str(w) for w in result.warnings])
        return self._converge(record, ingress, result.spec, check_drift=check_drift)

    def _warn(self, record: IngressRecord, ingress: Obj, warnings: list[str]) -> None:
        for message in warnings:
            if message not in record.warnings:
                self.events.warning(ingress, INVALID_REASON, message)
        record.warnings = frozenset(warnings)

    def _wanted_status(self, status: LoadBalancerStatus) -> dict[str, Any]:
        return writers.ingress_status(status.to_kube())

    # -- deletion -------------------------------------------------------------------------
    def _cleanup(self, key: str, ingress: Obj) -> Outcome:
        return self._release(key, ingress, self._ref(ingress),
                             finalizer=self.ingress_settings.finalizer,
                             patch_object=self.api.patch_ingress, retype=_typed)


def _typed(ingress: Obj) -> Obj:
    """Cached list items carry no kind; events name the object's kind and apiVersion."""
    return {**ingress, "kind": "Ingress", "apiVersion": API_VERSION}
