"""Between the stored form of an object and the form a resource type shows.

Only events need it: `events.k8s.io/v1` Events and core `v1` Events are one collection
(an event written through one API is read through the other, as on a real cluster). The
store keeps the core form; these functions rename the fields of the newer API
(`regarding` <-> `involvedObject`, `note` <-> `message`, `reportingController` <->
`reportingComponent`, `deprecated*` <-> the old names).

Every object leaving the fake gets `kind` and `apiVersion` of the resource type asked for.
"""

from __future__ import annotations

from typing import Any

from cloud_lb.testing.fakekube.errors import FieldErrors
from cloud_lb.testing.fakekube.resources import ResourceType

# events.k8s.io/v1 name -> core/v1 name
_EVENT_FIELDS = {
    "regarding": "involvedObject",
    "note": "message",
    "reportingController": "reportingComponent",
    "deprecatedSource": "source",
    "deprecatedFirstTimestamp": "firstTimestamp",
    "deprecatedLastTimestamp": "lastTimestamp",
    "deprecatedCount": "count",
}
_EVENT_FIELDS_BACK = {v: k for k, v in _EVENT_FIELDS.items()}
EVENT_SELECTOR_FIELDS = {  # events.k8s.io field selector names -> stored (core) names
    **{f"regarding.{f}": f"involvedObject.{f}" for f in
       ("kind", "namespace", "name", "uid", "apiVersion", "resourceVersion", "fieldPath")},
    "reportingController": "reportingComponent",
    "deprecatedSource": "source",
}


def _is_events_v1(rt: ResourceType) -> bool:
    return rt.group == "events.k8s.io"


def to_stored(rt: ResourceType, obj: dict[str, Any]) -> dict[str, Any]:
    """The stored (core) form of `obj` as written through `rt`."""
    if not _is_events_v1(rt):
        return obj
    out = {_EVENT_FIELDS.get(k, k): v for k, v in obj.items()}
    out["apiVersion"], out["kind"] = "v1", "Event"
    return out


def to_external(rt: ResourceType, obj: dict[str, Any]) -> dict[str, Any]:
    """`obj` as resource type `rt` shows it, with its kind and apiVersion set."""
    if _is_events_v1(rt):
        out = {_EVENT_FIELDS_BACK.get(k, k): v for k, v in obj.items()}
    elif obj.get("kind") == rt.kind and obj.get("apiVersion") == rt.api_version:
        return obj
    else:
        out = dict(obj)
    out["apiVersion"], out["kind"] = rt.api_version, rt.kind
    return out


def selector_field(rt: ResourceType, field: str) -> str:
    """The stored field a field selector written for `rt` reads."""
    return EVENT_SELECTOR_FIELDS.get(field, field) if _is_events_v1(rt) else field


def validate_events_v1(obj: dict[str, Any], errs: FieldErrors) -> None:
    """events.k8s.io/v1 is strict where core/v1 Events are not (apiserver ValidateEventCreate)."""
    for field in ("eventTime", "reportingController", "reportingInstance", "action", "reason"):
        if not obj.get(field):
            errs.required(field, "")
    if obj.get("type") not in ("Normal", "Warning"):
        errs.not_supported("type", obj.get("type", ""), ["Normal", "Warning"])
    note = obj.get("note")
    if isinstance(note, str) and len(note.encode()) > 1024:
        errs.too_long("note", 1024)
