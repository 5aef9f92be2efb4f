"""Prometheus metrics of one controller, in a registry of its own (several controllers
may share a process in tests and benchmarks).

Counters and histograms are fed by events (reconcile outcomes, cloud calls recorded by
the provider's `CallRecorder`); everything the controller already counts or holds
(queue depth and counters, managed load balancers, leadership) is read from the live
objects at scrape time by a custom collector, so it can never go stale or drift from
the source. docs/metrics.md lists every series; `METRIC_NAMES` is the list a test
checks that page against.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Histogram,
    PlatformCollector,
    ProcessCollector,
    disable_created_metrics,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from cloud_lb import __version__
from cloud_lb.provider import CallRecorder

if TYPE_CHECKING:
    from cloud_lb.controller.manager import Controller
    from cloud_lb.controller.outcomes import Outcome

PREFIX = "cloudlb"

disable_created_metrics()  # the *_created series double every counter for no use here

RECONCILE_BUCKETS = (0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120)
CLOUD_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)

# every family this module exports (as exposed, counters with _total), for the docs test
METRIC_NAMES = tuple(f"{PREFIX}_{n}" for n in (
    "build_info",
    "reconciles_total",
    "reconcile_duration_seconds",
    "cloud_api_calls_total",
    "cloud_api_duration_seconds",
    "workqueue_depth",
    "workqueue_delayed",
    "workqueue_adds_total",
    "workqueue_retries_total",
    "workqueue_longest_running_seconds",
    "managed_load_balancers",
    "leader",
    "last_full_resync_timestamp_seconds",
    "informer_last_activity_age_seconds",
    "informer_relists_total",
))


class ControllerMetrics:
    def __init__(self, *, provider_name: str, registry: CollectorRegistry | None = None,
                 process_metrics: bool = False) -> None:
        """`process_metrics`: also export process_* (memory, CPU, open files) and
        python_info, as the default registry would; one process, one such collector."""
        self.registry = registry or CollectorRegistry()
        self.provider_name = provider_name
        if process_metrics:
            ProcessCollector(registry=self.registry)
            PlatformCollector(registry=self.registry)
        self.reconciles = Counter(f"{PREFIX}_reconciles", "Reconciles by kind and result",
                                  ["kind", "result"], registry=self.registry)
        self.reconcile_seconds = Histogram(
            f"{PREFIX}_reconcile_duration_seconds", "Time spent in one reconcile", ["kind"],
            buckets=RECONCILE_BUCKETS, registry=self.registry)
        self.cloud_calls = Counter(
            f"{PREFIX}_cloud_api_calls",
            "Cloud API calls by provider, operation, whether it mutates, and result",
            ["provider", "operation", "mutating", "result"], registry=self.registry)
        self.cloud_seconds = Histogram(
            f"{PREFIX}_cloud_api_duration_seconds", "Cloud API call latency",
            ["provider", "operation"], buckets=CLOUD_BUCKETS, registry=self.registry)
        self.registry.register(_BuildInfo(provider_name))

    def observe_reconcile(self, kind: str | Callable[[str], str],
                          ) -> Callable[[str, Outcome, float], None]:
        """An observer for `Controller.observer`: counts and times every reconcile.
        `kind`: the label, or a function of the queue key giving it (one queue holds
        Services and Ingresses)."""
        kind_of = kind if callable(kind) else (lambda _key: kind)

        def observe(key: str, outcome: Outcome, seconds: float) -> None:
            kind = kind_of(key)
            self.reconciles.labels(kind, outcome.result.value).inc()
            self.reconcile_seconds.labels(kind).observe(seconds)
        return observe

    def watch_cloud_calls(self, recorder: CallRecorder) -> None:
        def observe(operation: str, mutating: bool, result: str, seconds: float) -> None:
            self.cloud_calls.labels(self.provider_name, operation, str(mutating).lower(),
                                    result).inc()
            if seconds:  # providers that do not time a call report 0: not a latency
                self.cloud_seconds.labels(self.provider_name, operation).observe(seconds)
        recorder.subscribe(observe)

    def watch_controller(self, controller: Controller,
                         is_leader: Callable[[], bool] | None = None) -> None:
        """Export the controller's live state; `is_leader` defaults to "workers run"
        (a single replica without leader election leads once started)."""
        self.registry.register(_LiveGauges(controller, self.provider_name,
                                           is_leader or (lambda: controller.working)))


class _BuildInfo(Collector):
    def __init__(self, provider_name: str) -> None:
        self.provider_name = provider_name

    def collect(self) -> Iterator[Metric]:
        info = GaugeMetricFamily(f"{PREFIX}_build_info",
                                 "Always 1: the cloud-lb version and the active provider",
                                 labels=["version", "provider"])
        info.add_metric([__version__, self.provider_name], 1.0)
        yield info


class _LiveGauges(Collector):
    def __init__(self, controller: Controller, provider_name: str,
                 is_leader: Callable[[], bool]) -> None:
        self.controller = controller
        self.provider_name = provider_name
        self.is_leader = is_leader

    def collect(self) -> Iterator[Metric]:
        c = self.controller
        q = c.queue
        yield _gauge("workqueue_depth", "Keys waiting to be reconciled", q.depth())
        yield _gauge("workqueue_delayed", "Keys waiting for a backoff or retry delay",
                     q.waiting())
        # CounterMetricFamily appends _total itself
        yield CounterMetricFamily(f"{PREFIX}_workqueue_adds", "Keys added to the work queue",
                                  value=q.adds)
        yield CounterMetricFamily(f"{PREFIX}_workqueue_retries",
                                  "Keys requeued with backoff after a failure", value=q.retries)
        yield _gauge("workqueue_longest_running_seconds",
                     "Age of the longest reconcile in progress (0 when idle)",
                     q.longest_running())
        managed = GaugeMetricFamily(
            f"{PREFIX}_managed_load_balancers",
            "Load balancers this replica has ensured and not deleted, by the kind of object "
            "they serve (0 on a standby)", labels=["provider", "kind"])
        managed.add_metric([self.provider_name, "Service"], _ensured(c.reconciler))
        ingress = getattr(c, "ingress", None)
        if ingress is not None:
            managed.add_metric([self.provider_name, "Ingress"], _ensured(ingress.reconciler))
        yield managed
        yield _gauge("leader", "1 while this replica leads (reconciles), else 0",
                     1.0 if self.is_leader() else 0.0)
        yield _gauge("last_full_resync_timestamp_seconds",
                     "Unix time of the last periodic full resync (0: none yet)",
                     c.last_full_resync or 0.0)
        informers = c.informers()
        age = GaugeMetricFamily(f"{PREFIX}_informer_last_activity_age_seconds",
                                "Seconds since the informer last heard from the API server",
                                labels=["resource"])
        relists = CounterMetricFamily(f"{PREFIX}_informer_relists",
                                      "Full lists of the resource (start, 410 Gone, errors)",
                                      labels=["resource"])
        now = time.monotonic()
        for informer in informers:
            age.add_metric([informer.resource.plural], max(0.0, now - informer.last_activity))
            relists.add_metric([informer.resource.plural], informer.relists)
        yield age
        yield relists


def _ensured(reconciler: Any) -> int:
    """Records with a status: an object only ever rejected as invalid has no LB."""
    return sum(1 for key in reconciler.managed_keys()
               if (record := reconciler.record(key)) is not None and record.status is not None)


def _gauge(name: str, doc: str, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(f"{PREFIX}_{name}", doc, value=value)
