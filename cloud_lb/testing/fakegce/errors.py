"""GCE's error envelope, as the Compute API returns it.

Compute errors are the legacy Google JSON envelope, which `google.api_core` turns into
`GoogleAPICallError` subclasses with `.errors` holding the inner list, so clients read
the machine reason (`notFound`, `alreadyExists`, `resourceInUseByAnotherResource`, ...)
from `errors[0]["reason"]`:

    {"error": {"code": 409, "message": "...",
               "errors": [{"domain": "global", "reason": "alreadyExists", "message": "..."}]}}
"""

from __future__ import annotations

from typing import Any


class GCEError(Exception):
    """An error response of the fake: HTTP status, machine reason, human message."""

    def __init__(self, status: int, reason: str, message: str, *, domain: str = "global") -> None:
        super().__init__(message)
        self.status = status
        self.reason = reason
        self.message = message
        self.domain = domain

    def to_json(self) -> dict[str, Any]:
        return {
            "error": {
                "code": self.status,
                "message": self.message,
                "errors": [{"message": self.message, "domain": self.domain, "reason": self.reason}],
            }
        }


def not_found(link: str) -> GCEError:
    return GCEError(404, "notFound", f"The resource '{link}' was not found")


def already_exists(link: str) -> GCEError:
    return GCEError(409, "alreadyExists", f"The resource '{link}' already exists")


def in_use(kind: str, link: str, user: str) -> GCEError:
    return GCEError(
        400,
        "resourceInUseByAnotherResource",
        f"The {kind} resource '{link}' is already being used by '{user}'",
    )


def not_ready(link: str) -> GCEError:
    return GCEError(
        400,
        "resourceNotReady",
        f"The resource '{link}' is not ready",
    )


def stale_fingerprint(link: str) -> GCEError:
    return GCEError(
        412,
        "conditionNotMet",
        f"Invalid fingerprint for '{link}': the resource changed since it was read",
    )


def invalid(message: str, *, reason: str = "invalid") -> GCEError:
    return GCEError(400, reason, message)


def invalid_field(field: str, message: str) -> GCEError:
    return GCEError(400, "invalid", f"Invalid value for field '{field}': {message}")


def rate_limited(verb: str) -> GCEError:
    return GCEError(
        429,
        "rateLimitExceeded",
        f"Rate Limit Exceeded: too many requests for {verb}",
        domain="usageLimits",
    )


def backend_error(status: int = 503) -> GCEError:
    return GCEError(
        status, "backendError", "Internal error. Please try again or contact Google Support."
    )
