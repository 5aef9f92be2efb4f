"""The controller process: informers feed a work queue drained by worker threads.

    services informer ─┐                   ┌─> worker 1 ─┐
    nodes informer ────┼─> work queue ─────┼─> worker 2 ─┼─> ServiceReconciler ─> provider
    resync timer ──────┘   (dedupe, backoff)└─> worker N ─┘

Keys are `namespace/name` for Services and `ingress:namespace/name` for Ingresses
(`ingresses.IngressFeature`, built when Ingress support is on and the provider has
`capabilities.l7`). Retries: a failed key goes back with per-key exponential
backoff; a pending one after the provider's `retry_after`; a user error waits for the
object to change. `stop()` is graceful: no new keys are taken, in-flight reconciles
finish, then informers and the provider close.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from cloud_lb.controller.ingresses import IngressFeature, is_ingress_key
from cloud_lb.controller.nodes import NodeSync
from cloud_lb.controller.orphans import collect_orphans
from cloud_lb.controller.outcomes import Outcome, Result
from cloud_lb.controller.service import ServiceReconciler
from cloud_lb.kube.client import NODES, SERVICES, KubeAPI
from cloud_lb.kube.events import EventRecorder
from cloud_lb.kube.informer import Informer, object_key
from cloud_lb.kube.workqueue import WorkQueue
from cloud_lb.model import ObjectKind
from cloud_lb.provider import LoadBalancerProvider
from cloud_lb.translate.ingress_class import IngressSettings
from cloud_lb.translate.nodes import node_view
from cloud_lb.translate.predicates import FINALIZER, should_enqueue
from cloud_lb.translate.settings import TranslateSettings

log = logging.getLogger(__name__)

# metadata the API server or this controller changes without the user asking anything new
_BOOKKEEPING = ("resourceVersion", "managedFields", "generation")


def only_our_writes(old: dict[str, Any], new: dict[str, Any]) -> bool:
    """True when `old` → `new` changed nothing but status, bookkeeping metadata and the
    addition of our finalizer: what the reconciler writes itself (as the service
    controller ignores status-only updates)."""
    def essence(obj: dict[str, Any]) -> dict[str, Any]:
        meta = {k: v for k, v in (obj.get("metadata") or {}).items() if k not in _BOOKKEEPING}
        meta["finalizers"] = [f for f in meta.get("finalizers") or [] if f != FINALIZER]
        return {**{k: v for k, v in obj.items() if k != "status"}, "metadata": meta}

    if FINALIZER in ((old.get("metadata") or {}).get("finalizers") or []) and \
            FINALIZER not in ((new.get("metadata") or {}).get("finalizers") or []):
        return False  # someone removed our finalizer: put it back
    return essence(old) == essence(new)


@dataclass(frozen=True)
class RuntimeSettings:
    workers: int = 4
    resync_period: float = 600.0
    node_sync_period: float = 100.0
    node_sync_debounce: float = 1.0
    backoff_base: float = 5.0
    backoff_max: float = 300.0
    qps: float = 10.0
    burst: int = 100
    gc_period: float | None = 3600.0  # None: no periodic orphan collection


class Controller:
    def __init__(self, *, api: KubeAPI, provider: LoadBalancerProvider,
                 settings: TranslateSettings, runtime: RuntimeSettings | None = None,
                 observer: Callable[[str, Outcome, float], None] | None = None,
                 ingress: IngressSettings | None = None) -> None:
        self.api = api
        self.provider = provider
        self.settings = settings
        self.runtime = runtime or RuntimeSettings()
        self.observer = observer
        self.queue = WorkQueue(backoff_base=self.runtime.backoff_base,
                               backoff_max=self.runtime.backoff_max,
                               qps=self.runtime.qps, burst=self.runtime.burst)
        self.services = Informer(api, SERVICES)
        self.nodes = Informer(api, NODES, transform=node_view)
        self.events = EventRecorder(api)
        self.reconciler = ServiceReconciler(
            api=api, lookup=self.services.get, nodes=self.nodes.list, provider=provider,
            settings=settings, events=self.events)
        self.node_sync = NodeSync(nodes=self.nodes.list, settings=settings,
                                  on_change=self._requeue_managed,
                                  debounce=self.runtime.node_sync_debounce)
        self._drift: set[str] = set()
        self._drift_lock = threading.Lock()
        self._workers: list[threading.Thread] = []
        self._stop = threading.Event()
        self._timers: list[threading.Thread] = []
        self.last_full_resync: float | None = None
        self.services.add_handler(self._on_service)
        self.nodes.add_handler(self.node_sync.handle_event)
        self.ingress: IngressFeature | None = None
        if ingress is not None and ingress.enabled and provider.capabilities.l7:
            self.ingress = IngressFeature(
                api=api, provider=provider, settings=settings, ingress_settings=ingress,
                events=self.events, services=self.services, nodes=self.nodes,
                enqueue=self.queue.add)

    # -- lifecycle -------------------------------------------------------------------------
    def start(self, *, sync_timeout: float = 60.0) -> None:
        self.start_informers(sync_timeout=sync_timeout)
        self.start_workers()

    def start_informers(self, *, sync_timeout: float = 60.0) -> None:
        """Fill the caches (a standby replica does this too, to take over warm)."""
        self.nodes.start()
        self.services.start()
        if not (self.nodes.wait_synced(sync_timeout) and self.services.wait_synced(sync_timeout)):
            raise TimeoutError(f"caches did not sync within {sync_timeout:.0f}s")
        if self.ingress is not None and not self.ingress.start(sync_timeout=sync_timeout):
            raise TimeoutError(f"Ingress caches did not sync within {sync_timeout:.0f}s")
        self.node_sync.prime()

    def start_workers(self) -> None:
        """Start reconciling (only the leader does)."""
        self.node_sync.prime()
        for i in range(self.runtime.workers):
            worker = threading.Thread(target=self._work, name=f"worker-{i}", daemon=True)
            worker.start()
            self._workers.append(worker)
        periodic: list[tuple[str, float, Callable[[], Any]]] = [
            ("resync", self.runtime.resync_period, self.resync),
            ("node-sync", self.runtime.node_sync_period, self.node_sync.check)]
        if self.runtime.gc_period:
            periodic.append(("orphan-gc", self.runtime.gc_period, self.collect_orphans))
        for name, period, action in periodic:
            timer = threading.Thread(target=self._every, args=(period, action), name=name,
                                     daemon=True)
            timer.start()
            self._timers.append(timer)
        log.info("controller started workers=%d provider=%s cluster=%s", self.runtime.workers,
                 self.provider.name, self.settings.cluster_name)

    def stop(self, timeout: float = 30.0) -> None:
        """Graceful: finish in-flight reconciles, take no new keys, close everything."""
        self._stop.set()
        self.queue.shut_down()
        self.node_sync.stop()
        deadline = time.monotonic() + timeout
        for worker in self._workers:
            worker.join(max(0.0, deadline - time.monotonic()))
        for timer in self._timers:
            timer.join(1.0)
        self.services.stop()
        self.nodes.stop()
        if self.ingress is not None:
            self.ingress.stop()
        log.info("controller stopped")

    @property
    def synced(self) -> bool:
        return (self.services.has_synced and self.nodes.has_synced
                and (self.ingress is None or self.ingress.synced))

    @property
    def working(self) -> bool:
        return bool(self._workers) and not self._stop.is_set()

    def informers(self) -> list[Informer]:
        extra = self.ingress.informers() if self.ingress is not None else []
        return [self.services, self.nodes, *extra]

    def wait_idle(self, timeout: float) -> bool:
        """True once the queue is empty and no reconcile runs (tests, demo, bench)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.queue.idle():
                return True
            time.sleep(0.05)
        return False

    # -- feeding the queue ---------------------------------------------------------------------
    def _on_service(self, kind: str, old: dict[str, Any] | None, new: dict[str, Any] | None) -> None:
        obj = new if new is not None else old
        assert obj is not None
        key = object_key(obj)
        if new is None:
            self.queue.add(key)  # gone: the reconciler forgets (and cleans up) what it knew
        elif old is not None and only_our_writes(old, new):
            # our own finalizer or status write (or a relist re-delivering the same
            # object): nothing to do, and a failing key must wait for its backoff rather
            # than be woken by the write its own reconcile just made
            return
        elif should_enqueue(new, self.settings) or (
                old is not None and should_enqueue(old, self.settings)):
            self.queue.add(key)

    def _requeue_managed(self) -> None:
        for key in self.reconciler.managed_keys():
            self.queue.add(key)
        for key in self.ingress.managed_keys() if self.ingress is not None else []:
            self.queue.add(key)

    def resync(self) -> None:
        """Re-ensure every Service we manage (drift detection)."""
        keys = {object_key(s) for s in self.services.list() if should_enqueue(s, self.settings)}
        keys.update(self.reconciler.managed_keys())
        if self.ingress is not None:
            keys.update(self.ingress.wanted_keys())
        with self._drift_lock:
            self._drift.update(keys)
        for key in keys:
            self.queue.add(key)
        self.last_full_resync = time.time()
        log.info("periodic resync keys=%d", len(keys))

    def collect_orphans(self) -> list[Any]:
        """Delete load balancers tagged as ours whose Service (or Ingress) is gone."""
        kinds = {ObjectKind.SERVICE} | ({ObjectKind.INGRESS} if self.ingress is not None else set())
        return collect_orphans(self.provider, self._live_uids, apply=True, kinds=frozenset(kinds))

    def _live_uids(self) -> set[str]:
        uids = {s["metadata"]["uid"] for s in self.services.list()}
        return uids | (self.ingress.live_uids() if self.ingress is not None else set())

    def _every(self, period: float, action: Callable[[], Any]) -> None:
        while not self._stop.wait(period):
            try:
                action()
            except Exception:  # noqa: BLE001 - a timer thread must survive
                log.exception("periodic task failed task=%s", threading.current_thread().name)

    # -- workers -------------------------------------------------------------------------------
    def _work(self) -> None:
        while True:
            key = self.queue.get()
            if key is None:
                return
            with self._drift_lock:
                check_drift = key in self._drift
                self._drift.discard(key)
            started = time.monotonic()
            try:
                if self.ingress is not None and is_ingress_key(key):
                    outcome = self.ingress.reconcile(key, check_drift=check_drift)
                else:
                    outcome = self.reconciler.reconcile(key, check_drift=check_drift)
            except Exception as exc:  # noqa: BLE001 - a worker must survive any bug
                log.exception("reconcile crashed key=%s", key)
                outcome = Outcome(Result.ERROR, message=repr(exc))
            finally:
                self.queue.done(key)
            self._requeue(key, outcome)
            if self.observer is not None:
                self.observer(key, outcome, time.monotonic() - started)

    def _requeue(self, key: str, outcome: Outcome) -> None:
        if outcome.result in (Result.PENDING, Result.ERROR):
            with self._drift_lock:
                self._drift.add(key)  # re-run ensure, not a cache shortcut
            if outcome.result is Result.PENDING or outcome.retry_after is not None:
                self.queue.add_after(key, outcome.retry_after or 1.0)
            else:
                delay = self.queue.add_rate_limited(key)
                log.info("requeued with backoff key=%s delay=%.1fs error=%s", key, delay,
                         outcome.message)
        else:
            self.queue.forget(key)
