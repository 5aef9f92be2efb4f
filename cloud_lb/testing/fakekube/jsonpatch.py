"""RFC 6902 JSON Patch (`application/json-patch+json`) over plain JSON values.

Hand-written (about a page) so the fake needs nothing beyond the package's base
dependencies; errors mirror the apiserver: a patch that is not a list of operations is a
400, an operation that cannot be applied (missing path, failed `test`) is a 422.
"""

from __future__ import annotations

import copy
from typing import Any

from cloud_lb.testing.fakekube.errors import ApiError, bad_request


def _rejected(message: str) -> ApiError:
    # the apiserver answers 422 with reason Invalid and a generic message; the detail is
    # kept in the message too, because "every 4xx carries a useful message"
    return ApiError(
        422, "Invalid",
        f"the server rejected our request due to an error in our request: {message}",
        details={"causes": [{"reason": "UnexpectedServerResponse", "message": message}]},
    )


def _tokens(pointer: Any) -> list[str]:
    if not isinstance(pointer, str) or (pointer and not pointer.startswith("/")):
        raise bad_request(f"invalid JSON pointer: {pointer!r}")
    if pointer == "":
        return []
    return [t.replace("~1", "/").replace("~0", "~") for t in pointer[1:].split("/")]


def _index(container: list[Any], token: str, pointer: str, *, for_add: bool) -> int:
    if for_add and token == "-":
        return len(container)
    if not token.isdigit() or (len(token) > 1 and token.startswith("0")):
        raise _rejected(f"invalid array index {token!r} in {pointer}")
    index = int(token)
    limit = len(container) if for_add else len(container) - 1
    if index > limit:
        raise _rejected(f"array index {index} out of bounds in {pointer}")
    return index


def _parent(doc: Any, pointer: str) -> tuple[Any, str]:
    tokens = _tokens(pointer)
    if not tokens:
        raise _rejected("the whole document cannot be the target of this operation")
    node = doc
    for token in tokens[:-1]:
        if isinstance(node, dict):
            if token not in node:
                raise _rejected(f"missing path: {pointer}")
            node = node[token]
        elif isinstance(node, list):
            node = node[_index(node, token, pointer, for_add=False)]
        else:
            raise _rejected(f"missing path: {pointer}")
    return node, tokens[-1]


def _get(doc: Any, pointer: str) -> Any:
    node = doc
    for token in _tokens(pointer):
        if isinstance(node, dict):
            if token not in node:
                raise _rejected(f"missing path: {pointer}")
            node = node[token]
        elif isinstance(node, list):
            node = node[_index(node, token, pointer, for_add=False)]
        else:
            raise _rejected(f"missing path: {pointer}")
    return node


def _add(doc: Any, pointer: str, value: Any) -> Any:
    if pointer == "":
        return value
    parent, token = _parent(doc, pointer)
    if isinstance(parent, dict):
        parent[token] = value
    elif isinstance(parent, list):
        parent.insert(_index(parent, token, pointer, for_add=True), value)
    else:
        raise _rejected(f"missing path: {pointer}")
    return doc


def _remove(doc: Any, pointer: str) -> Any:
    parent, token = _parent(doc, pointer)
    if isinstance(parent, dict):
        if token not in parent:
            raise _rejected(f"unable to remove nonexistent key: {token}: missing value")
        del parent[token]
    elif isinstance(parent, list):
        del parent[_index(parent, token, pointer, for_add=False)]
    else:
        raise _rejected(f"missing path: {pointer}")
    return doc


def apply_json_patch(document: Any, operations: list[Any]) -> Any:
    """Apply `operations` to a copy of `document` and return it."""
    doc = copy.deepcopy(document)
    for op in operations:
        if not isinstance(op, dict) or "op" not in op or "path" not in op:
            raise bad_request(f"invalid JSON patch operation: {op!r}")
        kind, path = op["op"], op["path"]
        if kind in ("add", "replace", "test") and "value" not in op:
            raise bad_request(f"JSON patch operation {kind} at {path} has no value")
        if kind == "add":
            doc = _add(doc, path, copy.deepcopy(op["value"]))
        elif kind == "remove":
            doc = _remove(doc, path)
        elif kind == "replace":
            if path == "":
                doc = copy.deepcopy(op["value"])
                continue
            _get(doc, path)  # must exist
            doc = _add(_remove(doc, path), path, copy.deepcopy(op["value"]))
        elif kind in ("move", "copy"):
            source = op.get("from")
            if not isinstance(source, str):
                raise bad_request(f"JSON patch operation {kind} at {path} has no from")
            value = copy.deepcopy(_get(doc, source))
            if kind == "move":
                if path.startswith(source + "/"):
                    raise _rejected(f"cannot move {source} into its own child {path}")
                doc = _remove(doc, source)
            doc = _add(doc, path, value)
        elif kind == "test":
            if _get(doc, path) != op["value"]:
                raise _rejected(f"testing value {path} failed: test failed")
        else:
            raise bad_request(f"unexpected JSON patch operation: {kind!r}")
    return doc
