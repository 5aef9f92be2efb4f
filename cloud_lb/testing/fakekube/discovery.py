"""Discovery documents: /version, /api, /apis, /api/v1, /apis/<group>[/<version>].

They are built from the resource table, so the official client's `DynamicClient` and
kubectl (which fall back from aggregated discovery to these legacy documents) find every
resource, its kind, verbs, short names and subresources.
"""

from __future__ import annotations

from typing import Any

from cloud_lb.testing.fakekube.resources import (
    ALL_VERBS,
    SUBRESOURCE_VERBS,
    groups,
    in_group_version,
)

# what the fake claims to be; kubectl only warns when it is far from its own version
VERSION = {
    "major": "1",
    "minor": "32",
    "gitVersion": "v1.32.0-fakekube",
    "gitCommit": "0000000000000000000000000000000000000000",
    "gitTreeState": "clean",
    "buildDate": "2024-12-11T00:00:00Z",
    "goVersion": "go1.23.0",
    "compiler": "gc",
    "platform": "linux/amd64",
}


def api_versions(server_address: str) -> dict[str, Any]:
    return {
        "kind": "APIVersions",
        "versions": ["v1"],
        "serverAddressByClientCIDRs": [
            {"clientCIDR": "0.0.0.0/0", "serverAddress": server_address}],
    }


def api_group(name: str) -> dict[str, Any] | None:
    versions = groups().get(name)
    if not name or not versions:
        return None
    entries = [{"groupVersion": f"{name}/{v}", "version": v} for v in versions]
    return {"kind": "APIGroup", "apiVersion": "v1", "name": name, "versions": entries,
            "preferredVersion": entries[0]}


def api_group_list() -> dict[str, Any]:
    found = [api_group(g) for g in groups() if g]
    listed = [{k: v for k, v in g.items() if k not in ("kind", "apiVersion")} for g in found if g]
    return {"kind": "APIGroupList", "apiVersion": "v1", "groups": listed}


def resource_list(group: str, version: str) -> dict[str, Any] | None:
    types = in_group_version(group, version)
    if not types:
        return None
    resources: list[dict[str, Any]] = []
    for rt in types:
        entry: dict[str, Any] = {
            "name": rt.plural, "singularName": rt.singular, "namespaced": rt.namespaced,
            "kind": rt.kind, "verbs": list(ALL_VERBS),
        }
        if rt.short_names:
            entry["shortNames"] = list(rt.short_names)
        if rt.plural in ("services", "pods"):
            entry["categories"] = ["all"]
        resources.append(entry)
        for sub in rt.subresources:
            resources.append({"name": f"{rt.plural}/{sub}", "singularName": "",
                              "namespaced": rt.namespaced, "kind": rt.kind,
                              "verbs": list(SUBRESOURCE_VERBS)})
    group_version = f"{group}/{version}" if group else version
    return {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": group_version,
            "resources": resources}


def root_paths() -> dict[str, Any]:
    paths = ["/api", "/api/v1", "/apis", "/healthz", "/livez", "/readyz", "/version"]
    for group, versions in groups().items():
        if group:
            paths.append(f"/apis/{group}")
            paths.extend(f"/apis/{group}/{v}" for v in versions)
    return {"paths": sorted(paths)}


def _gv_path(group: str, version: str) -> str:
    return f"apis/{group}/{version}" if group else f"api/{version}"


def openapi_v3_root() -> dict[str, Any]:
    """The OpenAPI v3 index: one document per group-version."""
    paths = {}
    for group, versions in groups().items():
        for version in versions:
            gv = _gv_path(group, version)
            paths[gv] = {"serverRelativeURL": f"/openapi/v3/{gv}?hash=fakekube"}
    return {"paths": paths}


def openapi_v3_group_version(group: str, version: str) -> dict[str, Any] | None:
    """A skeleton OpenAPI v3 document: paths and operations with their GVK, no schemas.

    kubectl reads it to learn that PATCH takes `fieldValidation` (so `kubectl apply`
    leaves validation to the server instead of downloading schemas); the fake does not
    validate unknown fields, so this only keeps kubectl working."""
    types = in_group_version(group, version)
    if not types:
        return None
    prefix = "/" + _gv_path(group, version)
    paths: dict[str, Any] = {}
    for rt in types:
        gvk = {"group": group, "version": version, "kind": rt.kind}
        base = f"{prefix}/namespaces/{{namespace}}/{rt.plural}" if rt.namespaced \
            else f"{prefix}/{rt.plural}"
        params = [{"name": "fieldValidation", "in": "query", "schema": {"type": "string"}},
                  {"name": "fieldManager", "in": "query", "schema": {"type": "string"}}]
        ok = {"200": {"description": "OK"}}
        operation = {"x-kubernetes-group-version-kind": gvk, "responses": ok}
        paths[base] = {"post": {**operation, "x-kubernetes-action": "post", "parameters": params},
                       "get": {**operation, "x-kubernetes-action": "list"}}
        paths[f"{base}/{{name}}"] = {
            "get": {**operation, "x-kubernetes-action": "get"},
            "put": {**operation, "x-kubernetes-action": "put", "parameters": params},
            "patch": {**operation, "x-kubernetes-action": "patch", "parameters": params},
            "delete": {**operation, "x-kubernetes-action": "delete"},
        }
    return {"openapi": "3.0.0", "info": {"title": "Kubernetes (fake-kube)",
                                         "version": VERSION["gitVersion"]},
            "paths": paths}
