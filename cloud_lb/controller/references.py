"""The index from a Service or Secret to the Ingresses that refer to it.

An Ingress's load balancer depends on objects other than the Ingress: its backend
Services (their node ports and health-check settings) and its TLS Secrets. When one of
them changes, the Ingresses that name it must be re-synced; this index answers "which
ones" in O(1) instead of scanning every Ingress on every Service event. It is fed from
the Ingress informer's events (the references are read from the Ingress alone, so an
Ingress whose Service does not exist yet is indexed too, and re-synced when it appears).
Thread safe: informer threads write, others read.
"""

from __future__ import annotations

import threading
from collections import defaultdict

from cloud_lb.translate.ingress_class import IngressReferences

SERVICE = "Service"
SECRET = "Secret"


class ReferenceIndex:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_object: defaultdict[tuple[str, str], set[str]] = defaultdict(set)
        self._by_ingress: dict[str, set[tuple[str, str]]] = {}

    def set(self, ingress_key: str, refs: IngressReferences) -> None:
        """Record what `ingress_key` refers to now (replacing what it referred to)."""
        wanted = {(SERVICE, s) for s in refs.services} | {(SECRET, s) for s in refs.secrets}
        with self._lock:
            previous = self._by_ingress.get(ingress_key, set())
            for ref in previous - wanted:
                self._drop(ref, ingress_key)
            for ref in wanted - previous:
                self._by_object[ref].add(ingress_key)
            self._by_ingress[ingress_key] = wanted

    def remove(self, ingress_key: str) -> None:
        with self._lock:
            for ref in self._by_ingress.pop(ingress_key, set()):
                self._drop(ref, ingress_key)

    def dependents(self, kind: str, key: str) -> set[str]:
        """The keys of the Ingresses that refer to the `kind` object `namespace/name`."""
        with self._lock:
            return set(self._by_object.get((kind, key), ()))

    def __len__(self) -> int:
        with self._lock:
            return len(self._by_ingress)

    def _drop(self, ref: tuple[str, str], ingress_key: str) -> None:
        keys = self._by_object.get(ref)
        if keys is not None:
            keys.discard(ingress_key)
            if not keys:
                del self._by_object[ref]
