"""Known secret values for the secrets test: each cloud's credentials placed the way an
operator places them, a TLS key in the cluster, and (for GCP) a service-account key
file whose token endpoint is a tiny loopback OAuth server handing out a known token.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

ACCESS_TOKEN = "ya29.reliability-secret-access-token-8c1f0e"


def private_key_pem() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode()


def pem_markers(pem: str) -> list[str]:
    """Lines of a PEM body long enough to be unmistakable in any output."""
    return [line for line in pem.splitlines() if len(line) >= 40][:6]


class _TokenHandler(BaseHTTPRequestHandler):
    grants: list[str] = []  # one entry per token handed out (proves the key file was used)

    def do_POST(self) -> None:  # noqa: N802 - http.server naming
        self.grants.append(self.path)
        length = int(self.headers.get("content-length") or 0)
        self.rfile.read(length)
        body = json.dumps({"access_token": ACCESS_TOKEN, "expires_in": 3600,
                           "token_type": "Bearer"}).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        pass


@contextmanager
def token_server() -> Iterator[str]:
    """An OAuth2 token endpoint on 127.0.0.1:0 that grants every JWT assertion."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _TokenHandler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                              daemon=True)
    thread.start()
    try:
        host, port = server.server_address[:2]
        yield f"http://{host}:{port}/token"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def service_account_file(path: Path, token_uri: str, pem: str, project: str) -> Path:
    path.write_text(json.dumps({
        "type": "service_account", "project_id": project,
        "private_key_id": "0123456789abcdef0123456789abcdef01234567",
        "private_key": pem, "client_email": f"cloud-lb@{project}.iam.gserviceaccount.com",
        "client_id": "123456789012345678901", "token_uri": token_uri,
    }))
    path.chmod(0o600)
    return path


def tls_secret(name: str, pem_key: str) -> dict[str, Any]:
    import base64

    cert = "-----BEGIN CERTIFICATE-----\nMIIBfake\n-----END CERTIFICATE-----\n"
    return {"apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/tls",
            "metadata": {"name": name},
            "data": {"tls.crt": base64.b64encode(cert.encode()).decode(),
                     "tls.key": base64.b64encode(pem_key.encode()).decode()}}
