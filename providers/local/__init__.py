"""The `local` provider: real L4 load balancers on this host, the embedded default.

Each load balancer takes one address from a pool (loopback by default), binds one
TCP server or UDP endpoint per Service port there, and forwards each connection or
datagram flow to a healthy node at its node port, round robin. See `provider.py` for
the control plane, `balancer.py` for the data path, `state.py` for persistence.
"""

from __future__ import annotations

from cloud_lb.provider import ProviderContext, ProviderPlugin
from providers.local.config import LocalConfig
from providers.local.provider import LocalProvider


def _build(config: LocalConfig, context: ProviderContext) -> LocalProvider:
    return LocalProvider(config, context)


PLUGIN = ProviderPlugin(
    name="local",
    config_model=LocalConfig,
    factory=_build,
    description="a real TCP/UDP load balancer on this host (loopback addresses by default)",
)

__all__ = ["PLUGIN", "LocalConfig", "LocalProvider"]
