"""One API request in, one answer out: the verbs over the store, independent of HTTP.

`Api.handle(request)` parses the path, counts the request, applies injected faults,
then runs the verb and returns a `Reply` (status, JSON body, headers) — or, for a watch,
a `WatchReply` that the HTTP layer streams (`streaming.py`). Every failure is an
`ApiError` rendered as a Kubernetes `Status`.
"""

from __future__ import annotations

import json
import logging
import threading
from collections import Counter
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

from cloud_lb.testing.fakekube import discovery, errors, routing
from cloud_lb.testing.fakekube.conversion import selector_field, to_external
from cloud_lb.testing.fakekube.errors import ApiError
from cloud_lb.testing.fakekube.faults import Faults
from cloud_lb.testing.fakekube.patching import patch_type
from cloud_lb.testing.fakekube.resources import ResourceType
from cloud_lb.testing.fakekube.selectors import FieldSelector, LabelSelector
from cloud_lb.testing.fakekube.store import Store
from cloud_lb.testing.fakekube.tables import to_table, wants_table
from cloud_lb.testing.fakekube.watching import Filter, Watcher

log = logging.getLogger(__name__)


@dataclass
class Request:
    method: str
    target: str  # path and query
    headers: dict[str, str]  # lower-case names
    body: bytes = b""


@dataclass
class Reply:
    status: int
    body: Any  # JSON-able, or bytes for text
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class WatchReply:
    rt: ResourceType
    watcher: Watcher | None  # None: answer only `error` (410) then end
    timeout: float | None
    error: ApiError | None = None
    table: str | None = None  # kubectl asked for Table objects: the includeObject value


def _flag(query: dict[str, str], name: str) -> bool:
    return query.get(name, "").lower() in ("true", "1")


def _int(query: dict[str, str], name: str) -> int:
    raw = query.get(name, "")
    if not raw:
        return 0
    try:
        value = int(raw)
    except ValueError:
        raise errors.bad_request(f"invalid {name} {raw!r}: must be an integer") from None
    if value < 0:
        raise errors.bad_request(f"invalid {name} {raw!r}: must not be negative")
    return value


