"""The `gcp` provider: regional passthrough Network Load Balancers on google-cloud-compute.

Importing this package is light: google-cloud-compute is imported by the provider
module, which loads only when a provider is built; without the `[gcp]` extra the
registry reports the provider as not installed. Layout: `config`, `naming`,
`annotations`, `render` and `firewalls` (spec -> GCE JSON, pure), `diff` (pure),
`clients` + `operations` + `errors` (the SDK, calls, waits, error mapping),
`instance_groups` (shared per-zone node groups), `provider` (the contract), `testing`
(the fake-backed targets for tests and the demo). See docs/providers/gcp.md.
"""

# (no `from __future__ import annotations` here: it would bind the package attribute
# `annotations` and shadow the `providers.gcp.annotations` module)
import importlib.util
from typing import Any

from cloud_lb.provider import ProviderContext, ProviderPlugin
from providers.gcp.config import GCPConfig

if importlib.util.find_spec("google.cloud.compute_v1") is None:
    raise ImportError("google-cloud-compute is not installed (pip install 'cloud-lb[gcp]')")


def _build(config: GCPConfig, context: ProviderContext) -> Any:
    from providers.gcp.provider import GCPProvider

    return GCPProvider(config, context)


PLUGIN = ProviderPlugin(
    name="gcp",
    config_model=GCPConfig,
    factory=_build,
    description="GCP regional passthrough Network Load Balancers (backend services, "
    "instance groups, firewalls) via google-cloud-compute",
)

__all__ = ["PLUGIN", "GCPConfig"]
