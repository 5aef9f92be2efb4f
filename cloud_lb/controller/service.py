"""The Service reconciler: one key in, the cloud and the Service's status converged.

The shape of the cloud-provider service controller's `syncService`, split by decision:

1. gone from the cache → delete what we built for it (we only know it if we saw it);
2. `needs_cleanup` (our finalizer, and deleted or no longer LoadBalancer; never for a
   foreign class, whose finalizer may be another cloud-lb instance's) → delete the
   load balancer, clear status, remove the finalizer;
3. not ours → nothing;
4. ours → finalizer first (before any cloud call), translate (bad input → an
   `InvalidLoadBalancerSpec` event, no cloud call), then the cheapest cloud operation
   that converges: nothing when the spec equals the last one applied, `update_backends`
   when only the nodes changed, `ensure` otherwise or when a resync asks for a drift
   check; status patched only when it differs.

Outcomes are returned, not raised, so the worker decides about requeueing in one place.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import Any

from cloud_lb.kube import writers
from cloud_lb.kube.client import KubeAPI
from cloud_lb.kube.errors import APIConflictError, APIError, APINotFoundError
from cloud_lb.kube.events import EventRecorder
from cloud_lb.controller.outcomes import Outcome, Result, SyncRecord
from cloud_lb.controller.records import RecordKeeper
from cloud_lb.model import LBRef, ObjectKind
from cloud_lb.provider import LoadBalancerProvider
from cloud_lb.translate.errors import TranslationError
from cloud_lb.translate.predicates import FINALIZER, needs_cleanup, wants_load_balancer
from cloud_lb.translate.service import service_to_spec
from cloud_lb.translate.settings import TranslateSettings

log = logging.getLogger(__name__)

Obj = dict[str, Any]


class ServiceReconciler(RecordKeeper[SyncRecord]):
    record_type = SyncRecord
    invalid_reason = "InvalidLoadBalancerSpec"
    log_key = "service"

    def __init__(self, *, api: KubeAPI, lookup: Callable[[str], Obj | None],
                 nodes: Callable[[], Iterable[Obj]], provider: LoadBalancerProvider,
                 settings: TranslateSettings, events: EventRecorder,
                 endpoint_slices: Callable[[str], Iterable[Obj]] | None = None) -> None:
        self.api = api
        self.lookup = lookup
        self.nodes = nodes
        self.provider = provider
        self.settings = settings
        self.events = events
        self.endpoint_slices = endpoint_slices
        super().__init__()

    # -- the decision ---------------------------------------------------------------------
    def reconcile(self, key: str, *, check_drift: bool = False) -> Outcome:
        service = self.lookup(key)
        if service is None:
            return self._forget_deleted(key)
        if needs_cleanup(service, self.settings):
            return self._cleanup(key, service)
        if not wants_load_balancer(service, self.settings):
            return Outcome(Result.SKIPPED)
        return self._sync(key, service, check_drift=check_drift)

    def _ref(self, service: Obj) -> LBRef:
        meta = service["metadata"]
        return LBRef(cluster=self.settings.cluster_name, kind=ObjectKind.SERVICE,
                     namespace=meta["namespace"], name=meta["name"], uid=meta["uid"])

    def _sync(self, key: str, service: Obj, *, check_drift: bool) -> Outcome:
        ref = self._ref(service)
        record = self._record_for(key, ref)
        try:
            service = writers.add_finalizer(self.api, service, FINALIZER)
        except APIConflictError as exc:
            return Outcome(Result.ERROR, retry_after=0.5, message=str(exc))
        except APINotFoundError:
            return Outcome(Result.SKIPPED)
        except APIError as exc:  # the API server is down or throttling: back off, no crash
            return Outcome(Result.ERROR, message=f"adding finalizer: {exc}")
        try:
            spec = service_to_spec(service, self.nodes(), settings=self.settings,
                                   capabilities=self.provider.capabilities,
                                   endpoint_slices=self._slices(key))
        except TranslationError as exc:
            return self._invalid(record, service, str(exc))
        record.invalid_message = None

        return self._converge(record, service, spec, check_drift=check_drift)

    def _slices(self, key: str) -> Iterable[Obj]:
        return self.endpoint_slices(key) if self.endpoint_slices else ()

    # -- deletion -------------------------------------------------------------------------
    def _cleanup(self, key: str, service: Obj) -> Outcome:
        return self._release(key, service, self._ref(service), finalizer=FINALIZER)
