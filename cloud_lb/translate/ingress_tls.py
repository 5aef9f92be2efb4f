"""`spec.tls` → `TLSCert`s, from Secrets of type `kubernetes.io/tls`.

A TLS entry whose Secret is missing, of another type, or holds no usable PEM is skipped
with a warning (`TLSProblem`): the hosts lose HTTPS, HTTP keeps working - a broken
certificate should not take a site down. Entries naming the same Secret merge into one
certificate with the union of their hosts; an entry without hosts makes its certificate
the default one (served to clients that send no SNI or an unknown name).

Checks here are structural (base64, a CERTIFICATE block that decodes, a PRIVATE KEY
block); whether key and certificate pair up is the provider's to find out when it loads
them. Messages name Secrets and fields, never their content.
"""

from __future__ import annotations

import base64
import binascii
import re
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cloud_lb.model import TLSCert
from cloud_lb.translate.ingress_paths import normalize_host

TLS_SECRET_TYPE = "kubernetes.io/tls"
_CERT_BLOCK = re.compile(r"-----BEGIN CERTIFICATE-----.+?-----END CERTIFICATE-----", re.S)
_KEY_BLOCK = re.compile(r"-----BEGIN (?:[A-Z]+ )?PRIVATE KEY-----.+?-----END (?:[A-Z]+ )?PRIVATE KEY-----",
                        re.S)

Obj = Mapping[str, Any]


@dataclass(frozen=True)
class TLSProblem:
    field: str
    message: str


def _decode(data: Mapping[str, Any], key: str) -> str | None:
    raw = data.get(key)
    if not isinstance(raw, str) or not raw:
        return None
    try:
        return base64.b64decode(raw, validate=True).decode("ascii")
    except (binascii.Error, ValueError):
        return None


def _pem_problem(cert: str | None, key: str | None) -> str | None:
    if cert is None or key is None:
        return "has no base64 tls.crt and tls.key"
    blocks = _CERT_BLOCK.findall(cert)
    if not blocks:
        return "tls.crt holds no PEM certificate"
    try:
        for block in blocks:
            ssl.PEM_cert_to_DER_cert(block)
    except ValueError:
        return "tls.crt holds a PEM certificate that does not decode"
    if not _KEY_BLOCK.search(key):
        return "tls.key holds no PEM private key"
    return None


def tls_certs(spec: Obj, *, namespace: str, secrets: Mapping[str, Obj]
              ) -> tuple[tuple[TLSCert, ...], list[TLSProblem]]:
    """The certificates to serve (ordered by Secret name) and the entries skipped."""
    hosts_by_secret: dict[str, list[str]] = {}
    fields: dict[str, str] = {}
    problems: list[TLSProblem] = []
    entries = spec.get("tls")
    for i, entry in enumerate(entries if isinstance(entries, list) else []):
        field = f"spec.tls[{i}]"
        if not isinstance(entry, Mapping):
            problems.append(TLSProblem(field, "must be an object; skipped"))
            continue
        name = entry.get("secretName")
        if not isinstance(name, str) or not name:
            problems.append(TLSProblem(f"{field}.secretName",
                                       "names no Secret; its hosts are served over HTTP only"))
            continue
        hosts = hosts_by_secret.setdefault(name, [])
        fields.setdefault(name, f"{field}.secretName")
        raw_hosts = entry.get("hosts")
        for host in raw_hosts if isinstance(raw_hosts, list) else []:
            if isinstance(host, str) and (h := normalize_host(host)) and h not in hosts:
                hosts.append(h)
        if not raw_hosts:
            hosts_by_secret[name] = hosts  # no hosts: the default certificate
    certs: list[TLSCert] = []
    for name in sorted(hosts_by_secret):
        key = f"{namespace}/{name}"
        secret = secrets.get(key)
        problem: str | None
        if secret is None:
            problem = f"Secret {key} does not exist (or is not of type {TLS_SECRET_TYPE})"
        elif secret.get("type") != TLS_SECRET_TYPE:
            problem = f"Secret {key} is of type {secret.get('type')!r}, not {TLS_SECRET_TYPE}"
        else:
            data = secret.get("data")
            data = data if isinstance(data, Mapping) else {}
            cert_pem, key_pem = _decode(data, "tls.crt"), _decode(data, "tls.key")
            problem = _pem_problem(cert_pem, key_pem)
            if problem is None:
                assert cert_pem is not None and key_pem is not None
                certs.append(TLSCert(name=name, hosts=tuple(hosts_by_secret[name]),
                                     cert_pem=cert_pem, key_pem=key_pem))
                continue
            problem = f"Secret {key} {problem}"
        problems.append(TLSProblem(fields[name], f"{problem}; its hosts are served over "
                                                 "HTTP only until it is fixed"))
    return tuple(certs), problems
