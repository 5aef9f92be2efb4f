"""URL -> (verb, handler call): the Compute REST paths the fake serves.

    /compute/v1/projects/<p>/{global|regions/<r>|zones/<z>}/<collection>[/<name>[/<method>]]
    /compute/v1/projects/<p>/{global|regions/<r>|zones/<z>}/operations[/<op>[/wait]]
    /compute/v1/projects/<p>/regions[/<r>]      /compute/v1/projects/<p>/zones[/<z>]
    /compute/v1/projects/<p>/aggregated/<collection>
    /compute/v1/projects/<p>/targetHttp(s)Proxies/<name>/<method>   (GCE's odd global paths)

`route` returns the verb (e.g. `regionBackendServices.insert`, used by the call log and
fault rules), whether it mutates, and a callable that performs it with the lock held.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from cloud_lb.testing.fakegce import errors as e
from cloud_lb.testing.fakegce.handlers import ComputeApi, collection_for
from cloud_lb.testing.fakegce.links import Scope

PREFIX = ("compute", "v1", "projects")
READ_ONLY_METHODS = {"listInstances", "getHealth"}
_OP_PREFIX = {
    "global": "globalOperations",
    "regions": "regionOperations",
    "zones": "zoneOperations",
}


@dataclass(frozen=True)
class Route:
    verb: str
    mutating: bool
    call: Callable[[], Any]
    waits: bool = False  # operations.wait: runs while releasing the lock


def route(
    api: ComputeApi, method: str, parts: list[str], query: dict[str, str], body: dict[str, Any]
) -> Route:
    if len(parts) < 4 or tuple(parts[:3]) != PREFIX:
        raise e.GCEError(404, "notFound", f"Not Found: /{'/'.join(parts)}")
    project, rest = parts[3], parts[4:]
    if not rest:
        raise e.not_found(f"projects/{project}")
    head = rest[0]
    if head in ("regions", "zones") and len(rest) <= 2:
        return _locations(api, method, project, rest)
    if head == "aggregated" and len(rest) == 2 and method == "GET":
        segment = rest[1]
        return Route(f"{segment}.aggregatedList", False, lambda: api.aggregated(segment, query))
    if head in ("targetHttpProxies", "targetHttpsProxies") and len(rest) == 3:
        scope, tail = Scope(project, "global"), rest
    elif head == "global":
        scope, tail = Scope(project, "global"), rest[1:]
    elif head in ("regions", "zones") and len(rest) >= 3:
        scope, tail = Scope(project, head, rest[1]), rest[2:]
    else:
        raise e.GCEError(404, "notFound", f"Not Found: /{'/'.join(parts)}")
    if tail[0] == "operations":
        return _operations(api, method, scope, tail[1:])
    coll = collection_for(scope.kind, tail[0])
    if coll is None:
        raise e.GCEError(
            404,
            "notFound",
            f"The fake Compute API does not serve {'/'.join(tail[:1])} in {scope.kind} scope",
        )
    name = tail[1] if len(tail) > 1 else None
    custom = tail[2] if len(tail) > 2 else None
    if len(tail) > 3:
        raise e.GCEError(404, "notFound", f"Not Found: /{'/'.join(parts)}")
    verb_base = coll.api_name
    if name is None:
        if method == "GET":
            return Route(
                f"{verb_base}.list", False, lambda: api.list_collection(coll, scope, query)
            )
        if method == "POST":
            return Route(f"{verb_base}.insert", True, lambda: api.insert(coll, scope, body))
    elif custom is None:
        if method == "GET":
            return Route(f"{verb_base}.get", False, lambda: api.get(coll, scope, name))
        if method == "DELETE":
            return Route(f"{verb_base}.delete", True, lambda: api.delete(coll, scope, name))
        if method == "PUT":
            return Route(f"{verb_base}.update", True, lambda: api.update(coll, scope, name, body))
        if method == "PATCH":
            return Route(f"{verb_base}.patch", True, lambda: api.patch(coll, scope, name, body))
    elif method == "POST":
        return Route(
            f"{verb_base}.{custom}",
            custom not in READ_ONLY_METHODS,
            lambda: api.custom(coll, scope, name, custom, body, query),
        )
    raise e.GCEError(405, "methodNotAllowed", f"{method} is not allowed on /{'/'.join(parts)}")


def _locations(api: ComputeApi, method: str, project: str, rest: list[str]) -> Route:
    if method != "GET":
        raise e.GCEError(405, "methodNotAllowed", f"{method} is not allowed on {rest[0]}")
    if project != api.project:
        raise e.not_found(f"projects/{project}")
    kind = rest[0]
    if len(rest) == 2:
        name = rest[1]
        return Route(
            f"{kind}.get", False, lambda: api.region(name) if kind == "regions" else api.zone(name)
        )

    def listing() -> dict[str, Any]:
        names = (
            list(api.regions)
            if kind == "regions"
            else [z for zs in api.regions.values() for z in zs]
        )
        items = [api.region(n) if kind == "regions" else api.zone(n) for n in names]
        return {"kind": f"compute#{kind[:-1]}List", "items": items}

    return Route(f"{kind}.list", False, listing)


def _operations(api: ComputeApi, method: str, scope: Scope, tail: list[str]) -> Route:
    prefix = _OP_PREFIX[scope.kind]
    book = api.store.operations

    def found(name: str) -> dict[str, Any]:
        api.check_scope(scope)
        op = book.get(scope, name)
        if op is None:
            raise e.not_found(f"{scope.path}/operations/{name}")
        return book.snapshot_json(op)

    if not tail and method == "GET":

        def listing() -> dict[str, Any]:
            api.check_scope(scope)
            items = [book.snapshot_json(op) for op in book.list(scope)]
            return {"kind": "compute#operationList", **({"items": items} if items else {})}

        return Route(f"{prefix}.list", False, listing)
    if len(tail) == 1 and method == "GET":
        return Route(f"{prefix}.get", False, lambda: found(tail[0]))
    if len(tail) == 1 and method == "DELETE":
        return Route(f"{prefix}.delete", False, lambda: {})
    if len(tail) == 2 and tail[1] == "wait" and method == "POST":

        def wait() -> dict[str, Any]:
            api.check_scope(scope)
            op = book.wait(scope, tail[0])
            if op is None:
                raise e.not_found(f"{scope.path}/operations/{tail[0]}")
            return book.snapshot_json(op)

        return Route(f"{prefix}.wait", False, wait, waits=True)
    raise e.GCEError(404, "notFound", f"Not Found: {scope.path}/operations/{'/'.join(tail)}")
