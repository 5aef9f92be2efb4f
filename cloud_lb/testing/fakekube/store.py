"""The object store: every object, one global resourceVersion, a bounded history.

Everything that changes state happens under one lock, like one etcd: each committed write
takes the next resourceVersion, lands in the history window (for watches resumed from a
resourceVersion and for consistent paginated lists) and is offered to every open watch
before the lock is released, so watchers see writes in resourceVersion order.

Stored objects are never mutated after they are committed (every write builds a new
dict), so handlers may serialise them after releasing the lock.

What every resource shares lives here — metadata (uid, creationTimestamp, generation,
resourceVersion), 409 AlreadyExists / Conflict, the `status` subresource split,
finalizers and deletionTimestamp, namespace lifecycle — and what one resource does is
in its `Strategy` (`strategies.py`, `services.py`).
"""

from __future__ import annotations

import copy
import json
import logging
import secrets
import threading
import uuid
from collections import deque
from datetime import UTC, datetime
from typing import Any

from cloud_lb.testing.fakekube import errors
from cloud_lb.testing.fakekube.allocators import IPAllocator, PortAllocator
from cloud_lb.testing.fakekube.conversion import to_external, to_stored
from cloud_lb.testing.fakekube.errors import FieldErrors
from cloud_lb.testing.fakekube.listing import (
    decode_continue,
    list_resource_version,
    page,
    parse_rv,
    snapshot,
)
from cloud_lb.testing.fakekube.patching import apply_patch
from cloud_lb.testing.fakekube.resources import RESOURCES, ResourceType, namespace_resource
from cloud_lb.testing.fakekube.services import ServiceStrategy
from cloud_lb.testing.fakekube.strategies import (
    ConfigMapStrategy,
    EndpointSliceStrategy,
    EventsV1Strategy,
    IngressClassStrategy,
    IngressStrategy,
    NamespaceStrategy,
    PodStrategy,
    SecretStrategy,
    Strategy,
)
from cloud_lb.testing.fakekube.validation import check_metadata
from cloud_lb.testing.fakekube.watching import Change, Filter, ObjKey, Watcher

log = logging.getLogger(__name__)

INITIAL_NAMESPACES = ("default", "kube-system", "kube-public", "kube-node-lease")
_NAME_SUFFIX_CHARS = "bcdfghjklmnpqrstvwxz2456789"  # the apiserver's generateName alphabet
_SERVER_META = ("uid", "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds")


def now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _same_apart_from_rv(a: dict[str, Any], b: dict[str, Any]) -> bool:
    return ({**a, "metadata": {**a["metadata"], "resourceVersion": None}}
            == {**b, "metadata": {**b["metadata"], "resourceVersion": None}})


