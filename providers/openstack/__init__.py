"""The `openstack` provider: Octavia load balancers and Neutron floating IPs (OVHcloud).

Importing this package is light: openstacksdk is imported by the provider module, which
loads only when a provider is built. See `provider.py` for the design,
docs/providers/openstack.md for the annotations and the differences from OCCM.
"""

# (no `from __future__ import annotations` here: it would bind the package attribute
# `annotations` and shadow the `providers.openstack.annotations` module)
import importlib.util
from typing import Any

from cloud_lb.provider import ProviderContext, ProviderPlugin
from providers.openstack.config import OpenStackConfig

if importlib.util.find_spec("openstack") is None:
    # without the extra the provider is "not installed" to the registry, which says so
    raise ImportError("openstacksdk is not installed (pip install 'cloud-lb[openstack]')")


def _build(config: OpenStackConfig, context: ProviderContext) -> Any:
    from providers.openstack.provider import OpenStackProvider

    return OpenStackProvider(config, context)


PLUGIN = ProviderPlugin(
    name="openstack",
    config_model=OpenStackConfig,
    factory=_build,
    description="OpenStack Octavia load balancers with Neutron floating IPs (OVHcloud)",
)

__all__ = ["PLUGIN", "OpenStackConfig"]
