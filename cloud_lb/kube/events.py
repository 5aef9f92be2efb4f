"""Kubernetes Events about the objects we manage (core/v1, what `kubectl describe` shows).

Like client-go's EventRecorder, a repeat of the same (object, type, reason, message)
within ten minutes bumps `count` and `lastTimestamp` on the existing Event instead of
creating a new one. Writing an Event never fails a reconcile: errors are logged.
"""

from __future__ import annotations

import logging
import os
import threading
import time
import uuid
from datetime import UTC, datetime
from typing import Any

from cloud_lb.kube.client import KubeAPI
from cloud_lb.kube.errors import APIError

log = logging.getLogger(__name__)

COMPONENT = "cloud-lb"
AGGREGATE_WINDOW = 600.0

NORMAL = "Normal"
WARNING = "Warning"


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class EventRecorder:
    def __init__(self, api: KubeAPI, *, component: str = COMPONENT,
                 instance: str | None = None) -> None:
        self.api = api
        self.component = component
        self.instance = instance or os.environ.get("HOSTNAME") or uuid.uuid4().hex[:8]
        self._lock = threading.Lock()
        # (uid, type, reason, message) -> (event name, count, first seen monotonic)
        self._seen: dict[tuple[str, str, str, str], tuple[str, int, float]] = {}

    def normal(self, obj: dict[str, Any], reason: str, message: str) -> None:
        self.emit(obj, NORMAL, reason, message)

    def warning(self, obj: dict[str, Any], reason: str, message: str) -> None:
        self.emit(obj, WARNING, reason, message)

    def emit(self, obj: dict[str, Any], type_: str, reason: str, message: str) -> None:
        meta = obj.get("metadata") or {}
        namespace = meta.get("namespace") or "default"
        uid = str(meta.get("uid", ""))
        message = message[:1024]
        key = (uid, type_, reason, message)
        level = logging.WARNING if type_ == WARNING else logging.INFO
        log.log(level, "event object=%s/%s/%s type=%s reason=%s message=%r",
                obj.get("kind", "Service"), namespace, meta.get("name"), type_, reason, message)
        now = time.monotonic()
        with self._lock:
            previous = self._seen.get(key)
            if previous and now - previous[2] > AGGREGATE_WINDOW:
                previous = None
        try:
            if previous:
                name, count, first = previous
                self.api.patch_event(namespace, name, {"count": count + 1, "lastTimestamp": _now()})
                with self._lock:
                    self._seen[key] = (name, count + 1, first)
                return
            created = self.api.create_event(namespace, self._body(obj, namespace, type_, reason, message))
            with self._lock:
                self._seen[key] = (created["metadata"]["name"], 1, now)
                if len(self._seen) > 10000:  # bound memory: forget the oldest half
                    for old in sorted(self._seen, key=lambda k: self._seen[k][2])[:5000]:
                        del self._seen[old]
        except APIError as exc:
            log.warning("event write failed object=%s/%s reason=%s error=%s",
                        namespace, meta.get("name"), reason, exc)

    def _body(self, obj: dict[str, Any], namespace: str, type_: str, reason: str,
              message: str) -> dict[str, Any]:
        meta = obj.get("metadata") or {}
        stamp = _now()
        return {
            "apiVersion": "v1",
            "kind": "Event",
            "metadata": {"name": f"{meta.get('name')}.{uuid.uuid4().hex[:16]}",
                         "namespace": namespace},
            "involvedObject": {
                "apiVersion": obj.get("apiVersion", "v1"),
                "kind": obj.get("kind", "Service"),
                "namespace": namespace,
                "name": meta.get("name"),
                "uid": meta.get("uid"),
                "resourceVersion": meta.get("resourceVersion"),
            },
            "reason": reason,
            "message": message,
            "type": type_,
            "source": {"component": self.component},
            "reportingComponent": self.component,
            "reportingInstance": self.instance,
            "firstTimestamp": stamp,
            "lastTimestamp": stamp,
            "count": 1,
        }
