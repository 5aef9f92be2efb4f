"""Config model, spec validation, and the health-check rise/fall rule."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as hs
from pydantic import ValidationError

from cloud_lb.model import (
    HealthCheck,
    HealthCheckProtocol,
    IPFamily,
    Listener,
    LoadBalancerSpec,
    Protocol,
)
from cloud_lb.provider import InvalidSpecError
from providers.local.config import LocalConfig
from providers.local.health import CheckState, Timing
from tests.providers.local.conftest import make_ref

MAX_EXAMPLES = 500 if __import__("os").environ.get("CLOUD_LB_FULL") == "1" else 50


def test_config_defaults_and_camel_case(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))
    config = LocalConfig.model_validate({})
    assert str(config.address_pool) == "127.240.0.0/16"
    assert config.resolved_state_dir() == tmp_path / "cloud-lb" / "local"
    config = LocalConfig.model_validate({"addressPool": "127.250.1.0/24", "stateDir": "/x",
                                         "healthCheck": {"intervalSeconds": 0.5}})
    assert config.resolved_state_dir() == Path("/x")
    assert config.health_check.interval_seconds == 0.5
    with pytest.raises(ValidationError, match="addresPool"):
        LocalConfig.model_validate({"addresPool": "127.0.0.0/8"})
    with pytest.raises(ValidationError):
        LocalConfig.model_validate({"addressPool": "not-a-network"})


@pytest.mark.parametrize("change, field", [
    (lambda s: dataclasses.replace(s, listeners=(dataclasses.replace(s.listeners[0], protocol=Protocol.SCTP),)),
     "spec.ports[0].protocol"),
    (lambda s: dataclasses.replace(s, listeners=(dataclasses.replace(s.listeners[0], node_port=0),)),
     "spec.ports[0].nodePort"),
    (lambda s: dataclasses.replace(s, ip_families=(IPFamily.IPV6,)), "spec.ipFamilies"),
    (lambda s: dataclasses.replace(s, static_ip="192.0.2.1"), "spec.loadBalancerIP"),
])
def test_specs_the_local_proxy_cannot_serve_are_invalid(make_provider, change, field) -> None:
    lb = make_provider()
    hc = HealthCheck(HealthCheckProtocol.TCP, 30080)
    spec = LoadBalancerSpec(ref=make_ref(lb.cluster),
                            listeners=(Listener("l", Protocol.TCP, 8080, 30080, hc),))
    with pytest.raises(InvalidSpecError) as info:
        lb.provider.ensure(change(spec))
    assert info.value.field == field
    assert lb.recorder.mutations() == 0


def test_first_probe_decides_then_thresholds_apply() -> None:
    state = CheckState(Timing(interval=1, timeout=1, rise=2, fall=3))
    assert state.healthy is None
    assert state.observe(True) and state.healthy is True
    assert [state.observe(False) for _ in range(3)] == [False, False, True]
    assert state.healthy is False
    assert [state.observe(True) for _ in range(2)] == [False, True]


@settings(max_examples=MAX_EXAMPLES, deadline=None)
@given(rise=hs.integers(1, 5), fall=hs.integers(1, 5), probes=hs.lists(hs.booleans(), min_size=1))
def test_state_follows_runs_of_probes(rise: int, fall: int, probes: list[bool]) -> None:
    """The state only flips towards the latest result and only after a full run of
    `rise` successes or `fall` failures; a long enough final run always decides."""
    state = CheckState(Timing(interval=1, timeout=1, rise=rise, fall=fall))
    for i, ok in enumerate(probes):
        previous = state.healthy
        state.observe(ok)
        if previous is not None and state.healthy != previous:
            threshold = rise if ok else fall
            assert state.healthy is ok
            assert i + 1 >= threshold and probes[i + 1 - threshold: i + 1] == [ok] * threshold
    last = probes[-1]
    run = next((n for n, p in enumerate(reversed(probes)) if p != last), len(probes))
    if run >= (rise if last else fall) or run == len(probes):
        assert state.healthy is last
