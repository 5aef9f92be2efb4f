"""Known secret values for the secrets test: each cloud's credentials placed the way an
operator places them, a TLS key in the cluster, and (for GCP) a service-account key
file with a fresh private key. (The Compute client signs its own JWTs with that key,
so its token endpoint, a loopback address here, is never called.)
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa



def private_key_pem() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode()


def pem_markers(pem: str) -> list[str]:
    """Lines of a PEM body long enough to be unmistakable in any output."""
    return [line for line in pem.splitlines() if len(line) >= 40][:6]


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
