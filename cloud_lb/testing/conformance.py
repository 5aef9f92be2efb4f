"""What a provider offers the conformance suite (`tests/conformance/`).

Each provider package has a module `providers/<name>/testing.py` with a context
manager `conformance_target(cluster: str)` yielding a `ConformanceTarget`: the provider
built against its fake cloud (moto, the fake OpenStack, the fake GCE, local sockets),
plus the few hooks the suite needs to prove the contract.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from cloud_lb.model import Backend, LBRef
from cloud_lb.provider import CallRecorder, LoadBalancerProvider


@dataclass
class ConformanceTarget:
    provider: LoadBalancerProvider
    recorder: CallRecorder
    # n backends that are valid in this cloud (instances exist, addresses on the subnet)
    backends: Callable[[int], tuple[Backend, ...]]
    # create, outside the provider, a load balancer that looks like the one `ref` would get
    # (same name pattern) but belongs to another cluster or carries no tags
    plant_foreign: Callable[[LBRef], None]
    # the whole fake cloud's state, comparable with ==, to prove nothing foreign changed
    snapshot: Callable[[], Any]
