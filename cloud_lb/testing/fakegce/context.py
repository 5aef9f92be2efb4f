"""What a collection's validation sees: the store, where the resource lives, its link."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from cloud_lb.testing.fakegce.links import Link, Scope
from cloud_lb.testing.fakegce.store import Store


@dataclass
class Ctx:
    store: Store
    scope: Scope
    link: Link
    # regions the fake serves -> their zones (to check zonal references of regional resources)
    regions: dict[str, tuple[str, ...]]
    # changes to run when the operation is applied, besides storing the body
    on_apply: list[Callable[[], None]] = field(default_factory=list)

    def resolve(self, url: str) -> dict[str, Any] | None:
        return self.store.get(url)
