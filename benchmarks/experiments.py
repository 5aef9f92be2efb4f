"""Opt-in changes to the controller, applied inside the controller process only, to
measure the effect of a fix before proposing it (`--experiment NAME`). The code they
change belongs to the controller's owners; nothing here is on by default.

- `share-backends`: every Service's spec gets the *same* backends tuple while the node
  set is unchanged, instead of a fresh tuple of fresh `Backend` objects per Service
  (`cloud_lb.translate.nodes.eligible_backends` builds one per call). With B nodes
  and L load balancers the reconciler's records hold L*B Backends without it, B with it.
- `retry-first`: keys whose delay ran out (`add_after`: a PendingError's retry_after, a
  backoff) go to the *front* of the work queue instead of the back
  (`cloud_lb.kube.workqueue.WorkQueue._promote_due`). Under a rate-limited backlog of
  creates, a load balancer that finished provisioning then publishes its address at
  once instead of after the whole backlog.
- `needs-update`: a MODIFIED Service is enqueued only when something other than its
  status, finalizers and resourceVersion changed, as upstream's `needsUpdate` filter
  does (`cloud_lb.controller.manager.Controller._on_service` enqueues every event, so
  the controller's own finalizer and status patches come back as work: the finalizer
  patch re-adds the key at the back of the queue while its create is in flight, and
  the PendingError retry then waits behind the whole backlog).
- `stream-list`: the informer's (re)list transforms each page as it arrives
  (`cloud_lb.kube.informer.Informer._relist` calls `KubeAPI.list_all`, which holds every
  raw item, managedFields and last-applied annotations included, until the last page).
- `slim-nodes`: the Node cache keeps only what node eligibility reads (name, labels,
  deletionTimestamp, resourceVersion, providerID, taints, addresses, conditions);
  a kubelet's Node carries up to 50 images, nodeInfo, capacity and more.
- `slim-services`: a Service that is not `type: LoadBalancer` and carries no finalizer
  is cached as its identity, type, class and finalizers only; the controller reads
  nothing else of it (an update to LoadBalancer arrives as a full object).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Mapping
from typing import Any


def _share_backends() -> None:
    from cloud_lb.translate import nodes, service

    original = nodes.eligible_backends
    lock = threading.Lock()
    last: list[Any] = [None, None]  # [key, backends]

    def shared(node_list: Iterable[Mapping[str, Any]], settings: Any) -> Any:
        node_list = list(node_list)
        key = (settings, tuple(
            (n["metadata"]["name"], n["metadata"].get("resourceVersion")) for n in node_list))
        with lock:
            if last[0] == key:
                return last[1]
        value = original(node_list, settings)
        with lock:
            last[0], last[1] = key, value
        return value

    service.eligible_backends = shared  # type: ignore[attr-defined]


def _retry_first() -> None:
    import heapq
    import time

    from cloud_lb.kube.workqueue import WorkQueue

    def promote_due(self: Any) -> None:  # the original, with appendleft
        now = time.monotonic()
        while self._waiting and self._waiting[0][0] <= now:
            _, _, key = heapq.heappop(self._waiting)
            if key not in self._dirty:
                self.adds += 1
                self._dirty.add(key)
                if key not in self._processing:
                    self._queue.appendleft(key)

    WorkQueue._promote_due = promote_due  # type: ignore[method-assign]


def _stream_list() -> None:
    import time

    from cloud_lb.kube.informer import Informer, _rv, object_key

    def relist(self: Any) -> str:  # the original, transforming page by page
        fresh: dict[str, Any] = {}
        token = None
        while True:
            page = self.api.list(self.resource, continue_token=token)
            for item in page.get("items") or []:
                fresh[object_key(item)] = self.transform(item)
            del page["items"]
            meta = page.get("metadata") or {}
            token = meta.get("continue")
            if not token:
                resource_version = str(meta.get("resourceVersion", ""))
                break
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
        return resource_version

    Informer._relist = relist  # type: ignore[method-assign]


def _pick(obj: Mapping[str, Any], paths: dict[str, Any]) -> dict[str, Any]:
    """The parts of `obj` named by `paths` ({key: True | nested paths})."""
    out: dict[str, Any] = {}
    for key, sub in paths.items():
        if key in obj:
            value = obj[key]
            out[key] = _pick(value, sub) if isinstance(sub, dict) and isinstance(value, Mapping) \
                else value
    return out


NODE_FIELDS = {"metadata": {k: True for k in ("name", "labels", "deletionTimestamp",
                                             "resourceVersion", "uid")},
               "spec": {"providerID": True, "taints": True},
               "status": {"addresses": True, "conditions": True}}
SERVICE_IDENTITY = {"metadata": {k: True for k in ("name", "namespace", "uid", "resourceVersion",
                                                  "finalizers", "deletionTimestamp")},
                    "spec": {"type": True, "loadBalancerClass": True}}


def _slim(resource_plural: str, slim: Callable[[dict[str, Any]], dict[str, Any]]) -> None:
    from cloud_lb.kube import informer as informer_module

    original_init = informer_module.Informer.__init__

    def init(self: Any, api: Any, resource: Any, **kwargs: Any) -> None:
        original_init(self, api, resource, **kwargs)
        if resource.plural == resource_plural:
            inner = self.transform
            self.transform = lambda obj: slim(inner(obj))

    informer_module.Informer.__init__ = init  # type: ignore[method-assign]


def _slim_node(obj: dict[str, Any]) -> dict[str, Any]:
    node = _pick(obj, NODE_FIELDS)
    conditions = (node.get("status") or {}).get("conditions")
    if conditions:  # only Ready is read; heartbeat times change without meaning
        node["status"]["conditions"] = [{"type": c.get("type"), "status": c.get("status")}
                                        for c in conditions if c.get("type") == "Ready"]
    return node


def _slim_service(obj: dict[str, Any]) -> dict[str, Any]:
    spec = obj.get("spec") or {}
    if spec.get("type") == "LoadBalancer" or (obj.get("metadata") or {}).get("finalizers"):
        return obj
    return _pick(obj, SERVICE_IDENTITY)


def _needs_update() -> None:
    from cloud_lb.controller.manager import Controller

    original = Controller._on_service

    def relevant(obj: Mapping[str, Any]) -> Any:
        meta = dict(obj.get("metadata") or {})
        for key in ("resourceVersion", "finalizers", "managedFields", "generation"):
            meta.pop(key, None)
        return meta, obj.get("spec")

    def on_service(self: Any, kind: str, old: Any, new: Any) -> None:
        if kind == "MODIFIED" and old is not None and new is not None \
                and relevant(old) == relevant(new):
            return
        original(self, kind, old, new)

    Controller._on_service = on_service  # type: ignore[method-assign]


EXPERIMENTS: dict[str, Callable[[], None]] = {
    "needs-update": _needs_update,
    "share-backends": _share_backends,
    "retry-first": _retry_first,
    "stream-list": _stream_list,
    "slim-nodes": lambda: _slim("nodes", _slim_node),
    "slim-services": lambda: _slim("services", _slim_service),
}


def apply(names: Iterable[str]) -> None:
    for name in names:
        if name not in EXPERIMENTS:
            raise ValueError(f"unknown experiment {name!r}; known: {', '.join(EXPERIMENTS)}")
        EXPERIMENTS[name]()
