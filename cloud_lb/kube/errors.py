"""Errors of the Kubernetes API, as our own hierarchy (kopf-style), raised `from` the
client's `ApiException` so callers branch on type, not on status codes."""

from __future__ import annotations

import json

from kubernetes.client.exceptions import ApiException


class APIError(Exception):
    """A Kubernetes API call failed. `status` is the HTTP code (0 when unreachable)."""

    def __init__(self, message: str, *, status: int = 0, reason: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.reason = reason


class APIConflictError(APIError):
    """409: stale resourceVersion or already exists; re-read and retry."""


class APINotFoundError(APIError):
    """404: the object is gone."""


class APIGoneError(APIError):
    """410: the resourceVersion is too old; relist."""


class APIUnavailableError(APIError):
    """The server did not answer, or answered 5xx/429; retry later."""


def translate_api_exception(exc: ApiException, *, what: str) -> APIError:
    """Map an `ApiException` to our hierarchy with the server's own message."""
    message = exc.reason or ""
    try:
        body = json.loads(exc.body) if exc.body else {}
        message = body.get("message") or message
    except (ValueError, TypeError, AttributeError):
        pass
    status = int(exc.status or 0)
    text = f"{what}: {status} {message}".strip()
    cls: type[APIError]
    if status == 409:
        cls = APIConflictError
    elif status == 404:
        cls = APINotFoundError
    elif status == 410:
        cls = APIGoneError
    elif status == 0 or status == 429 or status >= 500:
        cls = APIUnavailableError
    else:
        cls = APIError
    return cls(text, status=status, reason=str(exc.reason or ""))
