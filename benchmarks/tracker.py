"""What users see: when each Service got its address and when it disappeared.

An informer in the driver process (cloud-lb's own `Informer`, list + watch) timestamps
the first event on which a Service carries `status.loadBalancer.ingress`, and the
DELETED event of each Service. Times are `time.monotonic()` of this process, so they
compare directly with the moments the driver acted.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

from cloud_lb.kube.client import SERVICES, KubeAPI
from cloud_lb.kube.informer import Informer, object_key


class ServiceTracker:
    def __init__(self, api_client: Any) -> None:
        self._informer = Informer(KubeAPI(api_client), SERVICES)
        self._informer.add_handler(self._on_event)
        self._lock = threading.Lock()
        self.addressed: dict[str, float] = {}
        self.deleted: dict[str, float] = {}
        self.address_of: dict[str, str] = {}

    def start(self) -> ServiceTracker:
        self._informer.start()
        if not self._informer.wait_synced(120):
            raise TimeoutError("service tracker did not sync")
        return self

    def stop(self) -> None:
        self._informer.stop()

    def _on_event(self, kind: str, old: dict[str, Any] | None, new: dict[str, Any] | None) -> None:
        now = time.monotonic()
        obj = new if new is not None else old
        assert obj is not None
        key = object_key(obj)
        with self._lock:
            if new is None:
                self.deleted.setdefault(key, now)
                self.addressed.pop(key, None)
                return
            ingress = ((new.get("status") or {}).get("loadBalancer") or {}).get("ingress")
            if ingress and key not in self.addressed:
                self.addressed[key] = now
                self.address_of[key] = ingress[0].get("ip") or ingress[0].get("hostname") or ""

    def count_addressed(self, keys: Iterable[str]) -> int:
        with self._lock:
            return sum(1 for k in keys if k in self.addressed)

    def count_deleted(self, keys: Iterable[str]) -> int:
        with self._lock:
            return sum(1 for k in keys if k in self.deleted)

    def times(self, keys: Iterable[str], since: float, *, deleted: bool = False) -> list[float]:
        """Seconds from `since` to each key's address (or deletion), sorted."""
        table = self.deleted if deleted else self.addressed
        with self._lock:
            return sorted(table[k] - since for k in keys if k in table)

    def forget(self, keys: Iterable[str]) -> None:
        with self._lock:
            for k in keys:
                self.deleted.pop(k, None)
                self.addressed.pop(k, None)


def wait_for(predicate: Callable[[], bool], *, timeout: float, interval: float = 0.2) -> bool:
    deadline = time.monotonic() + timeout
    while True:
        if predicate():
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(interval)
