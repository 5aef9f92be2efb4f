"""The controller process: cloud-lb's `Controller` with a provider, driven over a pipe.

Started by `procs.ControllerProcess` with the spawn method (a fresh interpreter: its
RSS and CPU seconds are the controller's alone). It builds the provider (the `sim`
plugin, or a real one from a config section), the Kubernetes client from the fake API
server's kubeconfig and the controller, starts it, says "ready", then answers commands:

    stats   calls by (operation, mutating, result), keys reconciled per result since the
            last mark, queue state, RSS now/peak, CPU seconds
    mark    start a new count of reconciled keys (the observer's tally)
    resync  the controller's periodic drift check, now
    times   when each key first reached a result (monotonic), since the mark
    timeline  RSS samples every 0.5 s since the start
    memory  deep sizes of the informer caches and the reconciler's records
    stop    graceful stop; answers the final stats, then the process exits

The observer callback of the controller is the only hook used: nothing in the
controller is changed for the benchmark.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from benchmarks import measure

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ChildSpec:
    kubeconfig: str
    cluster_name: str
    provider: str  # sim | local | openstack | aws | gcp
    provider_config: dict[str, Any]
    runtime: dict[str, Any]  # RuntimeSettings fields
    env: dict[str, str] = field(default_factory=dict, repr=False)  # may hold credentials
    log_path: str | None = None
    log_level: str = "warning"
    experiments: tuple[str, ...] = ()


class Tally:
    """When each key first reached each result since the last mark, as
    `time.monotonic()` values (the system-wide monotonic clock on Linux and macOS, so
    the parent compares them with its own)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._first: dict[str, dict[str, float]] = {}
        self.reconciles = 0

    def observe(self, key: str, outcome: Any, seconds: float) -> None:
        with self._lock:
            self.reconciles += 1
            self._first.setdefault(outcome.result.value, {}).setdefault(key, time.monotonic())

    def mark(self) -> None:
        with self._lock:
            self._first = {}
            self.reconciles = 0

    def counts(self) -> dict[str, int]:
        with self._lock:
            return {result: len(keys) for result, keys in self._first.items()}

    def times(self, result: str) -> list[float]:
        with self._lock:
            return sorted(self._first.get(result, {}).values())


def _build(spec: ChildSpec, recorder: Any) -> tuple[Any, Any]:
    """(provider, translate settings)."""
    from cloud_lb.provider import ProviderContext
    from cloud_lb.translate.settings import TranslateSettings

    if spec.provider == "sim":
        from benchmarks.simcloud import SIM_PLUGIN
        config = SIM_PLUGIN.config_model.model_validate(spec.provider_config)
        provider = SIM_PLUGIN.factory(config, ProviderContext(spec.cluster_name, recorder))
        return provider, TranslateSettings(cluster_name=spec.cluster_name)
    from cloud_lb.commands.wiring import build_provider
    from cloud_lb.config import parse_config
    config = parse_config({"clusterName": spec.cluster_name, "provider": spec.provider,
                           spec.provider: spec.provider_config})
    return build_provider(config, recorder), config.translate_settings()


