"""TLS termination for the local L7 proxy: one server context per certificate, chosen
per handshake by SNI (stdlib `ssl`).

`SniStore` owns the listener's base context. Its `sni_callback` switches each
connection to the context of the certificate for the requested name: an exact host of
a certificate, else a wildcard (`*.example.com`, one label), else the default
certificate (one without hosts, or the first by name). The base context also carries
the default certificate, for clients that send no SNI. `update` swaps the table in
place, so a rotated Secret serves its new certificate on the next handshake without
rebinding the socket or dropping a connection.

`ssl` loads keys only from files: each PEM pair is written to a private temporary
directory (0700, files 0600), loaded and removed at once. Contexts are cached by the
certificate's fingerprint. Errors name the certificate, never its content.
"""

from __future__ import annotations

import os
import ssl
import tempfile
from collections.abc import Iterable

from cloud_lb.model import TLSCert


class CertificateError(ValueError):
    """A certificate and key do not load (bad PEM, or they do not pair up)."""


def _load_into(context: ssl.SSLContext, cert: TLSCert) -> None:
    with tempfile.TemporaryDirectory(prefix="cloud-lb-tls-") as tmp:
        cert_path, key_path = os.path.join(tmp, "tls.crt"), os.path.join(tmp, "tls.key")
        for path, text in ((cert_path, cert.cert_pem), (key_path, cert.key_pem)):
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as handle:
                handle.write(text)
        try:
            context.load_cert_chain(cert_path, key_path)
        except (ssl.SSLError, OSError) as exc:
            reason = getattr(exc, "reason", None) or type(exc).__name__
            raise CertificateError(
                f"certificate {cert.name!r} does not load (key and certificate must be PEM "
                f"and belong together): {reason}") from None


def server_context() -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.set_alpn_protocols(["http/1.1"])
    return context


def context_for(cert: TLSCert) -> ssl.SSLContext:
    """A server context holding `cert`; raises `CertificateError`."""
    context = server_context()
    _load_into(context, cert)
    return context


def default_cert(certs: Iterable[TLSCert]) -> TLSCert | None:
    ordered = sorted(certs, key=lambda c: (bool(c.hosts), c.name))
    return ordered[0] if ordered else None


class SniStore:
    """The certificates of one load balancer. Used on the event loop only."""

    def __init__(self) -> None:
        self.base = server_context()
        self.base.sni_callback = self._select
        self._cache: dict[str, ssl.SSLContext] = {}
        self._exact: dict[str, ssl.SSLContext] = {}
        self._wildcard: dict[str, ssl.SSLContext] = {}
        self._default: ssl.SSLContext | None = None
        self._default_fingerprint: str | None = None
        self.certs: tuple[TLSCert, ...] = ()

    def update(self, certs: tuple[TLSCert, ...]) -> None:
        contexts = {c.fingerprint: self._cache.get(c.fingerprint) or context_for(c) for c in certs}
        exact: dict[str, ssl.SSLContext] = {}
        wildcard: dict[str, ssl.SSLContext] = {}
        for cert in sorted(certs, key=lambda c: c.name):
            for host in cert.hosts:
                table = wildcard if host.startswith("*.") else exact
                table.setdefault(host.removeprefix("*."), contexts[cert.fingerprint])
        chosen = default_cert(certs)
        if chosen is not None and chosen.fingerprint != self._default_fingerprint:
            _load_into(self.base, chosen)  # replaces the previous chain of the base context
        self._cache = contexts
        self._exact, self._wildcard = exact, wildcard
        self._default = contexts[chosen.fingerprint] if chosen is not None else None
        self._default_fingerprint = chosen.fingerprint if chosen is not None else None
        self.certs = certs

    def select(self, server_name: str | None) -> ssl.SSLContext | None:
        name = (server_name or "").lower().rstrip(".")
        if name in self._exact:
            return self._exact[name]
        head, _, parent = name.partition(".")
        if head and parent in self._wildcard:
            return self._wildcard[parent]
        return self._default

    def _select(self, sock: ssl.SSLObject | ssl.SSLSocket, server_name: str | None,
                _context: ssl.SSLContext) -> None:
        context = self.select(server_name)
        if context is not None:
            sock.context = context
