"""One HTTP(S) request to a load balancer address with a chosen Host and SNI name, for
tests and the Ingress demo: what a browser resolving `host` to `address` would send.

Plain sockets and `http.client.HTTPResponse` (the standard library's `HTTPSConnection`
takes the SNI name from the address it connects to, which is not what an Ingress test
wants). With `ca_pem`, the server certificate must verify against it for `host`.
"""

from __future__ import annotations

import http.client
import socket
import ssl
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Reply:
    status: int
    body: str
    headers: dict[str, str] = field(default_factory=dict)
    cert_serial: str | None = None  # the verified server certificate's serial (HTTPS)

    @property
    def service(self) -> str | None:
        """`service=<ns>/<name>` from a fake-cluster node's answer."""
        for part in self.body.split():
            if part.startswith("service="):
                return part[len("service="):]
        return None


def request(address: str, port: int, *, host: str, path: str = "/", method: str = "GET",
            body: bytes | None = None, ca_pem: str | None = None,
            timeout: float = 3.0) -> Reply:
    """Raises OSError (refused, reset, TLS failure) like a client would see it."""
    sock: socket.socket = socket.create_connection((address, port), timeout=timeout)
    cert_serial = None
    try:
        if ca_pem is not None:
            context = ssl.create_default_context(cadata=ca_pem)
            sock = context.wrap_socket(sock, server_hostname=host)
            cert_serial = (sock.getpeercert() or {}).get("serialNumber")  # type: ignore[attr-defined]
        head = [f"{method} {path} HTTP/1.1", f"Host: {host}", "Connection: close"]
        if body is not None:
            head.append(f"Content-Length: {len(body)}")
        sock.sendall(("\r\n".join(head) + "\r\n\r\n").encode() + (body or b""))
        response = http.client.HTTPResponse(sock, method=method)
        response.begin()
        data = response.read()
        headers = {k.lower(): v for k, v in response.getheaders()}
        return Reply(response.status, data.decode(errors="replace").strip(), headers,
                     str(cert_serial) if cert_serial else None)
    finally:
        sock.close()
