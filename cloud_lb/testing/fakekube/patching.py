"""The three PATCH flavours of the API server, applied to plain JSON objects.

- `application/merge-patch+json` (RFC 7386): maps merge, `null` deletes, lists replace.
- `application/strategic-merge-patch+json`: like a merge patch, except that the lists the
  Go types tag `patchStrategy:"merge"` are merged: lists of maps by their
  `patchMergeKey` (Service `spec.ports` by `port`, `status.conditions` by `type`,
  `metadata.ownerReferences` by `uid` ...), lists of scalars (`metadata.finalizers`) as
  a set union. It honours the directives kubectl sends: `$patch: replace|delete|merge`,
  `$deleteFromPrimitiveList/<field>`, `$setElementOrder/<field>` and `$retainKeys`.
  Every list not in `MERGE_KEYS` is atomic and replaced whole — as on a real cluster,
  that includes `status.loadBalancer.ingress` (a `+listType=atomic` list in the Go
  types), so a controller must always send the full ingress list.
- `application/json-patch+json` (RFC 6902) lives in `jsonpatch.py`.

Hand-written rather than a dependency: the fake ships in the base package (for
`cloud-lb demo`), and the strategic flavour exists in no Python library; the table below
is the part of the Go struct tags that matters for the resources served here.
"""

from __future__ import annotations

import copy
from typing import Any

from cloud_lb.testing.fakekube.errors import bad_request, unsupported_media_type
from cloud_lb.testing.fakekube.jsonpatch import apply_json_patch

MERGE = "merge-patch"
STRATEGIC = "strategic-merge-patch"
JSON_PATCH = "json-patch"

_CONTENT_TYPES = {
    "application/merge-patch+json": MERGE,
    "application/strategic-merge-patch+json": STRATEGIC,
    "application/json-patch+json": JSON_PATCH,
}

Path = tuple[str, ...]

# lists merged by a key (None: a list of scalars merged as a set), per kind; paths skip
# list indexes (("spec", "containers", "ports") is the ports of every container)
_COMMON: dict[Path, str | None] = {
    ("metadata", "finalizers"): None,
    ("metadata", "ownerReferences"): "uid",
}
MERGE_KEYS: dict[str, dict[Path, str | None]] = {
    "Service": {("spec", "ports"): "port", ("status", "conditions"): "type"},
    "Node": {
        ("spec", "podCIDRs"): None,
        ("status", "conditions"): "type",
        ("status", "addresses"): "type",
    },
    "Namespace": {("status", "conditions"): "type"},
    "Pod": {
        ("spec", "containers"): "name",
        ("spec", "initContainers"): "name",
        ("spec", "containers", "ports"): "containerPort",
        ("spec", "containers", "env"): "name",
        ("spec", "containers", "volumeMounts"): "mountPath",
        ("spec", "initContainers", "env"): "name",
        ("spec", "volumes"): "name",
        ("spec", "imagePullSecrets"): "name",
        ("status", "conditions"): "type",
        ("status", "podIPs"): "ip",
    },
}


def patch_type(content_type: str) -> str:
    """The patch flavour for a request's Content-Type (parameters ignored)."""
    media = content_type.split(";", 1)[0].strip().lower()
    try:
        return _CONTENT_TYPES[media]
    except KeyError:
        raise unsupported_media_type(media) from None


def apply_patch(kind: str, original: dict[str, Any], patch: Any, flavour: str) -> dict[str, Any]:
    """The patched object; `original` is not modified."""
    if flavour == JSON_PATCH:
        if not isinstance(patch, list):
            raise bad_request("json: cannot unmarshal object into Go value of type jsonpatch.Patch")
        return apply_json_patch(original, patch)
    if not isinstance(patch, dict):
        raise bad_request(f"the body of a {flavour} must be a JSON object")
    if flavour == MERGE:
        return merge_patch(original, patch)
    result = strategic_merge(original, patch, {**_COMMON, **MERGE_KEYS.get(kind, {})})
    return result if result is not None else {}


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386 JSON merge patch."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = copy.deepcopy(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


