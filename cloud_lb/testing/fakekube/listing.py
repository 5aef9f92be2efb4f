"""Lists: which state a list reads (resourceVersion semantics) and how it is paged.

- `resourceVersion` unset or "0": the current state. A number with
  `resourceVersionMatch=NotOlderThan` (or no match and no limit): the current state too,
  since it is never older; a number in the future: 504 "Too large resource version",
  as the real server answers after waiting. `Exact` (or a number with a limit and no
  match): the state at that resourceVersion, rebuilt from the history window, or 410
  once it has been compacted away.
- `limit`/`continue`: objects in (namespace, name) order; the continue token carries the
  snapshot's resourceVersion and the last key, so every page reads the same snapshot
  (writes between pages do not show up), until the history no longer reaches it (410).
  `remainingItemCount` is given when no selector filters the list, as on a real server.

Pure functions over the store's data; the store calls them under its lock.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Reversible
from typing import Any

from cloud_lb.testing.fakekube import errors
from cloud_lb.testing.fakekube.errors import ApiError
from cloud_lb.testing.fakekube.watching import Change, Filter, ObjKey

Objects = dict[ObjKey, dict[str, Any]]


def parse_rv(value: str) -> int:
    try:
        rv = int(value)
    except ValueError:
        raise errors.bad_request(f'invalid resource version "{value}"') from None
    if rv < 0:
        raise errors.bad_request(f'invalid resource version "{value}"')
    return rv


def list_resource_version(resource_version: str | None, match: str | None, limit: int, *,
                          current: int, compacted: int) -> int:
    """The resourceVersion whose state a list returns."""
    if match and not resource_version:
        raise errors.bad_request(
            "resourceVersionMatch is forbidden unless resourceVersion is provided")
    if match not in (None, "", "NotOlderThan", "Exact"):
        raise errors.bad_request(f'resourceVersionMatch: Unsupported value: "{match}": '
                                 f'supported values: "Exact", "NotOlderThan"')
    if not resource_version or resource_version == "0":
        return current
    wanted = parse_rv(resource_version)
    if wanted > current:
        raise ApiError(504, "Timeout", f"Too large resource version: {wanted}, current: {current}",
                       details={"causes": [{"reason": "ResourceVersionTooLarge",
                                            "message": "Too large resource version"}],
                                "retryAfterSeconds": 1})
    exact = match == "Exact" or (not match and limit > 0)
    if not exact:
        return current  # NotOlderThan: the current state is never older
    if wanted < compacted:
        raise errors.gone("The resourceVersion for the provided list is too old.")
    return wanted


def snapshot(live: Objects, history: Reversible[Change], key: str, rv: int,
             current: int) -> Objects:
    """The objects of one storage key as they were at resourceVersion `rv`, undoing the
    changes after it (newest first)."""
    if rv >= current:
        return live
    state = dict(live)
    for change in reversed(history):
        if change.rv <= rv:
            break
        if change.storage != key:
            continue
        meta = change.obj["metadata"]
        obj_key = (meta.get("namespace", ""), meta["name"])
        if change.type == "ADDED" or change.prev is None:
            state.pop(obj_key, None)
        else:
            state[obj_key] = change.prev
    return state


def page(objects: Objects, flt: Filter, *, start: ObjKey | None, limit: int,
         snapshot_rv: int) -> tuple[list[dict[str, Any]], str | None, int | None]:
    """(items, continue token, remainingItemCount) of one page."""
    keys = sorted(k for k in objects if (flt.namespace is None or k[0] == flt.namespace)
                  and (start is None or k > start))
    selective = bool(flt.labels.requirements or flt.fields.terms)
    items: list[dict[str, Any]] = []
    for n, key in enumerate(keys):
        obj = objects[key]
        if not flt.matches(obj):
            continue
        if limit and len(items) == limit:
            last = items[-1]["metadata"]
            token = encode_continue(snapshot_rv, (last.get("namespace", ""), last["name"]))
            return items, token, None if selective else len(keys) - n
        items.append(obj)
    return items, None, None


def encode_continue(rv: int, start: ObjKey) -> str:
    raw = json.dumps({"v": "fakekube/1", "rv": rv, "start": list(start)}).encode()
    return base64.urlsafe_b64encode(raw).decode()


def decode_continue(token: str, *, compacted: int) -> tuple[int, ObjKey]:
    try:
        data = json.loads(base64.urlsafe_b64decode(token.encode()))
        rv, start = int(data["rv"]), (str(data["start"][0]), str(data["start"][1]))
    except (ValueError, KeyError, IndexError, TypeError, binascii.Error):
        raise errors.bad_request(f"continue key is not valid: {token!r}") from None
    if rv < compacted:
        raise errors.gone("The provided continue parameter is too old to display a consistent "
                          "list result. You can start a new list without the continue "
                          "parameter.")
    return rv, start
