"""A controller in the test process, with a timeline of what its work queue decided.

The cloud-fault and API-server-fault tests need to see inside the queue: when each
reconcile of a key started and ended, how it ended, and which delay the queue chose
for the retry (`add_rate_limited`, `add_after`). Retry spacing is then asserted
against the queue's own decisions, not against wall-clock bounds.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from cloud_lb.commands.wiring import build_api, build_controller, build_provider
from cloud_lb.config import parse_config
from cloud_lb.controller.manager import Controller
from cloud_lb.controller.outcomes import Outcome, Result
from cloud_lb.provider import CallRecorder, LoadBalancerProvider
from tests.reliability.worlds import World


@dataclass
class Attempt:
    key: str
    started: float
    ended: float
    result: Result


@dataclass
class Retry:
    key: str
    at: float  # when the queue was asked
    delay: float  # what it chose
    kind: str  # "backoff" | "after"


@dataclass
class Timeline:
    attempts: list[Attempt] = field(default_factory=list)
    retries: list[Retry] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def by_key(self) -> dict[str, list[Attempt | Retry]]:
        with self.lock:
            items = sorted([*self.attempts, *self.retries],
                           key=lambda x: x.started if isinstance(x, Attempt) else x.at)
        out: dict[str, list[Attempt | Retry]] = {}
        for item in items:
            out.setdefault(item.key, []).append(item)
        return out

    def violations(self, slack: float = 0.02) -> list[str]:
        """Attempts that started before the delay the queue chose for the previous
        failure of the same key had passed."""
        found = []
        for key, items in self.by_key().items():
            due: float | None = None
            for item in items:
                if isinstance(item, Retry):
                    due = item.at + item.delay
                elif due is not None:
                    if item.started < due - slack:
                        found.append(f"{key}: started {due - item.started:.3f}s early")
                    due = None
        return found

    def results(self) -> dict[Result, int]:
        counts: dict[Result, int] = {}
        for attempt in self.attempts:
            counts[attempt.result] = counts.get(attempt.result, 0) + 1
        return counts


def _instrument(controller: Controller, timeline: Timeline) -> None:
    queue = controller.queue
    add_rate_limited, add_after = queue.add_rate_limited, queue.add_after

    def rate_limited(key: str) -> float:
        at = time.monotonic()
        delay = add_rate_limited(key)
        with timeline.lock:
            timeline.retries.append(Retry(key, at, delay, "backoff"))
        return delay

    def after(key: str, delay: float, **kwargs: Any) -> None:
        if threading.current_thread().name.startswith("worker") and not kwargs.get("replace"):
            with timeline.lock:
                timeline.retries.append(Retry(key, time.monotonic(), delay, "after"))
        add_after(key, delay, **kwargs)

    queue.add_rate_limited = rate_limited  # type: ignore[method-assign]
    queue.add_after = after  # type: ignore[method-assign]

    def observe(key: str, outcome: Outcome, seconds: float) -> None:
        now = time.monotonic()
        with timeline.lock:
            timeline.attempts.append(Attempt(key, now - seconds, now, outcome.result))

    controller.observer = observe


@contextmanager
def running_controller(world: World, *, kubeconfig: str | None = None,
                       hook: Callable[[LoadBalancerProvider], None] | None = None,
                       **overrides: Any
                       ) -> Iterator[tuple[Controller, LoadBalancerProvider, CallRecorder, Timeline]]:
    config = parse_config(world.raw_config(**overrides))
    recorder = CallRecorder()
    provider = build_provider(config, recorder)
    if hook is not None:
        hook(provider)
    controller = build_controller(config, api=build_api(kubeconfig or world.kube.kubeconfig),
                                  provider=provider)
    timeline = Timeline()
    _instrument(controller, timeline)
    controller.start()
    try:
        yield controller, provider, recorder, timeline
    finally:
        controller.stop()
        provider.close()
