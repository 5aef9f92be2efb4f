"""Small steps shared by the scenario tests: is a Service served, run a CLI command
in-process, wait for a controller to settle."""

from __future__ import annotations

import contextlib
import io
from typing import Any

from cloud_lb.cli import main as cli_main
from cloud_lb.model import LoadBalancerStatus
from cloud_lb.provider import ProviderError
from tests.reliability.processes import wait_until
from tests.reliability.worlds import World, ingress_of


def reader(world: World) -> Any:
    return world.extra.get("reader") or world.extra.setdefault("reader", world.provider())


def lb(world: World, name: str) -> LoadBalancerStatus | None:
    service = world.service(name)
    return reader(world).get(world.ref(service)) if service else None


def served(world: World, name: str, *, port: int | None = None,
           backends: int | None = None) -> bool:
    """The Service's status shows what the cloud has (and the port, backend count)."""
    service = world.service(name)
    if service is None or not ingress_of(service):
        return False
    try:
        status = reader(world).get(world.ref(service))
    except ProviderError:  # the test's own reads meet the injected cloud faults too
        return False
    if status is None or ingress_of(service) != status.to_kube()["ingress"]:
        return False
    if port is not None and not any(str(port) in li for li in status.listeners):
        return False
    return backends is None or status.backends_total == backends


def wait_served(world: World, name: str, timeout: float = 60.0, **kwargs: Any) -> None:
    wait_until(lambda: served(world, name, **kwargs), timeout, f"{name} served {kwargs or ''}")


def wait_gone(world: World, name: str, timeout: float = 60.0) -> None:
    wait_until(lambda: world.service(name) is None, timeout, f"{name} deleted")


def run_cli(*argv: str) -> tuple[int, str]:
    """`cloud-lb <argv>` in this process; returns (exit code, stdout + stderr)."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
        try:
            code = cli_main(list(argv))
        except SystemExit as exc:
            code = int(exc.code or 0)
    return code, out.getvalue()


def events(world: World, name: str) -> list[tuple[str, str]]:
    return [(e.reason, e.message) for e in world.core.list_namespaced_event("default").items
            if e.involved_object.name == name]