class Store:
    def __init__(
        self,
        *,
        history_size: int = 10_000,
        service_cidrs: tuple[str, ...] = ("10.96.0.0/12", "fd00:10:96::/108"),
        node_port_range: tuple[int, int] = (30000, 32767),
    ) -> None:
        self.lock = threading.RLock()
        self._rv = 0
        self._objects: dict[str, dict[ObjKey, dict[str, Any]]] = {r.key: {} for r in RESOURCES}
        self._history: deque[Change] = deque()
        self._history_size = history_size
        self._compacted_rv = 0  # events after this rv are all in the history
        self._watchers: set[Watcher] = set()
        self._emptying: str | None = None  # namespace whose content is being deleted
        self.ports = PortAllocator(*node_port_range)
        self.ips = {("IPv6" if ":" in c else "IPv4"): IPAllocator(c) for c in service_cidrs}
        self._by_key: dict[str, ResourceType] = {}
        for r in RESOURCES:
            self._by_key.setdefault(r.key, r)
        self._strategies: dict[tuple[str, str], Strategy] = {
            ("", "namespaces"): NamespaceStrategy(),
            ("", "services"): ServiceStrategy(self.ports, self.ips),
            ("", "pods"): PodStrategy(),
            ("", "secrets"): SecretStrategy(),
            ("", "configmaps"): ConfigMapStrategy(),
            ("networking.k8s.io", "ingresses"): IngressStrategy(),
            ("networking.k8s.io", "ingressclasses"): IngressClassStrategy(),
            ("discovery.k8s.io", "endpointslices"): EndpointSliceStrategy(),
        }
        for r in RESOURCES:
            if r.group == "events.k8s.io":
                self._strategies[(r.group, r.plural)] = EventsV1Strategy(r)
        self._seed()

    # --- reading ---------------------------------------------------------------------

    @property
    def resource_version(self) -> int:
        with self.lock:
            return self._rv

    def get(self, rt: ResourceType, namespace: str, name: str) -> dict[str, Any]:
        with self.lock:
            obj = self._objects[rt.key].get((namespace, name))
        if obj is None:
            raise errors.not_found(rt.plural, rt.group, name)
        return obj

    def list(
        self,
        flt: Filter,
        *,
        limit: int = 0,
        continue_token: str | None = None,
        resource_version: str | None = None,
        match: str | None = None,
    ) -> tuple[list[dict[str, Any]], int, str | None, int | None]:
        """(items, list resourceVersion, continue token, remainingItemCount)."""
        with self.lock:
            start: ObjKey | None = None
            if continue_token:
                snap_rv, start = decode_continue(continue_token, compacted=self._compacted_rv)
            else:
                snap_rv = list_resource_version(resource_version, match, limit,
                                                current=self._rv, compacted=self._compacted_rv)
            objects = snapshot(self._objects[flt.rt.key], self._history, flt.rt.key, snap_rv,
                               self._rv)
            items, token, remaining = page(objects, flt, start=start, limit=limit,
                                           snapshot_rv=snap_rv)
            return items, snap_rv, token, remaining

    # --- writing ---------------------------------------------------------------------

    def create(self, rt: ResourceType, namespace: str, body: Any) -> dict[str, Any]:
        if not isinstance(body, dict):
            raise errors.bad_request("the body of the request must be a JSON object")
        with self.lock:
            return self._create(rt, namespace, to_stored(rt, body))

    def _create(self, rt: ResourceType, namespace: str, obj: dict[str, Any]) -> dict[str, Any]:
        if obj.get("kind") not in (None, "", self._by_key[rt.key].kind):
            raise errors.bad_request(f'the kind in the body ({obj["kind"]}) does not match '
                                     f'the resource ({rt.kind})')
        meta = obj.get("metadata")
        if not isinstance(meta, dict):
            meta = obj["metadata"] = {}
        if rt.namespaced:
            if meta.get("namespace") not in (None, "", namespace):
                raise errors.bad_request("the namespace of the provided object does not match "
                                         "the namespace sent on the request")
            meta["namespace"] = namespace
            self._require_namespace(namespace, rt, meta.get("name") or "")
        else:
            meta.pop("namespace", None)
        if meta.get("resourceVersion"):
            raise errors.bad_request("resourceVersion should not be set on objects to be created")
        bucket = self._objects[rt.key]
        if not meta.get("name") and meta.get("generateName"):
            for _ in range(8):  # the apiserver retries a taken generated name
                name = meta["generateName"] + "".join(
                    secrets.choice(_NAME_SUFFIX_CHARS) for _ in range(5))
                if (namespace if rt.namespaced else "", name) not in bucket:
                    break
            meta["name"] = name
        key = (meta.get("namespace", ""), meta.get("name") or "")
        errs = FieldErrors()
        check_metadata(errs, meta, rt.name_rule)
        errs.raise_if_any(rt.kind, rt.group, meta.get("name") or "")
        if key in bucket:
            raise errors.already_exists(rt.plural, rt.group, key[1])
        stored = self._by_key[rt.key]
        obj["kind"], obj["apiVersion"] = stored.kind, stored.api_version
        meta["uid"] = str(uuid.uuid4())
        meta["creationTimestamp"] = now()
        for field in ("deletionTimestamp", "deletionGracePeriodSeconds", "generation"):
            meta.pop(field, None)
        if rt.generation:
            meta["generation"] = 1
        if rt.has_status and rt.status_on_create == "clear":
            obj.pop("status", None)
        self._strategy(rt).create(obj, errs)
        errs.raise_if_any(rt.kind, rt.group, key[1])
        self._commit(rt, "ADDED", obj, None)
        return obj

    def update(
        self, rt: ResourceType, namespace: str, name: str, body: Any, subresource: str | None
    ) -> tuple[dict[str, Any], bool]:
        """(object, created): PUT of the object or of its /status."""
        if not isinstance(body, dict):
            raise errors.bad_request("the body of the request must be a JSON object")
        with self.lock:
            current = self._objects[rt.key].get((namespace, name))
            if current is None:
                if rt.create_on_update and subresource is None:
                    return self._create(rt, namespace, to_stored(rt, body)), True
                raise errors.not_found(rt.plural, rt.group, name)
            return self._replace(rt, current, to_stored(rt, body), subresource), False

    def patch(
        self, rt: ResourceType, namespace: str, name: str, patch: Any, flavour: str,
        subresource: str | None,
    ) -> dict[str, Any]:
        with self.lock:
            current = self._objects[rt.key].get((namespace, name))
            if current is None:
                raise errors.not_found(rt.plural, rt.group, name)
            patched = apply_patch(rt.kind, to_external(rt, current), patch, flavour)
            if not isinstance(patched, dict):
                raise errors.unprocessable("the patched object is not a JSON object")
            return self._replace(rt, current, to_stored(rt, patched), subresource)

    def _replace(
        self, rt: ResourceType, current: dict[str, Any], new: dict[str, Any],
        subresource: str | None,
    ) -> dict[str, Any]:
        old_meta = current["metadata"]
        name = old_meta["name"]
        meta = new.get("metadata")
        if not isinstance(meta, dict):
            meta = new["metadata"] = {}
        if meta.get("name") != name:
            raise errors.bad_request(f"the name of the object ({meta.get('name') or ''}) does "
                                     f"not match the name on the URL ({name})")
        if rt.namespaced and meta.get("namespace") not in (None, "", old_meta["namespace"]):
            raise errors.bad_request("the namespace of the provided object does not match the "
                                     "namespace sent on the request")
        if meta.get("resourceVersion") and meta["resourceVersion"] != old_meta["resourceVersion"]:
            raise errors.conflict(rt.plural, rt.group, name, errors.STALE_OBJECT)
        if meta.get("uid") and meta["uid"] != old_meta["uid"]:
            raise errors.conflict(rt.plural, rt.group, name,
                                  f"Precondition failed: UID in precondition: {meta['uid']}, "
                                  f"UID in object meta: {old_meta['uid']}")
        errs = FieldErrors()
        if subresource == "status":
            obj = copy.deepcopy(current)
            obj["status"] = new.get("status") or {}
            self._strategy(rt).update_status(obj, current, errs)
        else:
            obj = new
            stored = self._by_key[rt.key]
            obj["kind"], obj["apiVersion"] = stored.kind, stored.api_version
            for field in (*_SERVER_META, "generation", "namespace"):
                if field in old_meta:
                    meta[field] = old_meta[field]
                else:
                    meta.pop(field, None)
            if rt.has_status:
                if "status" in current:
                    obj["status"] = copy.deepcopy(current["status"])
                else:
                    obj.pop("status", None)
            if old_meta.get("deletionTimestamp"):
                added = [f for f in meta.get("finalizers") or []
                         if f not in (old_meta.get("finalizers") or [])]
                if added:
                    errs.forbidden("metadata.finalizers",
                                   f"no new finalizers can be added if the object is being "
                                   f"deleted, found new finalizers {json.dumps(added)}")
            check_metadata(errs, meta, rt.name_rule)
            errs.raise_if_any(rt.kind, rt.group, name)
            self._strategy(rt).update(obj, current, errs)
            if rt.generation and obj.get("spec") != current.get("spec"):
                meta["generation"] = old_meta.get("generation", 1) + 1
        errs.raise_if_any(rt.kind, rt.group, name)
        if _same_apart_from_rv(obj, current):
            return current  # a no-op write: no new resourceVersion, no event
        obj["metadata"]["resourceVersion"] = old_meta["resourceVersion"]
        if obj["metadata"].get("deletionTimestamp") and not obj["metadata"].get("finalizers"):
            return self._remove(rt, obj)
        self._commit(rt, "MODIFIED", obj, current)
        return obj

    def delete(
        self, rt: ResourceType, namespace: str, name: str, options: dict[str, Any] | None
    ) -> tuple[dict[str, Any], bool]:
        """(object, removed now); not removed means deletion waits for finalizers."""
        with self.lock:
            current = self._objects[rt.key].get((namespace, name))
            if current is None:
                raise errors.not_found(rt.plural, rt.group, name)
            pre = (options or {}).get("preconditions") or {}
            meta = current["metadata"]
            if pre.get("uid") and pre["uid"] != meta["uid"]:
                raise errors.conflict(rt.plural, rt.group, name,
                                      f"Precondition failed: UID in precondition: {pre['uid']}, "
                                      f"UID in object meta: {meta['uid']}")
            if pre.get("resourceVersion") and pre["resourceVersion"] != meta["resourceVersion"]:
                raise errors.conflict(
                    rt.plural, rt.group, name,
                    f"Precondition failed: ResourceVersion in precondition: "
                    f"{pre['resourceVersion']}, ResourceVersion in object meta: "
                    f"{meta['resourceVersion']}")
            return self._delete(rt, current)

    def delete_collection(self, flt: Filter) -> list[dict[str, Any]]:
        with self.lock:
            items, _, _, _ = self.list(flt)
            return [self._delete(flt.rt, obj)[0] for obj in items]

    def _delete(self, rt: ResourceType, current: dict[str, Any]) -> tuple[dict[str, Any], bool]:
        meta = current["metadata"]
        if rt.key == namespace_resource().key and not meta.get("deletionTimestamp"):
            return self._terminate_namespace(current)
        if meta.get("finalizers") or rt.key == namespace_resource().key:
            if meta.get("deletionTimestamp"):
                return current, False
            obj = copy.deepcopy(current)
            obj["metadata"]["deletionTimestamp"] = now()
            obj["metadata"]["deletionGracePeriodSeconds"] = 0
            if "generation" in meta:
                obj["metadata"]["generation"] = meta["generation"] + 1
            self._commit(rt, "MODIFIED", obj, current)
            return obj, False
        return self._remove(rt, current), True

    def _remove(self, rt: ResourceType, last: dict[str, Any]) -> dict[str, Any]:
        obj = {**last, "metadata": {**last["metadata"]}}
        self._commit(rt, "DELETED", obj, last)
        self._strategy(rt).removed(obj)
        namespace = obj["metadata"].get("namespace")
        if namespace and namespace != self._emptying:
            self._maybe_finish_namespace(namespace)
        return obj

    def _terminate_namespace(self, current: dict[str, Any]) -> tuple[dict[str, Any], bool]:
        """Mark it Terminating, delete its content; it goes once empty (no GC controller
        here, so this is the namespace controller's job done inline)."""
        nsr = namespace_resource()
        obj = copy.deepcopy(current)
        obj["metadata"]["deletionTimestamp"] = now()
        obj["metadata"]["deletionGracePeriodSeconds"] = 0
        obj.setdefault("status", {})["phase"] = "Terminating"
        self._commit(nsr, "MODIFIED", obj, current)
        name = obj["metadata"]["name"]
        self._emptying = name  # finish the namespace once, below, not per removed object
        try:
            for key, bucket in self._objects.items():
                rt = self._by_key[key]
                if rt.namespaced:
                    for obj_key in [k for k in bucket if k[0] == name]:
                        self._delete(rt, bucket[obj_key])
        finally:
            self._emptying = None
        finished = self._maybe_finish_namespace(name)
        return (finished, True) if finished else (self._objects[nsr.key][("", name)], False)

    def _maybe_finish_namespace(self, name: str) -> dict[str, Any] | None:
        nsr = namespace_resource()
        ns = self._objects[nsr.key].get(("", name))
        if ns is None or not ns["metadata"].get("deletionTimestamp") or \
                ns["metadata"].get("finalizers"):
            return None
        for key, bucket in self._objects.items():
            if self._by_key[key].namespaced and any(k[0] == name for k in bucket):
                return None
        return self._remove(nsr, ns)

    def _require_namespace(self, namespace: str, rt: ResourceType, name: str) -> None:
        ns = self._objects[namespace_resource().key].get(("", namespace))
        if ns is None:
            raise errors.not_found("namespaces", "", namespace)
        if ns["metadata"].get("deletionTimestamp"):
            raise errors.forbidden(
                rt.plural, rt.group, name,
                f"unable to create new content in namespace {namespace} because it is being "
                f"terminated")

    def _strategy(self, rt: ResourceType) -> Strategy:
        return self._strategies.get((rt.group, rt.plural)) or _DEFAULT_STRATEGY

    def _commit(self, rt: ResourceType, kind: str, obj: dict[str, Any],
                prev: dict[str, Any] | None) -> None:
        self._rv += 1
        meta = obj["metadata"]
        meta["resourceVersion"] = str(self._rv)
        key = (meta.get("namespace", ""), meta["name"])
        if kind == "DELETED":
            self._objects[rt.key].pop(key, None)
        else:
            self._objects[rt.key][key] = obj
        change = Change(self._rv, rt.key, kind, obj, prev)
        self._history.append(change)
        while len(self._history) > self._history_size:
            self._compacted_rv = self._history.popleft().rv
        for watcher in self._watchers:
            watcher.offer(change)
        log.debug("event=fakekube_commit type=%s resource=%s namespace=%s name=%s rv=%d",
                  kind, rt.key, key[0], key[1], self._rv)

    # --- watching --------------------------------------------------------------------

    def watch(self, flt: Filter, *, resource_version: str | None, bookmarks: bool,
              send_initial_events: bool = False) -> Watcher:
        """Register a watch; raises `ApiError` 410 when `resource_version` is compacted."""
        with self.lock:
            watcher = Watcher(flt, bookmarks=bookmarks)
            if not resource_version or resource_version == "0" or send_initial_events:
                bucket = self._objects[flt.rt.key]
                for key in sorted(bucket):
                    if flt.matches(bucket[key]):
                        watcher.events.put(("ADDED", bucket[key]))
                if send_initial_events:
                    watcher.events.put(("INITIAL-END", self._rv))
            else:
                since = parse_rv(resource_version)
                if since < self._compacted_rv:
                    raise errors.gone(f"too old resource version: {since} ({self._compacted_rv})")
                for change in self._history:
                    if change.rv > since:
                        watcher.offer(change)
            watcher.last_rv = self._rv
            self._watchers.add(watcher)
            return watcher

    def bookmark(self, watcher: Watcher) -> None:
        with self.lock:
            watcher.bookmark(self._rv)

    def unwatch(self, watcher: Watcher) -> None:
        with self.lock:
            self._watchers.discard(watcher)

    def stop_watches(self) -> int:
        with self.lock:
            for watcher in self._watchers:
                watcher.stop()
            return len(self._watchers)

    def compact(self) -> None:
        """Forget the history, as an etcd compaction does: every resourceVersion handed
        out so far becomes too old to watch from."""
        with self.lock:
            self._history.clear()
            self._compacted_rv = self._rv

    # --- start-up --------------------------------------------------------------------

    def _seed(self) -> None:
        nsr = namespace_resource()
        for name in INITIAL_NAMESPACES:
            self.create(nsr, "", {"metadata": {"name": name}})
        svc = next(r for r in RESOURCES if r.plural == "services")
        first_ip = str(self.ips["IPv4"].network.network_address + 1) if "IPv4" in self.ips else None
        if first_ip:
            self.create(svc, "default", {
                "metadata": {"name": "kubernetes",
                             "labels": {"component": "apiserver", "provider": "kubernetes"}},
                "spec": {"clusterIP": first_ip, "ports": [
                    {"name": "https", "port": 443, "protocol": "TCP", "targetPort": 6443}]},
            })


_DEFAULT_STRATEGY = Strategy()
