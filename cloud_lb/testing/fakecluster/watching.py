"""List + watch one resource kind with the official client, as kube-proxy's informers do.

Deliberately independent of `cloud_lb.kube` (the controller's runtime): the fake cluster
is what that runtime is tested against, so it must not share its bugs. Each `ListWatch`
runs in its own thread: it lists (the result replaces the consumer's state for the
kind), then watches from the list's resourceVersion with bookmarks, re-watches from the
last seen resourceVersion when the server ends a stream, and relists when the watch
answers 410 Gone (as an HTTP status or an ERROR event). Other failures back off and
relist. Objects are kept as plain dicts (`_preload_content=False`): the client's models
reject some objects the API accepts (an EndpointSlice with no endpoints).

`stop()` shuts the open watch response down from the calling thread, so a stopping
simulator does not wait for the server to end the stream.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from typing import Any

import urllib3
from kubernetes.client.exceptions import ApiException

log = logging.getLogger(__name__)

Obj = dict[str, Any]
Lister = Callable[..., Any]  # a typed list_* method of the official client


class Gone(Exception):
    """The watch's resourceVersion is too old: relist."""


class ListWatch:
    def __init__(
        self,
        kind: str,
        lister: Lister,
        *,
        on_list: Callable[[str, list[Obj]], None],
        on_event: Callable[[str, str, Obj], None],
        watch_timeout: int = 240,
    ) -> None:
        self.kind = kind
        self._lister = lister
        self._on_list = on_list
        self._on_event = on_event
        self._watch_timeout = watch_timeout
        self._stop = threading.Event()
        self._response: Any = None
        self._response_lock = threading.Lock()
        self._thread = threading.Thread(
            target=self._run, name=f"fakecluster-watch-{kind}", daemon=True
        )

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        with self._response_lock:
            response = self._response
        if response is not None:
            try:
                response.shutdown()
            except Exception as exc:  # noqa: BLE001 - a dead socket may fail to shut any way
                log.debug("event=watch_shutdown_error kind=%s error=%r", self.kind, exc)
        self._thread.join(timeout)
        if self._thread.is_alive():
            log.warning("event=watch_thread_stuck kind=%s", self.kind)

    def _run(self) -> None:
        backoff = 0.2
        while not self._stop.is_set():
            try:
                resource_version = self._list()
                backoff = 0.2
                self._watch(resource_version)
            except Gone:
                log.debug("event=watch_gone kind=%s action=relist", self.kind)
            except Exception as exc:  # noqa: BLE001 - the simulator must outlive API hiccups
                if self._stop.is_set():
                    return
                log.info(
                    "event=watch_error kind=%s error=%r retry_in=%.1fs", self.kind, exc, backoff
                )
                self._stop.wait(backoff)
                backoff = min(backoff * 2, 5.0)

    def _list(self) -> str:
        response = self._lister(_preload_content=False, _request_timeout=30)
        try:
            body = json.loads(response.data)
        finally:
            response.release_conn()
        self._on_list(self.kind, list(body.get("items") or []))
        return str((body.get("metadata") or {}).get("resourceVersion", ""))

    def _watch(self, resource_version: str) -> None:
        while not self._stop.is_set():
            try:
                response = self._lister(
                    watch=True,
                    resource_version=resource_version,
                    allow_watch_bookmarks=True,
                    timeout_seconds=self._watch_timeout,
                    _preload_content=False,
                    _request_timeout=(10, self._watch_timeout + 30),
                )
            except ApiException as exc:
                if exc.status == 410:
                    raise Gone() from exc
                raise
            with self._response_lock:
                self._response = response
            if self._stop.is_set():  # stop() ran before we published the response
                response.shutdown()
            progress = [resource_version]
            try:
                self._consume(response, progress)
            except (urllib3.exceptions.HTTPError, OSError, ValueError) as exc:
                if self._stop.is_set():
                    return
                log.debug("event=watch_stream_broken kind=%s error=%r", self.kind, exc)
            finally:
                resource_version = progress[0]  # also after a broken stream: no event lost
                with self._response_lock:
                    self._response = None
                response.release_conn()

    def _consume(self, response: Any, progress: list[str]) -> None:
        """Feed events to the consumer; `progress[0]` tracks the resourceVersion to
        re-watch from."""
        buffer = b""
        for chunk in response.stream(amt=None, decode_content=False):
            buffer += chunk
            *lines, buffer = buffer.split(b"\n")
            for line in lines:
                if not line.strip():
                    continue
                event = json.loads(line)
                kind, obj = event.get("type"), event.get("object") or {}
                if kind == "ERROR":
                    if obj.get("code") == 410:
                        raise Gone()
                    raise RuntimeError(f"watch {self.kind} error: {obj.get('message')}")
                if kind in ("ADDED", "MODIFIED", "DELETED"):
                    self._on_event(self.kind, kind, obj)
                progress[0] = str((obj.get("metadata") or {}).get("resourceVersion") or progress[0])
