"""Orphan collection: load balancers tagged as this cluster's whose object is gone.

The finalizer makes this rare (a Service cannot disappear before its load balancer),
but a finalizer removed by hand, a namespace force-deleted, or a crash between a
create and the first status write can leave one. The provider's `list_owned` only
returns resources tagged with this cluster, and `delete` checks ownership again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable

from cloud_lb.model import LBRef, ObjectKind
from cloud_lb.provider import LoadBalancerProvider

log = logging.getLogger(__name__)


def find_orphans(owned: Iterable[LBRef], live_uids: set[str],
                 kinds: frozenset[ObjectKind] = frozenset({ObjectKind.SERVICE})) -> list[LBRef]:
    """The refs of `kinds` whose object uid no longer exists (pure). Refs of kinds whose
    objects were not read are never orphans: absence of evidence is not evidence."""
    return sorted((ref for ref in owned if ref.kind in kinds and ref.uid not in live_uids),
                  key=lambda r: (str(r.kind), r.namespace, r.name))


def collect_orphans(provider: LoadBalancerProvider, live_uids: Callable[[], set[str]], *,
                    apply: bool,
                    kinds: frozenset[ObjectKind] = frozenset({ObjectKind.SERVICE}),
                    ) -> list[LBRef]:
    """List what we own, then read live uids (an object created in between is in the
    set, so its new load balancer is never mistaken for an orphan); delete when `apply`."""
    owned = provider.list_owned()
    orphans = find_orphans(owned, live_uids(), kinds)
    for ref in orphans:
        if apply:
            provider.delete(ref)
            log.info("orphan deleted ref=%s uid=%s", ref, ref.uid)
        else:
            log.info("orphan found ref=%s uid=%s", ref, ref.uid)
    return orphans
