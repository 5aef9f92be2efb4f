"""The local provider's persistent state: one JSON file per cluster in `stateDir`.

Why a file: the listeners of the local load balancers live in the controller process,
so they die with it. What must survive a restart is the *allocation*: which address
each load balancer has and whose it is (the tags: cluster, kind, namespace, name, uid).
A restarted controller reads the file and re-binds every load balancer on the SAME
address instead of taking a new one (adoption), `list_owned` works before any
reconcile, and `plan`/`status` run from another process can show what is served.

The file also holds the last applied listeners, backends and source ranges (and, for
an Ingress, routes and the name, hosts and fingerprint of each certificate - never a
key), so that a reader in another process sees the served configuration without
asking the server.

Concurrency: exactly one process serves a cluster's load balancers and writes its
file. It holds an exclusive `flock` on `<file>.lock` from its first change until
`close()`; the kernel drops the lock when the process dies, so a crashed controller
never blocks its successor (unlike a pid file). Writes are atomic (temp file, fsync,
rename), so readers never see half a file. Entries that are not this cluster's (a
hand-made look-alike, an entry without tags) are kept byte for byte and never changed.
"""

from __future__ import annotations

import errno
import fcntl
import hashlib
import json
import logging
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cloud_lb.model import (
    Backend,
    HealthCheck,
    HealthCheckProtocol,
    LBRef,
    Listener,
    ObjectKind,
    Protocol,
)
from providers.local.routing import RouteTable, table_from_json, table_to_json

log = logging.getLogger(__name__)

SCHEMA_VERSION = 1
TAG_KEYS = ("cluster", "kind", "namespace", "name", "uid")


class StateError(Exception):
    """The state file cannot be read or written; the message names the file."""


class WriterBusyError(StateError):
    """Another process serves (and writes the state of) this cluster."""


def provider_id_for(ref: LBRef) -> str:
    """The load balancer's id: stable per (cluster, uid), like the CCM's `a<uid>`."""
    return f"local-{ref.short_hash(12)}"


def tags_for(ref: LBRef) -> dict[str, str]:
    return {
        "cluster": ref.cluster,
        "kind": ref.kind.value,
        "namespace": ref.namespace,
        "name": ref.name,
        "uid": ref.uid,
    }


@dataclass(frozen=True)
class Record:
    """One load balancer as the state file holds it."""

    provider_id: str
    address: str
    tags: tuple[tuple[str, str], ...]
    listeners: tuple[Listener, ...] = ()
    backends: tuple[Backend, ...] = ()
    source_ranges: tuple[str, ...] = ()
    routes: RouteTable | None = None
    certificates: tuple[tuple[str, tuple[str, ...], str], ...] = ()  # (name, hosts, fingerprint)

    @classmethod
    def for_ref(cls, ref: LBRef, address: str) -> Record:
        return cls(provider_id_for(ref), address, tuple(sorted(tags_for(ref).items())))

    def owned_by(self, ref: LBRef) -> bool:
        """Tagged as exactly this object of this cluster."""
        return dict(self.tags) == tags_for(ref)

    def ref(self) -> LBRef | None:
        """The object the tags name, or None when the tags are incomplete or invalid."""
        tags = dict(self.tags)
        if any(not tags.get(k) for k in TAG_KEYS):
            return None
        try:
            return LBRef(
                cluster=tags["cluster"],
                kind=ObjectKind(tags["kind"]),
                namespace=tags["namespace"],
                name=tags["name"],
                uid=tags["uid"],
            )
        except ValueError:
            return None


# ---- JSON mapping (camelCase, like the rest of cloud-lb's files) -------------------


def record_to_json(record: Record) -> dict[str, Any]:
    return {
        "providerId": record.provider_id,
        "address": record.address,
        "tags": dict(record.tags),
        "listeners": [_listener_to_json(li) for li in record.listeners],
        "backends": [
            {"nodeName": b.node_name, "address": b.address, "providerId": b.provider_id, "zone": b.zone}
            for b in record.backends
        ],
        "sourceRanges": list(record.source_ranges),
        **({"routes": table_to_json(record.routes),
            "certificates": [{"name": n, "hosts": list(h), "fingerprint": f}
                             for n, h, f in record.certificates]}
           if record.routes is not None else {}),
    }


