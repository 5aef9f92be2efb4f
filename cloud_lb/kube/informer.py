"""List-then-watch informer with a local cache of raw dicts (client-go's shape).

One thread per resource: list (paginated), then watch from the list's resourceVersion
with bookmarks; a stream the server ends is re-watched from the last seen
resourceVersion; 410 Gone (as a status or as an ERROR event) relists quietly and
dispatches the difference, so no change is lost and none is dispatched twice. Other
errors back off (1 s doubling to 30 s) and relist.

Handlers get (event, old, new) with event one of ADDED, MODIFIED, DELETED and must be
quick: they only enqueue keys.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from cloud_lb.kube.client import KubeAPI, Resource
from cloud_lb.kube.errors import APIError, APIGoneError

log = logging.getLogger(__name__)

Obj = dict[str, Any]
Handler = Callable[[str, Obj | None, Obj | None], None]
Transform = Callable[[Obj], Obj]

LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"


def object_key(obj: Obj) -> str:
    meta = obj.get("metadata") or {}
    ns = meta.get("namespace")
    return f"{ns}/{meta['name']}" if ns else str(meta["name"])


def strip_bulk(obj: Obj) -> Obj:
    """Default transform: drop what the controller never reads and costs memory."""
    meta = obj.get("metadata")
    if meta:
        meta.pop("managedFields", None)
        annotations = meta.get("annotations")
        if annotations and LAST_APPLIED in annotations:
            meta["annotations"] = {k: v for k, v in annotations.items() if k != LAST_APPLIED}
    return obj


class Informer:
    def __init__(self, api: KubeAPI, resource: Resource, *,
                 transform: Transform = strip_bulk, watch_timeout: int = 300) -> None:
        self.api = api
        self.resource = resource
        self.transform = transform
        self.watch_timeout = watch_timeout
        self._cache: dict[str, Obj] = {}
        self._lock = threading.Lock()
        self._handlers: list[Handler] = []
        self._synced = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._response: Any = None
        self.last_activity = time.monotonic()
        self.relists = 0

    # -- cache -------------------------------------------------------------------
    def get(self, key: str) -> Obj | None:
        with self._lock:
            return self._cache.get(key)

    def list(self) -> list[Obj]:
        with self._lock:
            return list(self._cache.values())

    def keys(self) -> list[str]:
        with self._lock:
            return list(self._cache)

    def __len__(self) -> int:
        return len(self._cache)

    # -- lifecycle -----------------------------------------------------------------
    def add_handler(self, handler: Handler) -> None:
        self._handlers.append(handler)

    @property
    def has_synced(self) -> bool:
        return self._synced.is_set()

    @property
    def alive(self) -> bool:
        """The informer's thread runs (or was never started)."""
        return self._thread is None or self._thread.is_alive()

    def wait_synced(self, timeout: float | None = None) -> bool:
        return self._synced.wait(timeout)

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name=f"informer-{self.resource.plural}",
                                        daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        resp = self._response
        if resp is not None:
            try:
                resp.shutdown() if hasattr(resp, "shutdown") else resp.close()
            except Exception:  # noqa: BLE001 - closing a dead socket may fail any way
                pass
        if self._thread is not None:
            self._thread.join(timeout)

    # -- the loop ------------------------------------------------------------------
    def _run(self) -> None:
        backoff = 1.0
        while not self._stop.is_set():
            try:
                resource_version = self._relist()
                backoff = 1.0
                self._watch_until_gone(resource_version)
            except APIGoneError:
                log.info("watch expired, relisting resource=%s", self.resource.plural)
            except APIError as exc:
                log.warning("informer error resource=%s error=%s retry_in=%.0fs",
                            self.resource.plural, exc, backoff)
                self._stop.wait(backoff)
                backoff = min(backoff * 2, 30.0)
            except Exception:  # noqa: BLE001 - an informer thread must never die
                log.exception("informer crashed resource=%s retry_in=%.0fs",
                              self.resource.plural, backoff)
                self._stop.wait(backoff)
                backoff = min(backoff * 2, 30.0)

    def _relist(self) -> str:
        items, resource_version = self.api.list_all(self.resource)
        fresh = {object_key(o): self.transform(o) for o in items}
        with self._lock:
            old_cache, self._cache = self._cache, fresh
        self.relists += 1
        self.last_activity = time.monotonic()
        for key, obj in fresh.items():
            old = old_cache.get(key)
            if old is None:
                self._dispatch("ADDED", None, obj)
            elif _rv(old) != _rv(obj):
                self._dispatch("MODIFIED", old, obj)
        for key, old in old_cache.items():
            if key not in fresh:
                self._dispatch("DELETED", old, None)
        self._synced.set()
        log.debug("listed resource=%s count=%d resource_version=%s",
                  self.resource.plural, len(fresh), resource_version)
        return resource_version

    def _watch_until_gone(self, resource_version: str) -> None:
        """Watch, re-watching from the last resourceVersion whenever a stream ends."""
        while not self._stop.is_set():
            for event in self.api.watch(self.resource, resource_version=resource_version,
                                        timeout_seconds=self.watch_timeout,
                                        on_response=self._set_response):
                if self._stop.is_set():
                    return
                self.last_activity = time.monotonic()
                kind = event.get("type")
                obj = event.get("object") or {}
                if kind == "ERROR":
                    code = obj.get("code")
                    if code == 410:
                        raise APIGoneError(obj.get("message", "gone"), status=410)
                    raise APIError(f"watch {self.resource.plural}: {obj.get('message')}",
                                   status=int(code or 0))
                resource_version = _rv(obj) or resource_version
                if kind == "BOOKMARK":
                    continue
                self._apply(kind, self.transform(obj))
            self._response = None

    def _set_response(self, resp: Any) -> None:
        # a (re)opened watch proves the API server answers, even in a quiet cluster
        self.last_activity = time.monotonic()
        self._response = resp
        if self._stop.is_set():
            resp.close()

    def _apply(self, kind: str | None, obj: Obj) -> None:
        key = object_key(obj)
        with self._lock:
            old = self._cache.get(key)
            if kind == "DELETED":
                self._cache.pop(key, None)
            else:
                self._cache[key] = obj
        if kind == "DELETED":
            self._dispatch("DELETED", old or obj, None)
        elif old is None:
            self._dispatch("ADDED", None, obj)
        else:
            self._dispatch("MODIFIED", old, obj)

    def _dispatch(self, kind: str, old: Obj | None, new: Obj | None) -> None:
        for handler in self._handlers:
            try:
                handler(kind, old, new)
            except Exception:  # noqa: BLE001 - one bad handler must not stop the informer
                log.exception("informer handler failed resource=%s event=%s",
                              self.resource.plural, kind)


def _rv(obj: Obj) -> str:
    return str((obj.get("metadata") or {}).get("resourceVersion", ""))
