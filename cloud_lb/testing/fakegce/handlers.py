"""The Compute API verbs over the store: get, list, aggregatedList, insert, delete,
update (PUT), patch, and the custom methods the load balancers need.

Every mutating verb validates synchronously (name, references, fingerprint, locks,
in-use checks: the 4xx GCE returns at once) and returns an Operation; the change is
applied when the operation is DONE (`operations.py`). Quotas fail the operation, as in
GCE, whose quota errors arrive in `operation.error` with `httpErrorStatusCode` 403.
All methods run with the store's lock held (the server takes it).
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from cloud_lb.testing.fakegce import errors as e
from cloud_lb.testing.fakegce import filters
from cloud_lb.testing.fakegce.collections import BY_PATH, COLLECTIONS, Collection, walk_refs
from cloud_lb.testing.fakegce.context import Ctx
from cloud_lb.testing.fakegce.links import LINK_BASE, Link, Scope, check_name, parse_reference
from cloud_lb.testing.fakegce.operations import Operation, rfc3339
from cloud_lb.testing.fakegce.store import Store, new_fingerprint, new_id
from cloud_lb.testing.fakegce.validation import check_named_ports

OUTPUT_ONLY = (
    "id",
    "kind",
    "selfLink",
    "selfLinkWithId",
    "creationTimestamp",
    "status",
    "users",
    "region",
    "zone",
    "labelFingerprint",
    "size",
)
MAX_RESULTS = 500

Json = dict[str, Any]


class ComputeApi:
    def __init__(self, store: Store, *, project: str, regions: dict[str, tuple[str, ...]]) -> None:
        self.store = store
        self.project = project
        self.regions = regions
        self.quotas: dict[str, int] = {c.api_name: c.quota[1] for c in COLLECTIONS if c.quota}

    # -- scopes ---------------------------------------------------------------------------

    def check_scope(self, scope: Scope) -> None:
        if scope.project != self.project:
            raise e.not_found(f"projects/{scope.project}")
        if scope.kind == "regions" and scope.location not in self.regions:
            raise e.not_found(f"projects/{scope.project}/regions/{scope.location}")
        if scope.kind == "zones" and not any(scope.location in z for z in self.regions.values()):
            raise e.not_found(f"projects/{scope.project}/zones/{scope.location}")

    def region(self, name: str) -> Json:
        if name not in self.regions:
            raise e.not_found(f"projects/{self.project}/regions/{name}")
        base = f"{LINK_BASE}projects/{self.project}"
        return {
            "kind": "compute#region",
            "id": str(abs(hash(name)) % 10**15),
            "name": name,
            "status": "UP",
            "selfLink": f"{base}/regions/{name}",
            "zones": [f"{base}/zones/{z}" for z in self.regions[name]],
        }

    def zone(self, name: str) -> Json:
        for region, zones in self.regions.items():
            if name in zones:
                base = f"{LINK_BASE}projects/{self.project}"
                return {
                    "kind": "compute#zone",
                    "name": name,
                    "status": "UP",
                    "region": f"{base}/regions/{region}",
                    "selfLink": f"{base}/zones/{name}",
                }
        raise e.not_found(f"projects/{self.project}/zones/{name}")

    # -- reads ----------------------------------------------------------------------------

    def present(self, coll: Collection, body: Json) -> Json:
        """The body as a GET returns it: hidden fields dropped, live fields computed."""
        out = copy.deepcopy(body)
        for key in coll.hidden:
            out.pop(key, None)
        if coll.api_name in ("addresses", "globalAddresses"):
            rules = "forwardingRules" if coll.api_name == "addresses" else "globalForwardingRules"
            scope_path = body["selfLink"][len(LINK_BASE) :].rsplit("/", 2)[0]
            users = [
                r["selfLink"]
                for r in self.store.collection_items(rules, scope_path)
                if r.get("IPAddress") == body.get("address")
            ]
            out["status"] = "IN_USE" if users else "RESERVED"
            if users:
                out["users"] = users
        if coll.api_name == "instanceGroups":
            out["size"] = len(self.store.members.get(body["selfLink"][len(LINK_BASE) :], []))
        return out

    def _existing(self, coll: Collection, scope: Scope, name: str) -> tuple[Link, Json]:
        link = Link(scope, coll.segment, name)
        body = self.store.get(link)
        if body is None or self.store.meta.get(link.relative) != coll.api_name:
            raise e.not_found(link.relative)
        return link, body

    def get(self, coll: Collection, scope: Scope, name: str) -> Json:
        self.check_scope(scope)
        return self.present(coll, self._existing(coll, scope, name)[1])

    def list_collection(self, coll: Collection, scope: Scope, query: dict[str, str]) -> Json:
        self.check_scope(scope)
        predicate = filters.parse(query.get("filter"))
        items = [
            self.present(coll, b) for b in self.store.collection_items(coll.api_name, scope.path)
        ]
        items = [i for i in items if predicate(i)]
        out = _page(items, query)
        out.update(
            {
                "kind": coll.kind + "List",
                "id": f"{scope.path}/{coll.segment}",
                "selfLink": f"{LINK_BASE}{scope.path}/{coll.segment}",
            }
        )
        return out

    def aggregated(self, segment: str, query: dict[str, str]) -> Json:
        predicate = filters.parse(query.get("filter"))
        scopes: dict[str, Json] = {}
        for coll in COLLECTIONS:
            if coll.segment != segment:
                continue
            locations = (
                ["global"]
                if coll.scope_kind == "global"
                else [f"regions/{r}" for r in self.regions]
                if coll.scope_kind == "regions"
                else [f"zones/{z}" for zs in self.regions.values() for z in zs]
            )
            for location in locations:
                path = f"projects/{self.project}/{location}"
                items = [
                    self.present(coll, b) for b in self.store.collection_items(coll.api_name, path)
                ]
                items = [i for i in items if predicate(i)]
                scopes[location] = (
                    {segment: items}
                    if items
                    else {
                        "warning": {
                            "code": "NO_RESULTS_ON_PAGE",
                            "message": "There are no results for scope on this page.",
                        }
                    }
                )
        if not scopes:
            raise e.not_found(f"projects/{self.project}/aggregated/{segment}")
        return {
            "kind": f"compute#{segment}AggregatedList",
            "id": f"projects/{self.project}/aggregated/{segment}",
            "items": scopes,
            "selfLink": f"{LINK_BASE}projects/{self.project}/aggregated/{segment}",
        }

    # -- shared checks ------------------------------------------------------------------

    def _writable(self, coll: Collection) -> None:
        if not coll.writable:
            raise e.invalid(
                f"The fake Compute API serves {coll.api_name} read-only", reason="unsupported"
            )

    def _not_busy(self, link: Link) -> None:
        if link.relative in self.store.busy:
            raise e.not_ready(link.relative)

    def _resolve_refs(self, coll: Collection, ctx: Ctx, body: Json) -> None:
        for path in coll.refs:
            for container, key, field in list(walk_refs(body, path)):
                target = parse_reference(container[key], field=field, default_project=self.project)
                if self.store.get(target) is None:
                    raise e.not_found(target.relative)
                if (
                    ctx.scope.kind == "regions"
                    and target.scope.kind == "regions"
                    and target.scope.location != ctx.scope.location
                ):
                    raise e.invalid_field(
                        field, f"'{target.relative}' is in another region than {ctx.scope.location}"
                    )
                container[key] = target.url

    @staticmethod
    def _check_fingerprint(given: Any, stored: Any, link: Link) -> None:
        if given != stored:
            raise e.stale_fingerprint(link.relative)

    def _op(
        self,
        ctx: Ctx,
        op_type: str,
        target_id: str,
        apply: Callable[[], None] | None,
        *,
        lock: bool = True,
        reserve: str | None = None,
        error: e.GCEError | None = None,
        error_code: str = "",
    ) -> Json:
        """Create the operation for a change to `ctx.link`, locking the resource meanwhile."""
        key = ctx.link.relative
        callbacks = list(ctx.on_apply)

        def run() -> None:
            if apply is not None:
                apply()
            for callback in callbacks:
                callback()

        op: Operation = self.store.operations.create(
            ctx.scope,
            op_type,
            ctx.link.url,
            target_id=target_id,
            apply=run if error is None else None,
            error=error,
            error_code=error_code,
        )
        if lock:
            self.store.busy.add(key)
        if reserve is not None:
            self.store.reserved[key] = reserve

        def unlock() -> None:
            self.store.busy.discard(key)
            self.store.reserved.pop(key, None)

        op.on_settled.append(unlock)
        return op.to_json(op.created, initial=True)

    # -- insert -----------------------------------------------------------------------------

    def insert(self, coll: Collection, scope: Scope, body: Json) -> Json:
        self.check_scope(scope)
        self._writable(coll)
        if not isinstance(body, dict):
            raise e.invalid("Request body must be a JSON object")
        name = check_name(body.get("name"))
        link = Link(scope, coll.segment, name)
        if self.store.get(link) is not None or link.relative in self.store.reserved:
            raise e.already_exists(link.relative)
        body = {
            k: v for k, v in copy.deepcopy(body).items() if k not in OUTPUT_ONLY + ("fingerprint",)
        }
        ctx = Ctx(self.store, scope, link, self.regions)
        self._resolve_refs(coll, ctx, body)
        if coll.prepare is not None:
            coll.prepare(ctx, body, None)
        body.update(
            {
                "kind": coll.kind,
                "id": new_id(),
                "name": name,
                "creationTimestamp": rfc3339(),
                "selfLink": link.url,
            }
        )
        if scope.location_link:
            body["region" if scope.kind == "regions" else "zone"] = scope.location_link
        if coll.fingerprint:
            body["fingerprint"] = new_fingerprint()
        quota_error = self._quota_error(coll, scope)
        if quota_error is not None:
            return self._op(
                ctx,
                "insert",
                body["id"],
                None,
                lock=False,
                error=quota_error,
                error_code="QUOTA_EXCEEDED",
            )
        final = body
        return self._op(
            ctx,
            "insert",
            body["id"],
            lambda: self.store.put(link, coll.api_name, final),
            reserve=coll.api_name,
        )

    def _quota_error(self, coll: Collection, scope: Scope) -> e.GCEError | None:
        if coll.quota is None:
            return None
        limit = self.quotas.get(coll.api_name, coll.quota[1])
        quota_scope = scope.path if scope.kind == "regions" else None
        if self.store.count(coll.api_name, quota_scope) < limit:
            return None
        where = f"in region {scope.location}" if scope.kind == "regions" else "globally"
        return e.GCEError(
            403,
            "quotaExceeded",
            f"Quota '{coll.quota[0]}' exceeded.  Limit: {float(limit)} {where}.",
            domain="usageLimits",
        )

    # -- delete -----------------------------------------------------------------------------

    def delete(self, coll: Collection, scope: Scope, name: str) -> Json:
        self.check_scope(scope)
        self._writable(coll)
        link, body = self._existing(coll, scope, name)
        self._not_busy(link)
        users = self.store.users_of(link.url)
        if coll.api_name in ("addresses", "globalAddresses"):
            users += self.present(coll, body).get("users", [])
        if users:
            kind = coll.kind.split("#", 1)[1]
            raise e.in_use(_snake(kind), link.relative, users[0][len(LINK_BASE) :])
        ctx = Ctx(self.store, scope, link, self.regions)
        return self._op(ctx, "delete", body["id"], lambda: self.store.remove(link))

    # -- update (PUT) and patch ------------------------------------------------------------

    def update(self, coll: Collection, scope: Scope, name: str, body: Json) -> Json:
        self.check_scope(scope)
        self._writable(coll)
        if not coll.updatable:
            raise e.invalid(
                f"{coll.api_name} cannot be updated; delete and recreate it", reason="unsupported"
            )
        link, old = self._existing(coll, scope, name)
        self._not_busy(link)
        if not isinstance(body, dict) or body.get("name", name) != name:
            raise e.invalid_field("resource.name", "the name of a resource cannot be changed")
        if coll.fingerprint:
            self._check_fingerprint(body.get("fingerprint"), old.get("fingerprint"), link)
        new = {
            k: v for k, v in copy.deepcopy(body).items() if k not in OUTPUT_ONLY + ("fingerprint",)
        }
        new["name"] = name
        return self._replace(coll, scope, link, old, new, "update")

    def patch(self, coll: Collection, scope: Scope, name: str, body: Json) -> Json:
        self.check_scope(scope)
        self._writable(coll)
        link, old = self._existing(coll, scope, name)
        self._not_busy(link)
        if not isinstance(body, dict):
            raise e.invalid("Request body must be a JSON object")
        if coll.patchable is not None:
            extra = sorted(set(body) - coll.patchable - {"name", "fingerprint"})
            if extra:
                raise e.invalid(
                    f"{coll.api_name} cannot patch field(s) {extra}", reason="fieldNotPatchable"
                )
        if coll.fingerprint:
            self._check_fingerprint(body.get("fingerprint"), old.get("fingerprint"), link)
        merged = _merge(
            {
                k: v
                for k, v in copy.deepcopy(old).items()
                if k not in OUTPUT_ONLY + ("fingerprint",)
            },
            {k: v for k, v in body.items() if k not in OUTPUT_ONLY + ("fingerprint",)},
        )
        if coll.patchable is not None:
            # the few patchable fields of otherwise immutable resources need no re-validation
            # beyond their type; re-running insert validation would re-allocate addresses
            for key in coll.patchable & set(body):
                if not isinstance(body[key], bool):
                    raise e.invalid_field(f"resource.{key}", "must be a boolean")
            final = {**old, **{k: merged[k] for k in coll.patchable if k in merged}}
            if coll.fingerprint:
                final["fingerprint"] = new_fingerprint()
            ctx = Ctx(self.store, scope, link, self.regions)
            return self._op(
                ctx, "patch", old["id"], lambda: self.store.put(link, coll.api_name, final)
            )
        return self._replace(coll, scope, link, old, merged, "patch")

    def _replace(
        self, coll: Collection, scope: Scope, link: Link, old: Json, new: Json, op_type: str
    ) -> Json:
        ctx = Ctx(self.store, scope, link, self.regions)
        self._resolve_refs(coll, ctx, new)
        if coll.prepare is not None:
            coll.prepare(ctx, new, old)
        for key in coll.immutable:
            if key in old and new.get(key, old[key]) != old[key]:
                raise e.invalid_field(
                    f"resource.{key}", f"'{key}' cannot be changed (is '{old[key]}')"
                )
            if key in old:
                new[key] = old[key]
        for key in ("kind", "id", "creationTimestamp", "selfLink", "region", "zone"):
            if key in old:
                new[key] = old[key]
        if coll.fingerprint:
            new["fingerprint"] = new_fingerprint()
        return self._op(ctx, op_type, old["id"], lambda: self.store.put(link, coll.api_name, new))

    # -- custom methods --------------------------------------------------------------------

    def custom(
        self,
        coll: Collection,
        scope: Scope,
        name: str,
        verb: str,
        body: Json,
        query: dict[str, str],
    ) -> Json:
        self.check_scope(scope)
        link, old = self._existing(coll, scope, name)
        handler = _CUSTOM.get((coll.api_name, verb)) or _CUSTOM.get(("*", verb))
        if handler is None:
            raise e.GCEError(
                404, "notFound", f"Method {coll.api_name}.{verb} is not served by the fake"
            )
        if verb != "listInstances":
            self._not_busy(link)
        return handler(self, Ctx(self.store, scope, link, self.regions), old, body or {}, query)

    def _ig_members(self, ctx: Ctx, group: Json, body: Json, *, adding: bool) -> list[str]:
        urls = []
        for i, item in enumerate(body.get("instances", [])):
            field = f"instances[{i}].instance"
            ref = parse_reference(item.get("instance"), field=field, default_project=self.project)
            if ref.segment != "instances":
                raise e.invalid_field(field, f"'{ref.relative}' is not an instance")
            instance = self.store.get(ref)
            if adding and instance is None:
                raise e.not_found(ref.relative)
            if ref.scope.location != ctx.scope.location:
                raise e.invalid(
                    f"Instance '{ref.relative}' is not in zone {ctx.scope.location} "
                    f"of instance group '{group['name']}'."
                )
            if adding and instance is not None:
                network = instance.get("networkInterfaces", [{}])[0].get("network")
                if network != group.get("network"):
                    raise e.invalid(
                        f"Instance '{ref.name}' is in network {network}, the instance "
                        f"group is in {group.get('network')}."
                    )
            urls.append(ref.url)
        if len(set(urls)) != len(urls):
            raise e.invalid("The same instance is listed twice.")
        return urls

    def add_instances(self, ctx: Ctx, group: Json, body: Json, query: dict[str, str]) -> Json:
        urls = self._ig_members(ctx, group, body, adding=True)
        members = self.store.members.setdefault(ctx.link.relative, [])
        for url in urls:
            if url in members:
                raise e.invalid(
                    f"Resource '{url[len(LINK_BASE) :]}' is already a member of "
                    f"'{ctx.link.relative}'",
                    reason="memberAlreadyExists",
                )
        key = ctx.link.relative
        return self._op(
            ctx,
            "addInstances",
            group["id"],
            lambda: self.store.members.setdefault(key, []).extend(urls),
        )

    def remove_instances(self, ctx: Ctx, group: Json, body: Json, query: dict[str, str]) -> Json:
        urls = self._ig_members(ctx, group, body, adding=False)
        members = self.store.members.get(ctx.link.relative, [])
        for url in urls:
            if url not in members:
                raise e.invalid(
                    f"Resource '{url[len(LINK_BASE) :]}' is not a member of '{ctx.link.relative}'",
                    reason="memberNotFound",
                )
        key = ctx.link.relative

        def apply() -> None:
            self.store.members[key] = [m for m in self.store.members.get(key, []) if m not in urls]

        return self._op(ctx, "removeInstances", group["id"], apply)

    def list_instances(self, ctx: Ctx, group: Json, body: Json, query: dict[str, str]) -> Json:
        state = body.get("instanceState", "ALL")
        if state not in ("ALL", "RUNNING"):
            raise e.invalid_field("instanceState", f"'{state}'")
        items = []
        for url in self.store.members.get(ctx.link.relative, []):
            instance = self.store.get(url)
            status = instance.get("status", "RUNNING") if instance else "TERMINATED"
            if state == "RUNNING" and status != "RUNNING":
                continue
            items.append(
                {
                    "instance": url,
                    "status": status,
                    **({"namedPorts": group["namedPorts"]} if group.get("namedPorts") else {}),
                }
            )
        predicate = filters.parse(query.get("filter"))
        out = _page([i for i in items if predicate(i)], query)
        out.update(
            {
                "kind": "compute#instanceGroupsListInstances",
                "id": ctx.link.relative,
                "selfLink": ctx.link.url + "/listInstances",
            }
        )
        return out

    def set_named_ports(self, ctx: Ctx, group: Json, body: Json, query: dict[str, str]) -> Json:
        if "fingerprint" in body:
            self._check_fingerprint(body["fingerprint"], group.get("fingerprint"), ctx.link)
        named = copy.deepcopy(body.get("namedPorts", []))
        check_named_ports(named)
        final = {**group, "namedPorts": named, "fingerprint": new_fingerprint()}
        if not named:
            final.pop("namedPorts")
        return self._op(
            ctx,
            "setNamedPorts",
            group["id"],
            lambda: self.store.put(ctx.link, "instanceGroups", final),
        )

    def set_labels(self, ctx: Ctx, old: Json, body: Json, query: dict[str, str]) -> Json:
        if body.get("labelFingerprint") != old.get("labelFingerprint"):
            raise e.stale_fingerprint(ctx.link.relative)
        labels = body.get("labels", {})
        for key in labels:
            check_name(key, f"labels.{key}")
        final = {**old, "labels": dict(labels), "labelFingerprint": new_fingerprint()}
        coll = self.store.meta[ctx.link.relative]
        return self._op(ctx, "setLabels", old["id"], lambda: self.store.put(ctx.link, coll, final))


def _set_reference(
    field: str, many: bool = False
) -> Callable[[ComputeApi, Ctx, Json, Json, dict[str, str]], Json]:
    """setTarget / setUrlMap / setSslCertificates: replace one reference field."""

    def handler(api: ComputeApi, ctx: Ctx, old: Json, body: Json, query: dict[str, str]) -> Json:
        values = body.get(field) if many else [body.get(field)]
        if not values or any(not v for v in values):
            raise e.invalid_field(field, "Required field not specified")
        urls = []
        for i, value in enumerate(values):
            ref = parse_reference(value, field=f"{field}[{i}]", default_project=api.project)
            if api.store.get(ref) is None:
                raise e.not_found(ref.relative)
            urls.append(ref.url)
        if field == "target" and old.get("backendService"):
            raise e.invalid("This forwarding rule points at a backend service, not a target.")
        final = {**old, field: urls if many else urls[0]}
        if "fingerprint" in old:
            final["fingerprint"] = new_fingerprint()
        coll = api.store.meta[ctx.link.relative]
        return api._op(
            ctx,
            "set" + field[0].upper() + field[1:],
            old["id"],
            lambda: api.store.put(ctx.link, coll, final),
        )

    return handler


_CUSTOM: dict[tuple[str, str], Callable[..., Json]] = {
    ("instanceGroups", "addInstances"): ComputeApi.add_instances,
    ("instanceGroups", "removeInstances"): ComputeApi.remove_instances,
    ("instanceGroups", "listInstances"): ComputeApi.list_instances,
    ("instanceGroups", "setNamedPorts"): ComputeApi.set_named_ports,
    ("*", "setLabels"): ComputeApi.set_labels,
    ("forwardingRules", "setTarget"): _set_reference("target"),
    ("globalForwardingRules", "setTarget"): _set_reference("target"),
    ("targetHttpProxies", "setUrlMap"): _set_reference("urlMap"),
    ("targetHttpsProxies", "setUrlMap"): _set_reference("urlMap"),
    ("targetHttpsProxies", "setSslCertificates"): _set_reference("sslCertificates", True),
}


def collection_for(scope_kind: str, segment: str) -> Collection | None:
    return BY_PATH.get((scope_kind, segment))


def _page(items: list[Json], query: dict[str, str]) -> Json:
    try:
        size = min(int(query.get("maxResults", MAX_RESULTS)), MAX_RESULTS)
        start = int(query.get("pageToken") or 0)
    except ValueError:
        raise e.invalid("Invalid maxResults or pageToken") from None
    out: Json = {}
    page = items[start : start + size]
    if page:
        out["items"] = page
    if start + size < len(items):
        out["nextPageToken"] = str(start + size)
    return out


def _merge(base: Json, patch: Json) -> Json:
    """RFC 7396 JSON merge patch, which GCE's PATCH follows."""
    out = dict(base)
    for key, value in patch.items():
        if value is None:
            out.pop(key, None)
        elif isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def _snake(kind: str) -> str:
    out = "".join("_" + c.lower() if c.isupper() else c for c in kind)
    return out.lstrip("_")
