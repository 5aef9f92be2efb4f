"""The plugin contract between the controller and a cloud, and the plugin registry.

A provider is four idempotent verbs over a read-only `LoadBalancerSpec` (as in the
Kubernetes cloud-provider's `LoadBalancer` interface) plus `plan`, `get` and
`list_owned`. Providers are found through the entry-point group `cloud_lb.providers`;
each entry point names a `ProviderPlugin`, so a third party ships a provider as its own
package. Providers import this module and `cloud_lb.model`, never the controller.

Errors: a provider raises `InvalidSpecError` for a spec it cannot serve (becomes an
`InvalidLoadBalancerSpec` event, no retry until the object changes), `PendingError` while
the cloud is still provisioning (requeued after `retry_after`, no error event),
`OwnershipError` when a resource with our name is not ours, and `CloudError` for
everything else (an event with the cloud's message, retried with backoff).
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from typing import Any, Protocol, runtime_checkable

from pydantic import BaseModel

from cloud_lb.model import LBRef, LoadBalancerSpec, LoadBalancerStatus

ENTRY_POINT_GROUP = "cloud_lb.providers"


class ProviderError(Exception):
    """Base of all errors a provider raises on purpose."""


class InvalidSpecError(ProviderError):
    """The spec asks for something this provider cannot do; the user must change it."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class PendingError(ProviderError):
    """The cloud is still working (e.g. Octavia PENDING_*); try again later."""

    def __init__(self, message: str, *, retry_after: float = 5.0) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class OwnershipError(ProviderError):
    """A cloud resource has our name but is not tagged as ours: never touched."""


class CloudError(ProviderError):
    """A cloud call failed. `retryable` is False for 4xx user errors (quota, bad value)."""

    def __init__(self, message: str, *, operation: str = "", retryable: bool = True) -> None:
        super().__init__(message)
        self.operation = operation
        self.retryable = retryable


@dataclass(frozen=True)
class Capabilities:
    """What a provider can serve; translation rejects the rest with a clear message."""

    tcp: bool = True
    udp: bool = False
    sctp: bool = False
    mixed_protocols: bool = False
    l7: bool = False
    source_ranges: bool = False
    internal: bool = False
    static_ip: bool = False
    ipv6: bool = False
    dual_stack: bool = False
    proxy_protocol: bool = False
    pod_targets: bool = False
    hostname_status: bool = False  # status carries a hostname instead of an IP (AWS)


@dataclass(frozen=True)
class Change:
    """One step `ensure` would take. Printable; never contains secrets."""

    action: str  # "create" | "update" | "delete"
    resource: str  # e.g. "listener", "pool", "floatingip"
    name: str
    detail: str = ""

    def __str__(self) -> str:
        sign = {"create": "+", "update": "~", "delete": "-"}.get(self.action, "?")
        tail = f" ({self.detail})" if self.detail else ""
        return f"{sign} {self.resource} {self.name}{tail}"


class CallRecorder:
    """Counts cloud calls by operation and whether they mutate.

    Providers record every cloud call here; the controller exports it as metrics and
    tests and benchmarks assert on it (e.g. an unchanged resync makes zero mutations).
    Thread safe. Observers (metrics) may subscribe with `subscribe`.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.calls: Counter[tuple[str, bool, str]] = Counter()
        self._observers: list[Callable[[str, bool, str, float], None]] = []

    def record(self, operation: str, *, mutating: bool, result: str = "ok",
               seconds: float = 0.0) -> None:
        with self._lock:
            self.calls[(operation, mutating, result)] += 1
            observers = list(self._observers)
        for observer in observers:
            observer(operation, mutating, result, seconds)

    def subscribe(self, observer: Callable[[str, bool, str, float], None]) -> None:
        with self._lock:
            self._observers.append(observer)

    def count(self, *, mutating: bool | None = None, operation: str | None = None) -> int:
        with self._lock:
            return sum(
                n for (op, mut, _), n in self.calls.items()
                if (mutating is None or mut == mutating) and (operation is None or op == operation)
            )

    def mutations(self) -> int:
        return self.count(mutating=True)

    def reset(self) -> None:
        with self._lock:
            self.calls.clear()


@dataclass
class ProviderContext:
    """What the runtime hands a provider at construction."""

    cluster_name: str
    recorder: CallRecorder = field(default_factory=CallRecorder)


@runtime_checkable
class LoadBalancerProvider(Protocol):
    name: str
    capabilities: Capabilities

    def get(self, ref: LBRef) -> LoadBalancerStatus | None:
        """The load balancer for `ref` if it exists (and is ours), else None."""

    def plan(self, spec: LoadBalancerSpec) -> list[Change]:
        """What `ensure(spec)` would change. Reads only."""

    def ensure(self, spec: LoadBalancerSpec) -> LoadBalancerStatus:
        """Create or converge. Idempotent; an unchanged spec makes zero mutating calls."""

    def update_backends(self, spec: LoadBalancerSpec) -> None:
        """Only the backend set changed: touch members/targets only."""

    def delete(self, ref: LBRef) -> None:
        """Remove everything we created for `ref`. Gone is success."""

    def list_owned(self) -> list[LBRef]:
        """Every load balancer tagged as this cluster's."""

    def close(self) -> None:
        """Release clients, threads and sockets."""


@dataclass(frozen=True)
class ProviderPlugin:
    """What an entry point in `cloud_lb.providers` names.

    `config_model` validates the provider's section of the config file (the section
    is named after the provider); `factory` builds the provider from it.
    """

    name: str
    config_model: type[BaseModel]
    factory: Callable[[Any, ProviderContext], LoadBalancerProvider]
    description: str = ""


class UnknownProviderError(LookupError):
    pass


def available_plugins() -> dict[str, ProviderPlugin]:
    """All installed providers by name."""
    plugins: dict[str, ProviderPlugin] = {}
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        try:
            plugin = ep.load()
        except Exception:  # noqa: BLE001 - a broken or extra-less plugin must not hide the rest
            continue  # most often: the provider's cloud SDK (an optional extra) is missing
        if not isinstance(plugin, ProviderPlugin):
            raise TypeError(f"entry point {ep.name!r} in {ENTRY_POINT_GROUP} is not a ProviderPlugin")
        plugins[ep.name] = plugin
    return plugins


def load_plugin(name: str) -> ProviderPlugin:
    """The plugin called `name`; only its entry point is imported."""
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        if ep.name != name:
            continue
        try:
            plugin = ep.load()
        except ImportError as exc:
            raise UnknownProviderError(
                f"provider {name!r} cannot load ({exc}); "
                f"install its extra: pip install 'cloud-lb[{name}]'"
            ) from None
        if not isinstance(plugin, ProviderPlugin):
            raise TypeError(f"entry point {name!r} in {ENTRY_POINT_GROUP} is not a ProviderPlugin")
        return plugin
    known = ", ".join(sorted(ep.name for ep in entry_points(group=ENTRY_POINT_GROUP))) or "none"
    raise UnknownProviderError(f"no provider named {name!r} is installed (installed: {known})")