def child_main(conn: Any, spec: ChildSpec) -> None:
    os.environ.update(spec.env)
    from cloud_lb.logs import setup_logging
    stream = open(spec.log_path, "a", encoding="utf-8") if spec.log_path else None  # noqa: SIM115
    setup_logging(spec.log_level, "text", stream)
    stages = {"boot": measure.rss_bytes()}
    timeline = _RSSTimeline()

    from benchmarks.experiments import apply as apply_experiments
    from cloud_lb.commands.wiring import build_api
    from cloud_lb.controller.manager import Controller, RuntimeSettings
    from cloud_lb.provider import CallRecorder

    apply_experiments(spec.experiments)
    recorder = CallRecorder()
    tally = Tally()
    provider, settings = _build(spec, recorder)
    controller = Controller(api=build_api(spec.kubeconfig), provider=provider, settings=settings,
                            runtime=RuntimeSettings(**spec.runtime), observer=tally.observe)
    stages["built"] = measure.rss_bytes()
    started = time.monotonic()
    controller.start_informers(sync_timeout=600)
    synced = time.monotonic() - started
    stages["synced"] = measure.rss_bytes()
    stages["synced_peak"] = measure.peak_rss_bytes()
    controller.start_workers()
    conn.send(("ready", {"synced_seconds": synced, "pid": os.getpid()}))

    def stats() -> dict[str, Any]:
        return {
            "calls": [[op, mut, res, n] for (op, mut, res), n in recorder.calls.items()],
            "tally": tally.counts(), "reconciles": tally.reconciles,
            "idle": controller.queue.idle(), "depth": controller.queue.depth(),
            "waiting": controller.queue.waiting(),
            "rss": measure.rss_bytes(), "peak_rss": measure.peak_rss_bytes(),
            "cpu": measure.cpu_seconds(), "stages": dict(stages),
            "threads": threading.active_count(),
        }

    while True:
        try:
            command, *args = conn.recv()
        except EOFError:  # the parent went away: do not outlive it
            command, args = "stop", []
        try:
            if command == "stats":
                conn.send(("ok", stats()))
            elif command == "mark":
                tally.mark()
                conn.send(("ok", stats()))
            elif command == "timeline":
                conn.send(("ok", timeline.samples()))
            elif command == "times":
                conn.send(("ok", tally.times(args[0])))
            elif command == "resync":
                controller.resync()
                conn.send(("ok", None))
            elif command == "memory":
                conn.send(("ok", memory_report(controller)))
            elif command == "stop":
                timeline.stop()
                controller.stop()
                provider.close()
                try:
                    conn.send(("ok", stats()))
                except (OSError, EOFError):
                    pass
                return
            else:
                conn.send(("error", f"unknown command {command!r}"))
        except Exception as exc:
            log.exception("bench child command failed command=%s", command)
            conn.send(("error", f"{command}: {type(exc).__name__}: {exc}"))


class _RSSTimeline:
    """RSS every `interval` seconds as (monotonic time, bytes): when the peak happened."""

    def __init__(self, interval: float = 0.5) -> None:
        self._samples: list[tuple[float, int]] = []
        self._stop = threading.Event()
        self._interval = interval
        threading.Thread(target=self._run, name="rss-timeline", daemon=True).start()

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            self._samples.append((time.monotonic(), measure.rss_bytes()))

    def samples(self) -> list[tuple[float, int]]:
        return list(self._samples)

    def stop(self) -> None:
        self._stop.set()


def memory_report(controller: Any) -> dict[str, Any]:
    """Which part of the heap costs: each part's deep size, shared objects counted for
    the first part that reaches them (caches first: the records point into them)."""
    import gc
    gc.collect()
    seen: set[int] = set()
    reconciler = controller.reconciler
    with reconciler._lock:
        records = list(reconciler._records.values())
    specs = [r.spec for r in records]
    parts = {
        "services_cache": measure.deep_size([controller.services.list()], seen),
        "nodes_cache": measure.deep_size([controller.nodes.list()], seen),
        "specs_backends": measure.deep_size([s.backends for s in specs if s], seen),
        "specs_other": measure.deep_size(specs, seen),
        "records_other": measure.deep_size(records, seen),
        # the provider's own state, without its cloud client (connections, proxies)
        "provider_state": measure.deep_size(
            [v for k, v in vars(controller.provider).items() if k not in ("client", "cloud")],
            seen),
        "work_queue": measure.deep_size([vars(controller.queue)], seen),
    }
    return {"parts": parts, "counts": {"services": len(controller.services),
                                       "nodes": len(controller.nodes), "records": len(records)},
            "rss": measure.rss_bytes(), "peak_rss": measure.peak_rss_bytes()}
