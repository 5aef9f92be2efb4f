"""Fixtures of the conformance suite: one `target` per provider plugin per test.

Every plugin registered under the `cloud_lb.providers` entry points that loads (as
`available_plugins()` sees them: a provider whose cloud SDK extra is not installed is
not available) is tested. Its hooks come from `<plugin module>.testing`
(`providers.<name>.testing` in this repository); a provider without that module, or
one that does not load, FAILS here rather than being skipped.
"""

from __future__ import annotations

import importlib
import uuid
from collections.abc import Iterator
from importlib.metadata import EntryPoint, entry_points

import pytest

from cloud_lb.provider import ENTRY_POINT_GROUP, ProviderPlugin
from cloud_lb.testing.conformance import ConformanceTarget


def _registered() -> dict[str, tuple[EntryPoint, object]]:
    """name -> (entry point, loaded plugin or the exception that broke loading)."""
    found: dict[str, tuple[EntryPoint, object]] = {}
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        try:
            plugin: object = ep.load()
        except ImportError:
            continue  # the provider's optional extra is missing: not available
        except Exception as exc:  # noqa: BLE001 - a broken plugin fails its tests, not collection
            plugin = exc
        found[ep.name] = (ep, plugin)
    return found


REGISTERED = _registered()


@pytest.fixture(params=sorted(REGISTERED))
def provider_name(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def plugin(provider_name: str) -> ProviderPlugin:
    _, loaded = REGISTERED[provider_name]
    if isinstance(loaded, Exception):
        pytest.fail(f"provider {provider_name!r} does not load: {loaded!r}")
    if not isinstance(loaded, ProviderPlugin):
        pytest.fail(f"entry point {provider_name!r} names {loaded!r}, not a ProviderPlugin")
    return loaded


@pytest.fixture
def cluster() -> str:
    return f"conf-{uuid.uuid4().hex[:10]}"


@pytest.fixture
def target(provider_name: str, plugin: ProviderPlugin, cluster: str) -> Iterator[ConformanceTarget]:
    ep, _ = REGISTERED[provider_name]
    module_name = f"{ep.module}.testing"
    try:
        testing = importlib.import_module(module_name)
    except ImportError as exc:
        pytest.fail(f"provider {provider_name!r} has no conformance hooks: cannot import "
                    f"{module_name} ({exc}); add conformance_target(cluster) there")
    factory = getattr(testing, "conformance_target", None)
    if factory is None:
        pytest.fail(f"{module_name} has no conformance_target(cluster)")
    with factory(cluster) as built:
        assert isinstance(built, ConformanceTarget), f"{module_name} yielded {built!r}"
        yield built
