"""Opt-in changes to the controller, applied inside the controller process only, to
measure the effect of a fix before proposing it (`--experiment NAME`). The code they
change belongs to the controller's owners; nothing here is on by default.

- `share-backends`: every Service's spec gets the *same* backends tuple while the node
  set is unchanged, instead of a fresh tuple of fresh `Backend` objects per Service
  (`cloud_lb.translate.nodes.eligible_backends` builds one per call). With B nodes
  and L load balancers the reconciler's records hold L*B Backends without it, B with it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Mapping
from typing import Any


def _share_backends() -> None:
    from cloud_lb.translate import nodes, service

    original = nodes.eligible_backends
    lock = threading.Lock()
    last: list[Any] = [None, None]  # [key, backends]

    def shared(node_list: Iterable[Mapping[str, Any]], settings: Any) -> Any:
        node_list = list(node_list)
        key = (settings, tuple(
            (n["metadata"]["name"], n["metadata"].get("resourceVersion")) for n in node_list))
        with lock:
            if last[0] == key:
                return last[1]
        value = original(node_list, settings)
        with lock:
            last[0], last[1] = key, value
        return value

    service.eligible_backends = shared  # type: ignore[attr-defined]


EXPERIMENTS: dict[str, Callable[[], None]] = {"share-backends": _share_backends}


def apply(names: Iterable[str]) -> None:
    for name in names:
        if name not in EXPERIMENTS:
            raise ValueError(f"unknown experiment {name!r}; known: {', '.join(EXPERIMENTS)}")
        EXPERIMENTS[name]()
