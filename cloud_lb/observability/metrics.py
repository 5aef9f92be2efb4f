"""Prometheus metrics of one controller, in a registry of its own (several controllers
may share a process in tests and benchmarks).

Counters and histograms are fed by events (reconcile outcomes, cloud calls recorded by
the provider's `CallRecorder`); gauges are read from the live objects at scrape time,
so they can never go stale.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry, Counter, Histogram, disable_created_metrics
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from cloud_lb.provider import CallRecorder

if TYPE_CHECKING:
    from cloud_lb.controller.manager import Controller
    from cloud_lb.controller.service import Outcome

PREFIX = "cloudlb"

disable_created_metrics()  # the *_created series double every counter for no use here


class ControllerMetrics:
    def __init__(self, *, provider_name: str, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        self.provider_name = provider_name
        self.reconciles = Counter(f"{PREFIX}_reconciles", "Reconciles by kind and result",
                                  ["kind", "result"], registry=self.registry)
        self.reconcile_seconds = Histogram(
            f"{PREFIX}_reconcile_duration_seconds", "Time spent in one reconcile", ["kind"],
            buckets=(0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120),
            registry=self.registry)
        self.cloud_calls = Counter(f"{PREFIX}_cloud_api_calls", "Cloud API calls",
                                   ["provider", "operation", "mutating", "result"],
                                   registry=self.registry)
        self.cloud_seconds = Histogram(
            f"{PREFIX}_cloud_api_duration_seconds", "Cloud API call latency",
            ["provider", "operation"],
            buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
            registry=self.registry)

    def observe_reconcile(self, kind: str) -> Callable[[str, Outcome, float], None]:
        def observe(key: str, outcome: Outcome, seconds: float) -> None:
            self.reconciles.labels(kind, outcome.result.value).inc()
            self.reconcile_seconds.labels(kind).observe(seconds)
        return observe

    def watch_cloud_calls(self, recorder: CallRecorder) -> None:
        def observe(operation: str, mutating: bool, result: str, seconds: float) -> None:
            self.cloud_calls.labels(self.provider_name, operation, str(mutating).lower(),
                                    result).inc()
            if seconds:
                self.cloud_seconds.labels(self.provider_name, operation).observe(seconds)
        recorder.subscribe(observe)

    def watch_controller(self, controller: Controller,
                         is_leader: Callable[[], bool] | None = None) -> None:
        self.registry.register(_LiveGauges(controller, self.provider_name,
                                           is_leader or (lambda: controller.working)))


class _LiveGauges(Collector):
    def __init__(self, controller: Controller, provider_name: str,
                 is_leader: Callable[[], bool]) -> None:
        self.controller = controller
        self.provider_name = provider_name
        self.is_leader = is_leader

    def collect(self) -> Iterator[GaugeMetricFamily]:
        c = self.controller
        q = c.queue
        yield _gauge("workqueue_depth", "Keys waiting to be reconciled", q.depth())
        yield _gauge("workqueue_delayed", "Keys waiting for a backoff or retry delay", q.waiting())
        yield _gauge("workqueue_adds_total", "Keys added to the work queue", q.adds)
        yield _gauge("workqueue_retries_total", "Keys requeued with backoff", q.retries)
        yield _gauge("workqueue_longest_running_seconds",
                     "Age of the longest reconcile in progress", q.longest_running())
        managed = GaugeMetricFamily(f"{PREFIX}_managed_load_balancers",
                                    "Load balancers this controller manages", labels=["provider"])
        managed.add_metric([self.provider_name], len(c.reconciler.managed_keys()))
        yield managed
        yield _gauge("leader", "1 while this replica leads", 1.0 if self.is_leader() else 0.0)
        yield _gauge("last_full_resync_timestamp_seconds",
                     "Unix time of the last periodic resync", c.last_full_resync or 0.0)
        yield _gauge("informer_last_activity_age_seconds",
                     "Seconds since the oldest informer last heard from the API server",
                     max((time.monotonic() - i.last_activity for i in c.informers()), default=0.0))


def _gauge(name: str, doc: str, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(f"{PREFIX}_{name}", doc, value=value)