def record_from_json(raw: dict[str, Any]) -> Record:
    """Parse one entry; raises (KeyError, TypeError, ValueError) when it is not ours to read."""
    return Record(
        provider_id=str(raw["providerId"]),
        address=str(raw["address"]),
        tags=tuple(sorted((str(k), str(v)) for k, v in dict(raw.get("tags") or {}).items())),
        listeners=tuple(_listener_from_json(li) for li in raw.get("listeners", [])),
        backends=tuple(
            Backend(
                node_name=b["nodeName"], address=b["address"],
                provider_id=b.get("providerId", ""), zone=b.get("zone", ""),
            )
            for b in raw.get("backends", [])
        ),
        source_ranges=tuple(raw.get("sourceRanges", [])),
        routes=table_from_json(raw["routes"]) if raw.get("routes") else None,
        certificates=tuple((str(c["name"]), tuple(c.get("hosts", [])), str(c["fingerprint"]))
                           for c in raw.get("certificates", [])),
    )


def _listener_to_json(listener: Listener) -> dict[str, Any]:
    hc = listener.health_check
    return {
        "name": listener.name,
        "protocol": listener.protocol.value,
        "port": listener.port,
        "nodePort": listener.node_port,
        "healthCheck": {
            "protocol": hc.protocol.value, "port": hc.port, "path": hc.path,
            "intervalSeconds": hc.interval_seconds, "timeoutSeconds": hc.timeout_seconds,
            "healthyThreshold": hc.healthy_threshold, "unhealthyThreshold": hc.unhealthy_threshold,
        },
    }


def _listener_from_json(raw: dict[str, Any]) -> Listener:
    hc = raw["healthCheck"]
    return Listener(
        name=raw["name"],
        protocol=Protocol(raw["protocol"]),
        port=int(raw["port"]),
        node_port=int(raw["nodePort"]),
        health_check=HealthCheck(
            protocol=HealthCheckProtocol(hc["protocol"]), port=int(hc["port"]), path=hc["path"],
            interval_seconds=int(hc["intervalSeconds"]), timeout_seconds=int(hc["timeoutSeconds"]),
            healthy_threshold=int(hc["healthyThreshold"]),
            unhealthy_threshold=int(hc["unhealthyThreshold"]),
        ),
    )


# ---- the file ----------------------------------------------------------------------

_SAFE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")


def state_file_name(cluster: str) -> str:
    """A file name for the cluster: the name itself when safe, else a digest of it."""
    if _SAFE_NAME.fullmatch(cluster):
        return f"{cluster}.json"
    return f"cluster-{hashlib.sha256(cluster.encode()).hexdigest()[:16]}.json"


