"""Node sync: when the set of eligible backends changes, every managed load balancer
is requeued (and its reconcile, seeing only backends differ, calls `update_backends`).

Node objects change all the time (heartbeats in status.conditions, images); only a
change of the *eligible set or its addresses* matters, so events are debounced and
compared by fingerprint, like the service controller's `nodeSyncLoop` with
`shouldSyncUpdatedNode`.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from typing import Any

from cloud_lb.translate.nodes import node_fingerprint
from cloud_lb.translate.settings import TranslateSettings

log = logging.getLogger(__name__)


class NodeSync:
    def __init__(self, *, nodes: Callable[[], Iterable[dict[str, Any]]],
                 settings: TranslateSettings, on_change: Callable[[], None],
                 debounce: float = 1.0) -> None:
        self.nodes = nodes
        self.settings = settings
        self.on_change = on_change
        self.debounce = debounce
        self._lock = threading.Lock()
        self._timer: threading.Timer | None = None
        self._fingerprint: str | None = None
        self._stopped = False
        self.syncs = 0

    def prime(self) -> None:
        """Take the current set as the baseline (after the node cache synced)."""
        self._fingerprint = node_fingerprint(self.nodes(), self.settings)

    def handle_event(self, kind: str, old: Any, new: Any) -> None:
        with self._lock:
            if self._stopped or self._timer is not None:
                return
            self._timer = threading.Timer(self.debounce, self.check)
            self._timer.daemon = True
            self._timer.start()

    def check(self) -> bool:
        """Compare with the baseline; requeue everything if it changed."""
        with self._lock:
            self._timer = None
            if self._stopped:
                return False
        fingerprint = node_fingerprint(self.nodes(), self.settings)
        if fingerprint == self._fingerprint:
            return False
        self._fingerprint = fingerprint
        self.syncs += 1
        log.info("eligible nodes changed, syncing load balancer backends")
        self.on_change()
        return True

    def stop(self) -> None:
        with self._lock:
            self._stopped = True
            if self._timer is not None:
                self._timer.cancel()
