"""Watch subscriptions: what one open watch wants to see, and its queue of events.

The store appends every change to its history and offers it to each `Watcher` *under its
lock*, so a watcher's queue is always in resourceVersion order, and a BOOKMARK enqueued
under the same lock is never ahead of an event it claims to cover.

Selectors follow the real watch cache: an object that stops matching a watch's selector
is reported as DELETED, one that starts matching as ADDED.
"""

from __future__ import annotations

import queue
from dataclasses import dataclass
from typing import Any

from cloud_lb.testing.fakekube.resources import ResourceType
from cloud_lb.testing.fakekube.selectors import FieldSelector, LabelSelector

ObjKey = tuple[str, str]  # (namespace, name); namespace "" for cluster-scoped objects


@dataclass(frozen=True)
class Change:
    """One committed write, as kept in the history window."""

    rv: int
    storage: str  # ResourceType.key
    type: str  # ADDED | MODIFIED | DELETED
    obj: dict[str, Any]  # state after (for DELETED: the last state, with the delete's rv)
    prev: dict[str, Any] | None  # state before (None for ADDED)


STOP = object()  # queue sentinel: end this watch now


@dataclass
class Filter:
    rt: ResourceType
    namespace: str | None
    labels: LabelSelector
    fields: FieldSelector

    def matches(self, obj: dict[str, Any]) -> bool:
        if self.namespace is not None and obj["metadata"].get("namespace", "") != self.namespace:
            return False
        return self.labels.matches(obj) and self.fields.matches(obj)

    def translate(self, change: Change) -> tuple[str, dict[str, Any]] | None:
        """The event this watch sees for `change`, or None."""
        if change.storage != self.rt.key:
            return None
        now = self.matches(change.obj)
        before = change.prev is not None and self.matches(change.prev)
        if change.type == "ADDED":
            return ("ADDED", change.obj) if now else None
        if change.type == "DELETED":
            return ("DELETED", change.obj) if (now or before) else None
        if now and before:
            return ("MODIFIED", change.obj)
        if now:
            return ("ADDED", change.obj)
        if before:
            return ("DELETED", change.obj)
        return None


class Watcher:
    """One open watch. Items on `events` are (type, stored object), ("BOOKMARK", rv) or STOP."""

    def __init__(self, flt: Filter, *, bookmarks: bool) -> None:
        self.filter = flt
        self.bookmarks = bookmarks
        self.events: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self.last_rv = 0  # resourceVersion of the last item queued (for bookmarks)

    def offer(self, change: Change) -> None:
        seen = self.filter.translate(change)
        if seen is not None:
            self.events.put(seen)
        self.last_rv = change.rv

    def bookmark(self, rv: int) -> None:
        self.events.put(("BOOKMARK", rv))

    def stop(self) -> None:
        self.events.put(STOP)
