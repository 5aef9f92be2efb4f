"""An Ingress's TLS certificates in Barbican, where Octavia's TERMINATED_HTTPS listeners
load them from.

Each certificate (one TLS Secret's content) is a Barbican *certificate container*
holding a `certificate` secret (the leaf), a `private_key` secret and, when the Secret
carries a chain, an `intermediates` secret: the layout Octavia's Barbican certificate
manager reads. Barbican has no tags, so ownership is the name: everything we store is
named `cloud-lb_<hash of cluster and UID>_...` (`naming.barbican_prefix`), and nothing
without that prefix is ever deleted.

The container name ends with the content's fingerprint, so a rotated Secret gets a new
container: `ensure` stores it, the provider points the listener at it, and `prune`
deletes the old container and its secrets - never one a listener still uses. A crash
between storing a secret and its container leaves a named orphan; `prune` (on rotation)
and `delete_all` (with the load balancer) remove orphans too.

Key material goes out only in the secret create body, which is never logged
(`L7Calls.create_secret`); logs, errors and plans name containers and fingerprints.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass

from keystoneauth1 import exceptions as ksa_exc

from cloud_lb.model import LBRef
from cloud_lb.provider import Change, CloudError
from providers.openstack import naming
from providers.openstack.calls_l7 import L7Calls, NoKeyManagerError
from providers.openstack.l7_render import DesiredCert

log = logging.getLogger(__name__)

_PEM_CERT = re.compile(r"-----BEGIN CERTIFICATE-----.+?-----END CERTIFICATE-----", re.DOTALL)


@dataclass(frozen=True)
class StoredCert:
    name: str
    ref: str  # the container reference
    secret_refs: tuple[str, ...]


def split_chain(cert_pem: str) -> tuple[str, str]:
    """(leaf certificate, intermediates) of a PEM bundle; intermediates may be ''."""
    blocks = _PEM_CERT.findall(cert_pem)
    if not blocks:
        return cert_pem.strip() + "\n", ""
    return blocks[0] + "\n", "\n".join(blocks[1:]) + ("\n" if blocks[1:] else "")


def no_key_manager(exc: CloudError) -> bool:
    """The cloud's catalog has no Barbican at all."""
    return isinstance(exc, NoKeyManagerError) or isinstance(exc.__cause__,
                                                             ksa_exc.EndpointNotFound)


class Certificates:
    def __init__(self, l7: L7Calls) -> None:
        self.l7 = l7

    def stored(self, ref: LBRef) -> list[StoredCert]:
        """Our containers for `ref` (one list call)."""
        prefix = naming.barbican_prefix(ref)
        return [StoredCert(name=c["name"], ref=c["container_ref"],
                           secret_refs=tuple(s["secret_ref"] for s in c.get("secret_refs")
                                             or []))
                for c in self.l7.barbican_list("containers")
                if str(c.get("name") or "").startswith(prefix)]

    @staticmethod
    def pick(wanted: Sequence[DesiredCert], stored: Sequence[StoredCert],
             in_use: Collection[str]) -> dict[str, str]:
        """container name -> the stored reference to use (one a listener already uses
        first), for the wanted certificates already in Barbican."""
        out: dict[str, str] = {}
        for cert in wanted:
            found = [s for s in stored if s.name == cert.container]
            found.sort(key=lambda s: s.ref not in in_use)
            if found:
                out[cert.container] = found[0].ref
        return out

    def plan(self, wanted: Sequence[DesiredCert], stored: Sequence[StoredCert],
             in_use: Collection[str]) -> list[Change]:
        have = self.pick(wanted, stored, in_use)
        changes = [Change("create", "certificate", c.container,
                          f"Secret {c.cert.name}, hosts {c.hosts}")
                   for c in wanted if c.container not in have]
        keep = set(have.values())
        changes += [Change("delete", "certificate", s.name, "no longer served")
                    for s in stored if s.ref not in keep]
        return changes

    def ensure(self, ref: LBRef, wanted: Sequence[DesiredCert], stored: list[StoredCert],
               in_use: Collection[str]) -> dict[str, str]:
        """Every wanted certificate in Barbican: container name -> reference. What is
        created is appended to `stored`, so a later `prune` keeps its secrets."""
        refs = self.pick(wanted, stored, in_use)
        for cert in wanted:
            if cert.container not in refs:
                created = self._store(cert)
                stored.append(created)
                refs[cert.container] = created.ref
                log.info("certificate stored key=%s container=%s secret=%s fingerprint=%s",
                         ref.key, cert.container, cert.cert.name, cert.cert.fingerprint)
        return refs

    def _store(self, cert: DesiredCert) -> StoredCert:
        leaf, chain = split_chain(cert.cert.cert_pem)
        parts = [("certificate", ".crt", leaf, "certificate"),
                 ("private_key", ".key", cert.cert.key_pem, "private")]
        if chain:
            parts.append(("intermediates", ".chain", chain, "certificate"))
        secret_refs = [{"name": role, "secret_ref": self.l7.create_secret(
            {"name": cert.container + suffix, "payload": payload,
             "payload_content_type": "text/plain", "secret_type": kind})}
            for role, suffix, payload, kind in parts]
        container = self.l7.create_container({"name": cert.container, "type": "certificate",
                                              "secret_refs": secret_refs})
        return StoredCert(name=cert.container, ref=container,
                          secret_refs=tuple(s["secret_ref"] for s in secret_refs))

    def prune(self, ref: LBRef, stored: Sequence[StoredCert], keep: Collection[str]) -> None:
        """Delete our containers not in `keep` (references), their secrets, and orphans."""
        stale = [s for s in stored if s.ref not in keep]
        if not stale:
            return
        kept_secrets = {r for s in stored if s.ref in keep for r in s.secret_refs}
        self._delete(ref, stale, kept_secrets)

    def delete_all(self, ref: LBRef) -> None:
        """Everything we stored for `ref` (the load balancer is gone or going). A cloud
        without Barbican has nothing of ours to delete."""
        try:
            stored = self.stored(ref)
        except CloudError as exc:
            if no_key_manager(exc):
                log.info("no key manager in the catalog, no certificates key=%s", ref.key)
                return
            raise
        self._delete(ref, stored, set())

    def _delete(self, ref: LBRef, containers: Sequence[StoredCert],
                kept_secrets: Collection[str]) -> None:
        for container in containers:
            self.l7.delete_barbican("containers", container.ref)
            log.info("certificate deleted key=%s container=%s", ref.key, container.name)
        prefix = naming.barbican_prefix(ref)
        for secret in self.l7.barbican_list("secrets"):
            secret_ref = str(secret.get("secret_ref") or "")
            # ours by name (a stale container's, or an orphan of a crash), not kept
            if str(secret.get("name") or "").startswith(prefix) \
                    and secret_ref not in kept_secrets:
                self.l7.delete_barbican("secrets", secret_ref)