class StateFile:
    """The state of one cluster's local load balancers. Not thread safe: the provider
    serialises its calls."""

    def __init__(self, directory: Path, cluster: str) -> None:
        self.directory = directory
        self.cluster = cluster
        self.path = directory / state_file_name(cluster)
        self._lock_path = directory / (self.path.name + ".lock")
        self._lock_fd: int | None = None
        # the parsed file and the (inode, size, mtime) it was parsed at: every call reads
        # the state, and a resync of many Services should not parse it each time
        self._cache: tuple[tuple[int, int, int], dict[str, Any]] | None = None

    # -- reading

    def entries(self) -> dict[str, dict[str, Any]]:
        """Every entry of the file by provider id, raw (ours and look-alikes alike).
        A fresh top-level dict: callers may add and remove entries, not edit them."""
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            return {}
        except OSError as exc:
            raise StateError(f"cannot read state file {self.path}: {exc}") from exc
        stamp = (st.st_ino, st.st_size, st.st_mtime_ns)
        if self._cache is not None and self._cache[0] == stamp:
            return dict(self._cache[1])
        entries = self._parse()
        self._cache = (stamp, entries)
        return dict(entries)

    def _parse(self) -> dict[str, dict[str, Any]]:
        document = self._read(self.path)
        if document is None:
            return {}
        owner = document.get("cluster")
        if owner != self.cluster:
            raise StateError(
                f"state file {self.path} belongs to cluster {owner!r}, not {self.cluster!r}; "
                "use another stateDir"
            )
        entries = document.get("loadBalancers")
        if not isinstance(entries, dict):
            raise StateError(f"state file {self.path}: 'loadBalancers' is not an object")
        return entries

    def record(self, provider_id: str) -> tuple[Record | None, bool]:
        """(the record, whether an entry exists). An entry that does not parse gives
        (None, True): something sits under our id that we cannot vouch for."""
        raw = self.entries().get(provider_id)
        if raw is None:
            return None, False
        try:
            return record_from_json(raw), True
        except (KeyError, TypeError, ValueError):
            return None, True

    def records(self) -> list[Record]:
        """Every entry that parses, whoever it is tagged for."""
        out = []
        for raw in self.entries().values():
            try:
                out.append(record_from_json(raw))
            except (KeyError, TypeError, ValueError):
                continue
        return out

    # -- writing (only while holding the writer lock)

    def put(self, record: Record) -> None:
        entries = self.entries()
        entries[record.provider_id] = record_to_json(record)
        self._write(entries)

    def remove(self, provider_id: str) -> None:
        entries = self.entries()
        if entries.pop(provider_id, None) is not None:
            self._write(entries)

    def _write(self, entries: dict[str, Any]) -> None:
        if self._lock_fd is None:
            raise StateError(f"writing {self.path} without holding its lock")
        document = {"version": SCHEMA_VERSION, "cluster": self.cluster, "loadBalancers": entries}
        atomic_write_json(self.path, document)

    # -- the writer lock

    @property
    def is_writer(self) -> bool:
        return self._lock_fd is not None

    def acquire_writer(self) -> None:
        """Become the one process that serves and writes this cluster's state."""
        if self._lock_fd is not None:
            return
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(self._lock_path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            os.close(fd)
            if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN):
                raise WriterBusyError(
                    f"another process serves the local load balancers of cluster "
                    f"{self.cluster!r} ({self._lock_path} is locked); stop it first"
                ) from None
            raise StateError(f"cannot lock {self._lock_path}: {exc}") from exc
        self._lock_fd = fd
        log.info("event=state_lock_acquired cluster=%s path=%s", self.cluster, self.path)

    def writer_elsewhere(self) -> bool:
        """Whether another process (or provider instance) holds the writer lock now.

        Probed by trying the lock and dropping it at once; a writer starting in that
        instant gets WriterBusyError, which the provider reports as a retryable error.
        """
        if self._lock_fd is not None:
            return False
        try:
            fd = os.open(self._lock_path, os.O_RDWR | os.O_CLOEXEC)
        except FileNotFoundError:
            return False
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            return True
        finally:
            os.close(fd)  # closing drops our probe lock, if we got it
        return False

    def release_writer(self) -> None:
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None

    # -- helpers

    @staticmethod
    def _read(path: Path) -> dict[str, Any] | None:
        try:
            text = path.read_text()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise StateError(f"cannot read state file {path}: {exc}") from exc
        try:
            document = json.loads(text)
        except json.JSONDecodeError as exc:
            raise StateError(f"state file {path} is not valid JSON ({exc}); fix or move it") from exc
        if not isinstance(document, dict):
            raise StateError(f"state file {path} is not a JSON object")
        return document


def atomic_write_json(path: Path, document: Any) -> None:
    """Write `document` so that readers see the old or the new file, never a mix."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as handle:
            json.dump(document, handle, indent=2, sort_keys=True)
            handle.write("\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    try:  # make the rename itself durable; best effort (not every filesystem allows it)
        dir_fd = os.open(path.parent, os.O_RDONLY | os.O_CLOEXEC)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
    except OSError:
        pass


def addresses_in_use(directory: Path) -> dict[str, str]:
    """Every address any state file in `directory` records: address -> 'cluster/id'.

    Other clusters' files are read, never written: their addresses are skipped by the
    allocator so that two controllers sharing a stateDir never hand out one address.
    """
    used: dict[str, str] = {}
    if not directory.is_dir():
        return used
    for path in sorted(directory.glob("*.json")):
        try:
            document = StateFile._read(path)
        except StateError as exc:
            log.warning("event=state_file_unreadable path=%s error=%s", path, exc)
            continue
        entries = (document or {}).get("loadBalancers")
        if not isinstance(entries, dict):
            continue
        for provider_id, raw in entries.items():
            address = raw.get("address") if isinstance(raw, dict) else None
            if isinstance(address, str):
                used[address] = f"{(document or {}).get('cluster')}/{provider_id}"
    return used