def _json_body(request: Request) -> Any:
    if not request.body:
        return None
    media = request.headers.get("content-type", "application/json").split(";", 1)[0].strip()
    if "protobuf" in media or "cbor" in media or "yaml" in media:
        # typed Go clients (`kubectl create namespace ...`) send protobuf; decoding it
        # needs the generated schemas, so the fake speaks JSON only and says so
        raise ApiError(415, "UnsupportedMediaType",
                       f"fake-kube accepts JSON request bodies only, not {media} (with kubectl, "
                       f"use `kubectl apply -f` / `kubectl create -f`)")
    try:
        return json.loads(request.body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise errors.bad_request(f"the body of the request is not valid JSON: {exc}") from None


class Api:
    def __init__(self, store: Store, faults: Faults, *, server_address: str,
                 list_item_kinds: bool = True) -> None:
        self.store = store
        self.faults = faults
        self.server_address = server_address
        self.list_item_kinds = list_item_kinds
        self._counts: Counter[tuple[str, str]] = Counter()
        self._counts_lock = threading.Lock()
        self.stopping = threading.Event()

    def request_count(self, verb: str | None = None, resource: str | None = None) -> int:
        with self._counts_lock:
            return sum(n for (v, r), n in self._counts.items()
                       if (verb is None or v == verb)
                       and (resource is None or r == resource
                            or ("/" not in resource and r.startswith(resource + "/"))))

    def handle(self, request: Request) -> Reply | WatchReply:
        url = urlsplit(request.target)
        query = {k: v[-1] for k, v in parse_qs(url.query, keep_blank_values=True).items()}
        target = routing.parse(url.path)
        if isinstance(target, routing.Discovery):
            self._count("get", "")
            self._faults("", "get")
            if request.method != "GET":
                raise errors.method_not_allowed(request.method)
            return self._discovery(target)
        verb = routing.verb_for(request.method, target, _flag(query, "watch"))
        self._count(verb, target.resource_label)
        self._faults(target.resource_label, verb)
        if query.get("dryRun"):
            raise errors.bad_request("dryRun is not supported by fake-kube")
        return self._run(verb, target, query, request)

    def _count(self, verb: str, resource: str) -> None:
        with self._counts_lock:
            self._counts[(verb, resource)] += 1

    def _faults(self, resource: str, verb: str) -> None:
        delay = self.faults.delay_for(resource, verb)
        if delay > 0:
            self.stopping.wait(delay)  # returns early when the server stops
        failure = self.faults.failure_for(resource, verb)
        if failure is not None:
            raise failure

    def _discovery(self, target: routing.Discovery) -> Reply:
        doc: Any
        if target.document == "health":
            return Reply(200, b"ok", {"Content-Type": "text/plain"})
        if target.document == "version":
            doc = discovery.VERSION
        elif target.document == "api":
            doc = discovery.api_versions(self.server_address)
        elif target.document == "apis":
            doc = discovery.api_group_list()
        elif target.document == "group":
            doc = discovery.api_group(target.group)
        elif target.document == "resources":
            doc = discovery.resource_list(target.group, target.version)
        elif target.document == "openapi":
            doc = discovery.openapi_v3_root()
        elif target.document == "openapi-gv":
            doc = discovery.openapi_v3_group_version(target.group, target.version)
        else:
            doc = discovery.root_paths()
        if doc is None:
            raise errors.path_not_found()
        return Reply(200, doc)

    def _filter(self, target: routing.ResourcePath, query: dict[str, str]) -> Filter:
        rt = target.rt
        fields = FieldSelector.parse(query.get("fieldSelector"),
                                     lambda f: rt.selectable(selector_field(rt, f)))
        terms = tuple((selector_field(rt, f), op, v) for f, op, v in fields.terms)
        if target.name is not None:  # a watch on one object
            terms += (("metadata.name", "=", target.name),)
        return Filter(rt, target.namespace if rt.namespaced else None,
                      LabelSelector.parse(query.get("labelSelector")), FieldSelector(terms))

    def _out(self, rt: ResourceType, obj: dict[str, Any]) -> dict[str, Any]:
        return to_external(rt, obj)

    def _run(self, verb: str, target: routing.ResourcePath, query: dict[str, str],
             request: Request) -> Reply | WatchReply:
        rt, ns, name = target.rt, target.namespace or "", target.name or ""
        if verb == "get":
            obj = self.store.get(rt, ns, name)
            if wants_table(request.headers.get("accept", "")):
                return Reply(200, to_table(rt, [self._out(rt, obj)], {},
                                           query.get("includeObject", "Metadata")))
            return Reply(200, self._out(rt, obj))
        if verb == "list":
            return self._list(target, query, request)
        if verb == "watch":
            reply = self._watch(target, query)
            if wants_table(request.headers.get("accept", "")):
                reply.table = query.get("includeObject", "Metadata")
            return reply
        if verb == "create":
            if target.namespace is None:
                raise errors.method_not_allowed(request.method)
            return Reply(201, self._out(rt, self.store.create(rt, ns, _json_body(request))))
        if verb == "update":
            obj, created = self.store.update(rt, ns, name, _json_body(request), target.subresource)
            return Reply(201 if created else 200, self._out(rt, obj))
        if verb == "patch":
            flavour = patch_type(request.headers.get("content-type", ""))
            obj = self.store.patch(rt, ns, name, _json_body(request), flavour, target.subresource)
            return Reply(200, self._out(rt, obj))
        if verb == "delete":
            options = _json_body(request)
            if isinstance(options, dict) and options.get("dryRun"):
                raise errors.bad_request("dryRun is not supported by fake-kube")
            obj, removed = self.store.delete(rt, ns, name, options if isinstance(options, dict)
                                             else None)
            if removed and not rt.return_deleted_object:
                return Reply(200, {
                    "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success",
                    "details": {"name": name, "group": rt.group, "kind": rt.plural,
                                "uid": obj["metadata"]["uid"]}})
            return Reply(200 if removed else 202, self._out(rt, obj))
        if verb == "deletecollection":
            if rt.namespaced and target.namespace is None:
                raise errors.method_not_allowed(request.method)
            deleted = self.store.delete_collection(self._filter(target, query))
            return Reply(200, {"kind": rt.list_kind, "apiVersion": rt.api_version,
                               "metadata": {"resourceVersion": str(self.store.resource_version)},
                               "items": [self._out(rt, o) for o in deleted]})
        raise errors.method_not_allowed(request.method)

    def _list(self, target: routing.ResourcePath, query: dict[str, str],
              request: Request) -> Reply:
        rt = target.rt
        items, rv, token, remaining = self.store.list(
            self._filter(target, query), limit=_int(query, "limit"),
            continue_token=query.get("continue") or None,
            resource_version=query.get("resourceVersion"),
            match=query.get("resourceVersionMatch") or None)
        meta: dict[str, Any] = {"resourceVersion": str(rv)}
        if token:
            meta["continue"] = token
        if remaining is not None:
            meta["remainingItemCount"] = remaining
        out = [self._out(rt, o) for o in items]
        if wants_table(request.headers.get("accept", "")):
            return Reply(200, to_table(rt, out, meta, query.get("includeObject", "Metadata")))
        if not self.list_item_kinds:  # exactly as the real server: items carry no kind
            out = [{k: v for k, v in o.items() if k not in ("kind", "apiVersion")} for o in out]
        return Reply(200, {"kind": rt.list_kind, "apiVersion": rt.api_version,
                           "metadata": meta, "items": out})

    def _watch(self, target: routing.ResourcePath, query: dict[str, str]) -> WatchReply:
        if self.stopping.is_set():
            raise ApiError(503, "ServiceUnavailable", "fake-kube is shutting down")
        timeout = _int(query, "timeoutSeconds") or None
        flt = self._filter(target, query)
        if self.faults.take_watch_expiry():
            return WatchReply(target.rt, None, timeout,
                              errors.gone("too old resource version: injected by fake-kube"))
        try:
            watcher = self.store.watch(
                flt, resource_version=query.get("resourceVersion"),
                bookmarks=_flag(query, "allowWatchBookmarks"),
                send_initial_events=_flag(query, "sendInitialEvents"))
        except ApiError as exc:
            if exc.code != 410:
                raise
            return WatchReply(target.rt, None, timeout, exc)  # 200 + ERROR event, like the real one
        return WatchReply(target.rt, watcher, float(timeout) if timeout else None)

    def event_line(self, rt: ResourceType, item: tuple[str, Any], *, table: str | None = None,
                   columns: bool = True) -> bytes:
        """One watch event as the wire carries it: a JSON object and a newline. For kubectl
        (`table`), objects are one-row Tables, column definitions in the first one only."""
        kind, payload = item
        if table is not None and kind not in ("BOOKMARK", "INITIAL-END"):
            obj = self._out(rt, payload)
            rows = to_table(rt, [obj], {"resourceVersion": obj["metadata"]["resourceVersion"]},
                            table)
            if not columns:
                rows["columnDefinitions"] = []
            return json.dumps({"type": kind, "object": rows},
                              separators=(",", ":")).encode() + b"\n"
        if kind in ("BOOKMARK", "INITIAL-END"):
            meta: dict[str, Any] = {"resourceVersion": str(payload)}
            if kind == "INITIAL-END":
                meta["annotations"] = {"k8s.io/initial-events-end": "true"}
            event = {"type": "BOOKMARK",
                     "object": {"kind": rt.kind, "apiVersion": rt.api_version, "metadata": meta}}
        else:
            event = {"type": kind, "object": self._out(rt, payload)}
        return json.dumps(event, separators=(",", ":")).encode() + b"\n"

    @staticmethod
    def error_line(error: ApiError) -> bytes:
        return json.dumps({"type": "ERROR", "object": error.status()},
                          separators=(",", ":")).encode() + b"\n"
