"""The cluster-wide knobs of translation, built from the config file's `controller`
section (`Config.translate_settings()`).

A frozen value object, so a reconcile works on one consistent snapshot; validated at
construction so that a bad config fails at startup, not at the first Service.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from types import MappingProxyType
from typing import Literal

from cloud_lb.model import KUBE_PROXY_HEALTH_PORT

EXCLUDE_LABEL = "node.kubernetes.io/exclude-from-external-load-balancers"

AddressType = Literal["InternalIP", "ExternalIP"]
ClusterHealthCheck = Literal["http-kube-proxy", "tcp-node-port"]

ADDRESS_TYPES: tuple[str, ...] = ("InternalIP", "ExternalIP")
CLUSTER_HEALTH_CHECKS: tuple[str, ...] = ("http-kube-proxy", "tcp-node-port")


@dataclass(frozen=True)
class TranslateSettings:
    """How Services and Nodes become specs in this cluster.

    - `load_balancer_class`: Services whose `spec.loadBalancerClass` equals it are ours.
      Services with no class are ours too unless `manage_unclassed` is False (set that
      when another controller, e.g. the cloud's own CCM, serves unclassed Services).
    - `node_selector`: only nodes carrying all these labels are backends.
    - `exclude_label`: nodes carrying this label (any value) are never backends.
    - `address_type`: which `status.addresses` entry of a node is the backend address.
      `address_fallback` lets a node without that type use the other one instead of
      being skipped (off by default: a silently different network is worse than a
      missing backend, which is logged).
    - `cluster_health_check`: for `externalTrafficPolicy: Cluster`, either kube-proxy's
      HTTP `/healthz` on `kube_proxy_health_port` (10256), or a TCP check on each
      listener's node port for clouds without an HTTP check.
    - health check timings apply to every listener unless a Service overrides them
      with `cloud-lb.io/health-check-*` annotations (`allow_health_check_overrides`).
    """

    cluster_name: str
    load_balancer_class: str | None = None
    manage_unclassed: bool = True
    node_selector: Mapping[str, str] = field(default_factory=dict)
    exclude_label: str = EXCLUDE_LABEL
    address_type: AddressType = "InternalIP"
    address_fallback: bool = False
    cluster_health_check: ClusterHealthCheck = "http-kube-proxy"
    kube_proxy_health_port: int = KUBE_PROXY_HEALTH_PORT
    health_check_interval: int = 5
    health_check_timeout: int = 3
    healthy_threshold: int = 2
    unhealthy_threshold: int = 3
    allow_health_check_overrides: bool = True

    def __post_init__(self) -> None:
        if not self.cluster_name:
            raise ValueError("TranslateSettings.cluster_name must not be empty")
        if self.load_balancer_class == "":
            raise ValueError("TranslateSettings.load_balancer_class must be None or non-empty")
        # a read-only copy: the settings are shared by every worker thread
        object.__setattr__(self, "node_selector", MappingProxyType(dict(self.node_selector)))
        if self.address_type not in ADDRESS_TYPES:
            raise ValueError(f"address_type must be one of {ADDRESS_TYPES}, got {self.address_type!r}")
        if self.cluster_health_check not in CLUSTER_HEALTH_CHECKS:
            raise ValueError(
                f"cluster_health_check must be one of {CLUSTER_HEALTH_CHECKS}, "
                f"got {self.cluster_health_check!r}"
            )
        if not 1 <= self.kube_proxy_health_port <= 65535:
            raise ValueError("kube_proxy_health_port must be in 1..65535")
        if self.health_check_interval < 1 or self.health_check_timeout < 1:
            raise ValueError("health check interval and timeout must be >= 1 second")
        if self.health_check_timeout > self.health_check_interval:
            raise ValueError("health check timeout must not exceed the interval")
        if self.healthy_threshold < 1 or self.unhealthy_threshold < 1:
            raise ValueError("health check thresholds must be >= 1")

    def __reduce__(self) -> tuple[object, ...]:
        # a mappingproxy does not pickle; rebuild from plain values
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        values["node_selector"] = dict(self.node_selector)
        return (_rebuild, (values,))

    def __hash__(self) -> int:
        # MappingProxyType is unhashable; hash its sorted items instead
        return hash((self.cluster_name, self.load_balancer_class, self.manage_unclassed,
                     tuple(sorted(self.node_selector.items())), self.exclude_label,
                     self.address_type, self.address_fallback, self.cluster_health_check,
                     self.kube_proxy_health_port, self.health_check_interval,
                     self.health_check_timeout, self.healthy_threshold,
                     self.unhealthy_threshold, self.allow_health_check_overrides))


def _rebuild(values: dict[str, object]) -> TranslateSettings:
    return TranslateSettings(**values)  # type: ignore[arg-type]