def strategic_merge(
    original: dict[str, Any], patch: dict[str, Any], keys: dict[Path, str | None]
) -> dict[str, Any] | None:
    return _merge_map(original, patch, (), keys)


def _merge_map(
    original: dict[str, Any], patch: dict[str, Any], path: Path, keys: dict[Path, str | None]
) -> dict[str, Any] | None:
    directive = patch.get("$patch")
    if directive == "delete":
        return None
    if directive == "replace":
        return _merge_map({}, {k: v for k, v in patch.items() if k != "$patch"}, path, keys)
    if directive not in (None, "merge"):
        raise bad_request(f"Unknown patch type: {directive} in map: {patch}")
    result = copy.deepcopy(original) if isinstance(original, dict) else {}
    orders: dict[str, list[Any]] = {}
    for key, value in patch.items():
        if key.startswith("$deleteFromPrimitiveList/"):
            field = key.split("/", 1)[1]
            if not isinstance(value, list):
                raise bad_request(f"{key} must be a list")
            if isinstance(result.get(field), list):
                result[field] = [x for x in result[field] if x not in value]
    for key, value in patch.items():
        if key in ("$patch", "$retainKeys") or key.startswith("$deleteFromPrimitiveList/"):
            continue
        if key.startswith("$setElementOrder/"):
            if isinstance(value, list):
                orders[key.split("/", 1)[1]] = value
            continue
        if value is None:
            result.pop(key, None)
            continue
        here = path + (key,)
        current = result.get(key)
        if isinstance(value, dict):
            merged = _merge_map(current if isinstance(current, dict) else {}, value, here, keys)
            if merged is None:
                result.pop(key, None)
            else:
                result[key] = merged
        elif isinstance(value, list) and here in keys:
            result[key] = _merge_list(current if isinstance(current, list) else [], value,
                                      here, keys)
        else:
            result[key] = copy.deepcopy(value)
    for field, order in orders.items():
        if isinstance(result.get(field), list):
            result[field] = _reorder(result[field], order, keys.get(path + (field,)))
    retain = patch.get("$retainKeys")
    if isinstance(retain, list):
        result = {k: v for k, v in result.items() if k in retain}
    return result


def _merge_list(
    original: list[Any], patch: list[Any], path: Path, keys: dict[Path, str | None]
) -> list[Any]:
    merge_key = keys[path]
    if merge_key is None:  # list of scalars: set union, original order first
        result = list(original)
        for item in patch:
            if isinstance(item, dict):
                raise bad_request(f"unexpected map in the list of scalars at {'.'.join(path)}")
            if item not in result:
                result.append(item)
        return result
    if any(isinstance(i, dict) and i.get("$patch") == "replace" for i in patch):
        items = [i for i in patch if not (isinstance(i, dict) and i.get("$patch") == "replace")]
        return [_merge_map({}, i, path, keys) for i in items]
    result = copy.deepcopy(original)
    for item in patch:
        if not isinstance(item, dict):
            raise bad_request(f"unexpected value in the list merged by {merge_key!r} at "
                              f"{'.'.join(path)}: {item!r}")
        if merge_key not in item:
            raise bad_request(f"map: {item} does not contain declared merge key: {merge_key}")
        index = next((n for n, o in enumerate(result)
                      if isinstance(o, dict) and o.get(merge_key) == item[merge_key]), None)
        if item.get("$patch") == "delete":
            result = [o for o in result
                      if not (isinstance(o, dict) and o.get(merge_key) == item[merge_key])]
        elif index is None:
            merged = _merge_map({}, item, path, keys)
            if merged is not None:
                result.append(merged)
        else:
            merged = _merge_map(result[index], item, path, keys)
            if merged is None:
                del result[index]
            else:
                result[index] = merged
    return result


def _reorder(items: list[Any], order: list[Any], merge_key: str | None) -> list[Any]:
    def ident(x: Any) -> Any:
        if merge_key is not None and isinstance(x, dict):
            return x.get(merge_key)
        return x

    wanted = [ident(o) for o in order]
    ranked = sorted(
        enumerate(items),
        key=lambda p: (wanted.index(ident(p[1])) if ident(p[1]) in wanted else len(wanted), p[0]),
    )
    return [item for _, item in ranked]
