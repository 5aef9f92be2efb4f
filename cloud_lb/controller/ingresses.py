"""Ingress support in the controller process: its informers, index and queue keys.

    ingresses ──────┐
    ingressclasses ─┼─> "ingress:<ns>/<name>" keys ─> the shared work queue ─> IngressReconciler
    TLS secrets ────┤        (via the ReferenceIndex for Services and Secrets)
    services ───────┘

Services and Ingresses share one work queue (one rate limit, one set of workers);
Ingress keys carry the `ingress:` prefix, so a Service and an Ingress of the same name
never collapse into one key. The controller (manager.py) builds this only when Ingress
support is enabled and the provider has `capabilities.l7`, and hands it the keys that
start with the prefix.

What re-syncs an Ingress: its own events; an event of a Service or TLS Secret it names
(the index); any IngressClass event (a class created, switched to default or deleted
may change which Ingresses are ours - rare, so every Ingress is looked at); and, like
Services, a change of the eligible node set and the periodic resync.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from cloud_lb.controller.ingress import IngressReconciler
from cloud_lb.controller.references import SECRET, SERVICE, ReferenceIndex
from cloud_lb.controller.outcomes import Outcome
from cloud_lb.kube.client import INGRESS_CLASSES, INGRESSES, TLS_SECRETS, KubeAPI
from cloud_lb.kube.events import EventRecorder
from cloud_lb.kube.informer import Informer, object_key
from cloud_lb.provider import LoadBalancerProvider
from cloud_lb.translate.ingress_class import IngressSettings, references, should_enqueue
from cloud_lb.translate.settings import TranslateSettings

log = logging.getLogger(__name__)

PREFIX = "ingress:"
Obj = dict[str, Any]


def queue_key(key: str) -> str:
    return PREFIX + key


def is_ingress_key(key: str) -> bool:
    return key.startswith(PREFIX)


class IngressFeature:
    def __init__(self, *, api: KubeAPI, provider: LoadBalancerProvider,
                 settings: TranslateSettings, ingress_settings: IngressSettings,
                 events: EventRecorder, services: Informer, nodes: Informer,
                 enqueue: Callable[[str], None]) -> None:
        self.settings = ingress_settings
        self.enqueue = enqueue
        self.ingresses = Informer(api, INGRESSES)
        self.classes = Informer(api, INGRESS_CLASSES)
        self.secrets = Informer(api, TLS_SECRETS)
        self.index = ReferenceIndex()
        self.reconciler = IngressReconciler(
            api=api, lookup=self.ingresses.get, classes=self.classes.list,
            services=services.get, secrets=self.secrets.get, nodes=nodes.list,
            provider=provider, settings=settings, ingress_settings=ingress_settings,
            events=events)
        self.ingresses.add_handler(self._on_ingress)
        self.classes.add_handler(self._on_class)
        self.secrets.add_handler(self._on_secret)
        services.add_handler(self._on_service)

    def informers(self) -> list[Informer]:
        return [self.classes, self.secrets, self.ingresses]

    def start(self, *, sync_timeout: float) -> bool:
        """Fill the caches; classes and Secrets first, so that the Ingresses' first
        events are judged against known classes. False when a cache did not sync."""
        deadline = time.monotonic() + sync_timeout
        self.classes.start()
        self.secrets.start()
        if not all(i.wait_synced(max(0.0, deadline - time.monotonic()))
                   for i in (self.classes, self.secrets)):
            return False
        self.ingresses.start()
        return self.ingresses.wait_synced(max(0.0, deadline - time.monotonic()))

    def stop(self) -> None:
        for informer in self.informers():
            informer.stop()

    @property
    def synced(self) -> bool:
        return all(i.has_synced for i in self.informers())

    def reconcile(self, key: str, *, check_drift: bool) -> Outcome:
        return self.reconciler.reconcile(key[len(PREFIX):], check_drift=check_drift)

    def managed_keys(self) -> list[str]:
        return [queue_key(k) for k in self.reconciler.managed_keys()]

    def wanted_keys(self) -> set[str]:
        """Every Ingress to look at in a full resync: ours, or ours to clean up."""
        classes = self.classes.list()
        keys = {queue_key(object_key(i)) for i in self.ingresses.list()
                if should_enqueue(i, classes, self.settings)}
        return keys | set(self.managed_keys())

    def live_uids(self) -> set[str]:
        return {i["metadata"]["uid"] for i in self.ingresses.list()}

    # -- informer handlers: quick, they only enqueue ------------------------------------------
    def _on_ingress(self, kind: str, old: Obj | None, new: Obj | None) -> None:
        obj = new if new is not None else old
        assert obj is not None
        key = object_key(obj)
        if new is None:
            self.index.remove(key)
            self.enqueue(queue_key(key))  # the reconciler forgets (and cleans up) what it knew
            return
        self.index.set(key, references(new))
        classes = self.classes.list()
        if should_enqueue(new, classes, self.settings) or (
                old is not None and should_enqueue(old, classes, self.settings)):
            self.enqueue(queue_key(key))

    def _on_class(self, kind: str, old: Obj | None, new: Obj | None) -> None:
        for key in self.ingresses.keys():
            self.enqueue(queue_key(key))

    def _on_service(self, kind: str, old: Obj | None, new: Obj | None) -> None:
        self._dependents(SERVICE, new if new is not None else old)

    def _on_secret(self, kind: str, old: Obj | None, new: Obj | None) -> None:
        self._dependents(SECRET, new if new is not None else old)

    def _dependents(self, kind: str, obj: Obj | None) -> None:
        if obj is None:
            return
        for key in self.index.dependents(kind, object_key(obj)):
            log.debug("dependency changed kind=%s object=%s ingress=%s", kind,
                      object_key(obj), key)
            self.enqueue(queue_key(key))
