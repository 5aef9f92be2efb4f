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


@dataclass
class DemoCloud:
    """A provider's fake cloud prepared for `cloud-lb demo --provider <name>` and
    end-to-end tests: the config section that points the provider at the fake, the
    spec.providerID each fake-cluster node must carry, and a printable summary of what
    the cloud holds (never secrets).

    Built by `providers/<name>/testing.py: demo_cloud(cluster, nodes)`, a context
    manager taking the cluster name and [(node_name, node_ip), ...].
    """

    provider: str
    config: dict[str, Any]
    provider_ids: dict[str, str]
    describe: Callable[[], str]
    env: dict[str, str] | None = None  # extra environment (credentials for the fake)
