"""A forwarder to the fake API server that writes down every request one client makes
(the controller's), as (apiGroup, resource, verb): what RBAC must allow. Request lines
are read off the wire, so nothing in the client is changed or trusted."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from urllib.parse import parse_qs, urlsplit

from tests.leader.partition import Partition

# not anchored at the start: on a kept-alive connection the previous request's body
# (no line end of its own) runs straight into the next request line
_REQUEST_LINE = re.compile(rb"(GET|POST|PUT|PATCH|DELETE) (/\S*) HTTP/1\.[01]$")
_VERBS = {"POST": "create", "PUT": "update", "PATCH": "patch"}


def permission(method: str, target: str) -> tuple[str, str, str] | None:
    """(group, resource[/sub], verb) of one request; None for discovery/version."""
    url = urlsplit(target)
    parts = [p for p in url.path.split("/") if p]
    if parts[:1] == ["api"] and len(parts) >= 3:
        group, rest = "", parts[2:]
    elif parts[:1] == ["apis"] and len(parts) >= 4:
        group, rest = parts[1], parts[3:]
    else:
        return None
    if len(rest) >= 3 and rest[0] == "namespaces":
        rest = rest[2:]  # namespaced: namespaces/<ns>/<resource>...
    resource = rest[0] + (f"/{rest[2]}" if len(rest) >= 3 else "")
    named = len(rest) >= 2
    if method == "GET":
        watch = parse_qs(url.query).get("watch", ["false"])[0].lower() in ("true", "1")
        verb = "watch" if watch else ("get" if named else "list")
    elif method == "DELETE":
        verb = "delete" if named else "deletecollection"
    else:
        verb = _VERBS[method]
    return group, resource, verb


class RecordingProxy(Partition):
    def __init__(self, target_url: str) -> None:
        self.requests: list[tuple[str, str]] = []
        self._record_lock = threading.Lock()
        super().__init__(target_url)

    def client_bytes(self) -> Callable[[bytes], None]:
        buffer = bytearray()

        def sink(data: bytes) -> None:
            buffer.extend(data)
            while (end := buffer.find(b"\r\n")) >= 0:
                line = bytes(buffer[:end])
                del buffer[:end + 2]
                match = _REQUEST_LINE.search(line)
                if match:
                    with self._record_lock:
                        self.requests.append((match.group(1).decode(), match.group(2).decode()))
        return sink

    def permissions(self) -> set[tuple[str, str, str]]:
        with self._record_lock:
            requests = list(self.requests)
        return {p for m, t in requests if (p := permission(m, t)) is not None}
