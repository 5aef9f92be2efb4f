"""Every registered provider is a complete plugin with conformance hooks."""

from __future__ import annotations

import importlib

from pydantic import BaseModel

from cloud_lb.provider import Capabilities, LoadBalancerProvider, ProviderPlugin
from cloud_lb.testing.conformance import ConformanceTarget
from tests.conformance.conftest import REGISTERED


def test_provider_ships_conformance_hooks(provider_name: str, plugin: ProviderPlugin) -> None:
    """`<plugin module>.testing` exists with `conformance_target` and `demo_cloud`."""
    ep, _ = REGISTERED[provider_name]
    testing = importlib.import_module(f"{ep.module}.testing")
    assert callable(getattr(testing, "conformance_target", None))
    assert callable(getattr(testing, "demo_cloud", None))


def test_plugin_names_itself_and_builds_a_provider(
    provider_name: str, plugin: ProviderPlugin, target: ConformanceTarget
) -> None:
    """The entry point's name, the plugin's and the provider's agree; the config model is
    pydantic; the provider implements the whole Protocol and states its capabilities."""
    assert plugin.name == provider_name
    assert issubclass(plugin.config_model, BaseModel)
    assert callable(plugin.factory)
    assert isinstance(target.provider, LoadBalancerProvider)
    assert target.provider.name == provider_name
    assert isinstance(target.provider.capabilities, Capabilities)
    assert target.provider.capabilities.tcp
