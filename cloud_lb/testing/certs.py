"""Self-signed certificates for tests and `cloud-lb demo --ingress` (never production).

Uses the `cryptography` package (imported on call: the controller itself never needs
it). Each certificate is its own CA, so a client verifies it by trusting exactly that
PEM (`ssl.create_default_context(cadata=cert_pem)`).
"""

from __future__ import annotations

import base64
import datetime
from typing import Any


def self_signed(hosts: list[str], *, days: int = 7) -> tuple[str, str]:
    """(certificate PEM, private key PEM) for `hosts` (DNS names, wildcards allowed);
    a random serial, so two calls for the same hosts give different certificates."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, hosts[0])])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=days))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(h) for h in hosts]),
                       critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_pem = cert.public_bytes(serialization.Encoding.PEM).decode()
    key_pem = key.private_bytes(serialization.Encoding.PEM,
                                serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode()
    return cert_pem, key_pem


def tls_secret(name: str, cert_pem: str, key_pem: str) -> dict[str, Any]:
    """A `kubernetes.io/tls` Secret manifest holding the pair."""
    return {
        "apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/tls",
        "metadata": {"name": name},
        "data": {"tls.crt": base64.b64encode(cert_pem.encode()).decode(),
                 "tls.key": base64.b64encode(key_pem.encode()).decode()},
    }
