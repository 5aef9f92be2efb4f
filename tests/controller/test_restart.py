"""A controller that dies mid-reconcile is replaced by one that adopts, not duplicates."""

from __future__ import annotations

from typing import Any

from cloud_lb.provider import LoadBalancerProvider
from tests.controller.conftest import Harness, http_get, node_of, wait_until


class Crash(BaseException):
    """Raised from inside a provider call, like a process dying there."""


def test_restart_after_a_crash_in_the_middle_of_ensure_adopts(harness: Harness) -> None:
    harness.stop()
    crashed = []

    def crash_on_second_mutation(provider: LoadBalancerProvider) -> None:
        def observer(operation: str, mutating: bool, result: str, seconds: float) -> None:
            if mutating and not crashed and harness.recorder.mutations() >= 2:
                crashed.append(operation)
                raise Crash(operation)
        harness.recorder.subscribe(observer)

    harness.start(hook=crash_on_second_mutation)
    harness.create_service("phoenix")
    wait_until(lambda: crashed, message="the crash")
    harness.stop()

    harness.start()
    address = harness.address("phoenix")
    wait_until(lambda: node_of(http_get(address, 8000)), message="traffic after restart")
    owned = harness.provider.list_owned()
    assert [r.name for r in owned] == ["phoenix"]


def test_restart_with_everything_in_sync_makes_no_mutation_and_keeps_addresses(
        harness: Harness) -> None:
    addresses: dict[str, Any] = {}
    for name in ("one", "two"):
        harness.create_service(name)
    for name in ("one", "two"):
        addresses[name] = harness.address(name)
    harness.settle()
    harness.stop()
    harness.start()
    harness.settle()
    # the local provider's listeners died with the process: re-leasing the recorded
    # address and re-binding its listeners is the only work a restart does
    done = {op for (op, m, _), n in harness.recorder.calls.items() if m}
    assert "allocate_address" not in done and "release_address" not in done
    assert done <= {"adopt_address", "bind_listener", "set_backends", "set_source_ranges"}
    for name, address in addresses.items():
        assert harness.address(name) == address
        wait_until(lambda: node_of(http_get(address, 8000)), message=f"traffic to {name}")
