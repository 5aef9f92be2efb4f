"""URL paths to what they address, and HTTP methods to Kubernetes verbs.

Paths served (group "" is the core group under /api):

    /version  /healthz  /livez  /readyz  /api  /apis  /apis/<g>  /api/v1  /apis/<g>/<v>
    <prefix>/<plural>[/<name>[/<subresource>]]                       cluster-wide
    <prefix>/namespaces/<ns>/<plural>[/<name>[/<subresource>]]       one namespace
    <prefix>/watch/...                                               legacy watch paths

`/api/v1/namespaces/<name>/status` is the namespace's own status (no resource is
called "status"), as in the real server.
"""

from __future__ import annotations

from dataclasses import dataclass

from cloud_lb.testing.fakekube import errors
from cloud_lb.testing.fakekube.resources import ResourceType, lookup


@dataclass(frozen=True)
class Discovery:
    document: str  # version, health, api, apis, group, resources, root, openapi, openapi-gv
    group: str = ""
    version: str = ""


@dataclass(frozen=True)
class ResourcePath:
    rt: ResourceType
    namespace: str | None  # None: every namespace (a namespaced collection listed cluster-wide)
    name: str | None
    subresource: str | None
    legacy_watch: bool = False

    @property
    def resource_label(self) -> str:
        """"services" or "services/status": what fault rules and counters match on."""
        return f"{self.rt.plural}/{self.subresource}" if self.subresource else self.rt.plural


def parse(path: str) -> Discovery | ResourcePath:
    parts = [p for p in path.split("/") if p]
    if not parts:
        return Discovery("root")
    if len(parts) == 1 and parts[0] in ("healthz", "livez", "readyz"):
        return Discovery("health")
    if parts == ["version"]:
        return Discovery("version")
    if parts[:2] == ["openapi", "v3"]:
        rest = parts[2:]
        if not rest:
            return Discovery("openapi")
        if rest[0] == "api" and len(rest) == 2:
            return Discovery("openapi-gv", "", rest[1])
        if rest[0] == "apis" and len(rest) == 3:
            return Discovery("openapi-gv", rest[1], rest[2])
        raise errors.path_not_found()
    if parts[0] == "api":
        if len(parts) == 1:
            return Discovery("api")
        group, version, rest = "", parts[1], parts[2:]
    elif parts[0] == "apis":
        if len(parts) == 1:
            return Discovery("apis")
        if len(parts) == 2:
            return Discovery("group", parts[1])
        group, version, rest = parts[1], parts[2], parts[3:]
    else:
        raise errors.path_not_found()
    if not rest:
        return Discovery("resources", group, version)
    legacy_watch = rest[0] == "watch"
    if legacy_watch:
        rest = rest[1:]
    return _resource_path(group, version, rest, legacy_watch)


def _resource_path(group: str, version: str, rest: list[str], legacy_watch: bool) -> ResourcePath:
    namespace: str | None = None
    if len(rest) >= 3 and rest[0] == "namespaces" and not (len(rest) == 3 and rest[2] == "status"):
        namespace, rest = rest[1], rest[2:]
    if not rest or len(rest) > 3:
        raise errors.path_not_found()
    rt = lookup(group, version, rest[0])
    if rt is None:
        raise errors.path_not_found()
    name = rest[1] if len(rest) > 1 else None
    subresource = rest[2] if len(rest) > 2 else None
    if subresource is not None and subresource not in rt.subresources:
        raise errors.path_not_found()
    if rt.namespaced:
        if namespace is None and name is not None:
            raise errors.path_not_found()
    elif namespace is not None:
        raise errors.path_not_found()
    else:
        namespace = ""
    return ResourcePath(rt, namespace, name, subresource, legacy_watch)


def verb_for(method: str, target: ResourcePath, watch: bool) -> str:
    if method == "GET":
        if target.name is not None:
            return "watch" if watch or target.legacy_watch else "get"
        return "watch" if watch or target.legacy_watch else "list"
    if target.name is None:
        if method == "POST":
            return "create"
        if method == "DELETE":
            return "deletecollection"
    else:
        if method == "PUT":
            return "update"
        if method == "PATCH":
            return "patch"
        if method == "DELETE" and target.subresource is None:
            return "delete"
    raise errors.method_not_allowed(method)
