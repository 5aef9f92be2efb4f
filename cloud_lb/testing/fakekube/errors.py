"""Errors of the fake API server, rendered as Kubernetes `Status` objects.

Every failure the fake answers is an `ApiError` carrying what the real API server would
send: the HTTP code, a `reason` (NotFound, AlreadyExists, Conflict, Invalid, ...), a
message worded like the real one (clients and people grep for these) and, for 422
Invalid, `details.causes` naming each offending field. The official client turns the
body into `ApiException(status=..., body=...)`, so tests can assert on any of it.

`FieldErrors` collects validation problems the way the apiserver's `field.ErrorList`
does and formats them with the same wording: `spec.ports[0].nodePort: Invalid value:
30080: provided port is already allocated`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any


class ApiError(Exception):
    """A request the fake refuses; `status()` is the JSON body sent back."""

    def __init__(
        self,
        code: int,
        reason: str,
        message: str,
        *,
        details: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(f"{code} {reason}: {message}")
        self.code = code
        self.reason = reason
        self.message = message
        self.details = details
        self.headers = headers or {}

    def status(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "reason": self.reason,
            "code": self.code,
        }
        if self.details:
            body["details"] = self.details
        return body


def _details(resource: str, group: str, name: str | None) -> dict[str, Any]:
    details: dict[str, Any] = {"kind": resource}
    if group:
        details["group"] = group
    if name:
        details["name"] = name
    return details


def _qualified(resource: str, group: str) -> str:
    return f"{resource}.{group}" if group else resource


def not_found(resource: str, group: str, name: str) -> ApiError:
    return ApiError(
        404, "NotFound", f'{_qualified(resource, group)} "{name}" not found',
        details=_details(resource, group, name),
    )


def path_not_found() -> ApiError:
    return ApiError(404, "NotFound", "the server could not find the requested resource",
                    details={"causes": [{"reason": "UnexpectedServerResponse",
                                         "message": "404 page not found"}]})


def already_exists(resource: str, group: str, name: str) -> ApiError:
    return ApiError(
        409, "AlreadyExists", f'{_qualified(resource, group)} "{name}" already exists',
        details=_details(resource, group, name),
    )


def conflict(resource: str, group: str, name: str, why: str) -> ApiError:
    return ApiError(
        409, "Conflict",
        f'Operation cannot be fulfilled on {_qualified(resource, group)} "{name}": {why}',
        details=_details(resource, group, name),
    )


STALE_OBJECT = ("the object has been modified; please apply your changes to the latest version "
                "and try again")


def bad_request(message: str) -> ApiError:
    return ApiError(400, "BadRequest", message)


def forbidden(resource: str, group: str, name: str, why: str) -> ApiError:
    return ApiError(
        403, "Forbidden", f'{_qualified(resource, group)} "{name}" is forbidden: {why}',
        details=_details(resource, group, name),
    )


def method_not_allowed(method: str) -> ApiError:
    return ApiError(405, "MethodNotAllowed",
                    f"the server does not allow this method on the requested resource ({method})")


def unsupported_media_type(content_type: str) -> ApiError:
    return ApiError(415, "UnsupportedMediaType",
                    f'the body of the request was in an unknown format - accepted media types '
                    f'include: application/json-patch+json, application/merge-patch+json, '
                    f'application/strategic-merge-patch+json (got "{content_type}")')


def unprocessable(message: str) -> ApiError:
    """422 without field causes: how the real server answers a JSON patch that fails."""
    return ApiError(422, "UnprocessableEntity", message)


def gone(message: str) -> ApiError:
    return ApiError(410, "Expired", message)


def too_many_requests(message: str) -> ApiError:
    return ApiError(429, "TooManyRequests", message, details={"retryAfterSeconds": 1},
                    headers={"Retry-After": "1"})


def internal(message: str) -> ApiError:
    return ApiError(500, "InternalError", message,
                    details={"causes": [{"message": message}]})


def _render(value: Any) -> str:
    """Go's `%#v`-ish rendering used in `Invalid value: ...` (strings quoted)."""
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, (int, float)):
        return str(value)
    return json.dumps(value, sort_keys=True)


@dataclass
class FieldError:
    reason: str  # FieldValueInvalid, FieldValueRequired, ...
    field: str
    body: str  # "Invalid value: 80: must be ..." (what follows "field: ")

    def __str__(self) -> str:
        return f"{self.field}: {self.body}"


@dataclass
class FieldErrors:
    """An ordered list of field problems; `raise_if_any` turns them into one 422."""

    errors: list[FieldError] = field(default_factory=list)

    def invalid(self, path: str, value: Any, detail: str) -> None:
        self.errors.append(FieldError("FieldValueInvalid", path,
                                      f"Invalid value: {_render(value)}: {detail}"))

    def required(self, path: str, detail: str = "") -> None:
        body = "Required value" + (f": {detail}" if detail else "")
        self.errors.append(FieldError("FieldValueRequired", path, body))

    def forbidden(self, path: str, detail: str) -> None:
        self.errors.append(FieldError("FieldValueForbidden", path, f"Forbidden: {detail}"))

    def duplicate(self, path: str, value: Any) -> None:
        self.errors.append(FieldError("FieldValueDuplicate", path,
                                      f"Duplicate value: {_render(value)}"))

    def not_supported(self, path: str, value: Any, supported: list[str]) -> None:
        valid = ", ".join(json.dumps(s) for s in supported)
        body = f"Unsupported value: {_render(value)}: supported values: {valid}"
        self.errors.append(FieldError("FieldValueNotSupported", path, body))

    def too_long(self, path: str, limit: int) -> None:
        self.errors.append(FieldError("FieldValueTooLong", path,
                                      f"Too long: must have at most {limit} bytes"))

    def extend(self, other: FieldErrors) -> None:
        self.errors.extend(other.errors)

    def __bool__(self) -> bool:
        return bool(self.errors)

    def raise_if_any(self, kind: str, group: str, name: str) -> None:
        if not self.errors:
            return
        if len(self.errors) == 1:
            summary = str(self.errors[0])
        else:
            summary = "[" + ", ".join(str(e) for e in self.errors) + "]"
        details = _details(kind, group, name)
        details["causes"] = [
            {"reason": e.reason, "message": e.body, "field": e.field} for e in self.errors
        ]
        raise ApiError(422, "Invalid", f'{kind} "{name}" is invalid: {summary}', details=details)
