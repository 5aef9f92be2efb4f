"""List filtering shared by the fake Octavia and Neutron.

Both APIs filter a collection by any attribute given as a query parameter (exact match,
repeated parameters meaning "any of"), by tags (`tags` = all of, `tags-any` = any of,
`not-tags` = not all of, `not-tags-any` = none of; each a comma-separated list), and
return only `fields` when asked. Paging parameters (`limit`, `marker`, `sort_key`,
`sort_dir`, `page_reverse`) are understood; results come in creation order.
"""

from __future__ import annotations

from typing import Any

from cloud_lb.testing.fakeopenstack.store import Resource

PAGING = {"limit", "marker", "sort_key", "sort_dir", "page_reverse", "fields"}
TAG_FILTERS = {"tags", "tags-any", "not-tags", "not-tags-any"}


def _as_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return ""
    return str(value)


def _tag_set(values: list[str]) -> set[str]:
    return {t for v in values for t in v.split(",") if t}


def matches(resource: Resource, query: dict[str, list[str]], *,
            ignore: frozenset[str] = frozenset()) -> bool:
    tags = set(resource.get("tags") or [])
    for key, values in query.items():
        if key in PAGING or key in ignore:
            continue
        if key == "tags" and not _tag_set(values) <= tags:
            return False
        if key == "tags-any" and not (_tag_set(values) & tags):
            return False
        if key == "not-tags" and _tag_set(values) <= tags:
            return False
        if key == "not-tags-any" and (_tag_set(values) & tags):
            return False
        if key in TAG_FILTERS:
            continue
        if key not in resource:
            continue  # both APIs ignore filters on unknown attributes
        wanted = {v.lower() if v in ("True", "False") else v for v in values}
        if _as_text(resource[key]) not in wanted:
            return False
    return True


def page(rendered: list[Resource], query: dict[str, list[str]]) -> list[Resource]:
    marker = (query.get("marker") or [None])[-1]
    if marker:
        ids = [r.get("id") for r in rendered]
        if marker in ids:
            rendered = rendered[ids.index(marker) + 1:]
    limit = (query.get("limit") or [None])[-1]
    if limit:
        try:
            rendered = rendered[: max(0, int(limit))]
        except ValueError:
            pass
    fields = [f for v in query.get("fields", []) for f in v.split(",") if f]
    if fields:
        rendered = [{k: v for k, v in r.items() if k in fields or k == "id"} for r in rendered]
    return rendered
