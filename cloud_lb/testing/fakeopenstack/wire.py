"""HTTP plumbing of the fake OpenStack: request/response values, routing, the handler.

Each service module (keystone, octavia, neutron, nova, barbican) registers routes on a
`Router` as (method, path pattern, handler). A handler takes a `Request` and returns a
`Response`, or raises `ApiError`, whose body is already shaped the way that service
answers errors (Octavia's `faultstring`, Neutron's `NeutronError`, ...).

Paths are matched after the service prefix (`/load-balancer`, `/network`, ...), so the
patterns read like the API references (`/v2/lbaas/loadbalancers/{id}`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs


class ApiError(Exception):
    """An error answer, body already in the service's own error format."""

    def __init__(self, status: int, body: dict[str, Any] | None,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(f"{status} {body}")
        self.status = status
        self.body = body
        self.headers = headers or {}


@dataclass
class Request:
    method: str
    service: str  # the path prefix: "load-balancer", "network", "identity", ...
    path: str  # the path below the service prefix, without query
    query: dict[str, list[str]]
    headers: dict[str, str]  # lower-cased names
    body: Any
    base_url: str  # scheme://host:port of this server
    params: dict[str, str] = field(default_factory=dict)  # from the route pattern
    token: dict[str, Any] | None = None  # the validated token, when the route needs one

    def q(self, name: str) -> str | None:
        """The last value of a query parameter, or None."""
        values = self.query.get(name)
        return values[-1] if values else None

    def json_body(self, key: str | None = None) -> dict[str, Any]:
        body = self.body
        if not isinstance(body, dict):
            raise ValueError("request body must be a JSON object")
        if key is None:
            return body
        inner = body.get(key)
        if not isinstance(inner, dict):
            raise KeyError(key)
        return inner

    @property
    def service_url(self) -> str:
        return f"{self.base_url}/{self.service}"


@dataclass
class Response:
    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)

    def encode(self) -> tuple[bytes, str]:
        """(payload, content type); str/bytes bodies go out as text (Barbican payloads)."""
        if self.body is None:
            return b"", "application/json"
        if isinstance(self.body, bytes):
            return self.body, "application/octet-stream"
        if isinstance(self.body, str):
            return self.body.encode(), "text/plain"
        return json.dumps(self.body).encode(), "application/json"


Handler = Callable[[Request], Response]


@dataclass
class Route:
    method: str
    service: str
    pattern: re.Pattern[str]
    template: str
    handler: Handler
    authenticated: bool


class Router:
    """Routes by service prefix, method and path pattern (`{name}` = one segment)."""

    def __init__(self) -> None:
        self._routes: list[Route] = []

    def add(self, method: str, service: str, template: str, handler: Handler, *,
            authenticated: bool = True) -> None:
        regex = re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", template.rstrip("/") or "/")
        pattern = re.compile(f"^{regex}/?$")
        self._routes.append(Route(method, service, pattern, template, handler, authenticated))

    def match(self, method: str, service: str,
              path: str) -> tuple[Route | None, dict[str, str], bool]:
        """(route, params, path_known); path_known tells 405 from 404 when no route matches."""
        path_known = False
        for route in self._routes:
            if route.service != service:
                continue
            m = route.pattern.match(path)
            if not m:
                continue
            path_known = True
            if route.method == method:
                return route, m.groupdict(), True
        return None, {}, path_known


def parse_query(raw: str) -> dict[str, list[str]]:
    return parse_qs(raw, keep_blank_values=True)


def split_service(path: str) -> tuple[str, str]:
    """'/load-balancer/v2/lbaas/x' -> ('load-balancer', '/v2/lbaas/x')."""
    parts = path.lstrip("/").split("/", 1)
    service = parts[0]
    rest = "/" + parts[1] if len(parts) > 1 else "/"
    return service, rest
