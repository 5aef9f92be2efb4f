"""The crash-consistency scenario: one small Service through create, update or delete,
with the controller process SIGKILLed right after the Nth mutating cloud call.

A *clean run* of a phase (no crash, the mutation log on) gives the number of crash
points N and the expected end state: the cloud resources by type, and the listeners.
Then, for every i in 1..N, a fresh world runs the same phase with
`CLOUD_LB_TEST_CRASH_AFTER_MUTATION=i`; the process must die by SIGKILL; a new process
(no crash) must converge to exactly the clean run's end state:

- create/update: one load balancer owned for the Service (`list_owned` == [its ref]),
  the Service's status equal to what the cloud has, the clean run's listeners;
- delete: the Service gone (finalizer released) and nothing owned left;
- both: the cloud's resources counted by type equal the clean run's, so any leaked or
  duplicated floating IP, port, security group (rule), target group, address,
  forwarding rule, firewall, health check or instance-group membership fails.
"""

from __future__ import annotations

import os
import signal
import time
from collections import Counter
from dataclasses import dataclass
from typing import Any

from cloud_lb.testing.crashpoints import CRASH_ENV, LOG_ENV
from tests.reliability.processes import Controller, Controllers, wait_until
from tests.reliability.worlds import World, ingress_of

SERVICE = "crashy"
FULL = os.environ.get("CLOUD_LB_FULL") == "1"
# CI: the smallest Service (one port) on two nodes; full: two ports on three nodes
PORTS = [{"name": "tcp", "port": 80, "targetPort": 8080}] + (
    [{"name": "tls", "port": 443, "targetPort": 8443}] if FULL else [])
NODES = 3 if FULL else 2
PHASES = ("create", "update", "delete")
CONVERGE_SECONDS = 60.0


@dataclass
class EndState:
    resources: Counter[str]
    listeners: tuple[str, ...]


def _observed(world: World) -> tuple[dict[str, Any] | None, Any, list[Any]]:
    provider = world.extra.get("reader") or world.extra.setdefault("reader", world.provider())
    service = world.service(SERVICE)
    owned = provider.list_owned()
    status = provider.get(world.ref(service)) if service else None
    return service, status, owned


def converged(world: World, phase: str) -> bool:
    service, status, owned = _observed(world)
    if phase == "delete":
        return service is None and owned == []
    if service is None or status is None or not ingress_of(service):
        return False
    if phase == "update" and not any("81" in li for li in status.listeners):
        return False
    return owned == [world.ref(service)] and ingress_of(service) == status.to_kube()["ingress"]


def end_state(world: World) -> EndState:
    _, status, _ = _observed(world)
    return EndState(resources=world.resources(),
                    listeners=tuple(sorted(status.listeners)) if status else ())


def settled(world: World, quiet: float = 0.5) -> EndState:
    """The end state once it has not changed for `quiet` seconds (the last calls of a
    reconcile may follow the status write by a moment)."""
    last = end_state(world)
    while True:
        time.sleep(quiet)
        now = end_state(world)
        if now == last:
            return now
        last = now


def prepare(world: World, controllers: Controllers, phase: str, config: str) -> None:
    """The state the phase starts from: for update and delete, a load balancer made by a
    clean controller that has stopped; then the change the phase is about."""
    world.create_service(SERVICE, ports=PORTS)
    if phase == "create":
        return
    first = controllers.start(config, world.kube.kubeconfig, name="prepare")
    first.wait_started()
    wait_until(lambda: converged(world, "create"), CONVERGE_SECONDS, "the initial create",
               on_timeout=first.log)
    assert first.stop() == 0, first.log()
    if phase == "update":
        world.core.patch_namespaced_service(
            SERVICE, "default", {"spec": {"ports": [{**PORTS[0], "port": 81}, *PORTS[1:]]}},
            _content_type="application/merge-patch+json")
    else:
        world.core.delete_namespaced_service(SERVICE, "default")


def clean_run(world: World, controllers: Controllers, phase: str) -> tuple[list[str], EndState]:
    """The phase without a crash: the mutating calls made, and the end state."""
    config = world.config_file()
    prepare(world, controllers, phase, config)
    log = world.tmp / f"mutations-{phase}.log"
    proc = controllers.start(config, world.kube.kubeconfig, env={LOG_ENV: str(log)},
                             name=f"clean-{phase}")
    proc.wait_started()
    wait_until(lambda: converged(world, phase), CONVERGE_SECONDS, f"the clean {phase}",
               on_timeout=proc.log)
    expected = settled(world)
    assert proc.stop() == 0, proc.log()
    calls = log.read_text().splitlines() if log.exists() else []
    return [line.split(" ", 1)[1] for line in calls], expected


def crash_and_recover(world: World, controllers: Controllers, phase: str, crash_at: int,
                      expected: EndState) -> None:
    config = world.config_file()
    prepare(world, controllers, phase, config)
    victim: Controller = controllers.start(config, world.kube.kubeconfig,
                                           env={CRASH_ENV: str(crash_at)},
                                           name=f"crash-{phase}-{crash_at}")
    code = victim.wait(CONVERGE_SECONDS)
    assert code == -signal.SIGKILL, (
        f"{phase}: the controller was to die after mutating call {crash_at}, exit={code}\n"
        f"{victim.log()}")
    survivor = controllers.start(config, world.kube.kubeconfig, name=f"recover-{phase}-{crash_at}")
    survivor.wait_started()
    wait_until(lambda: converged(world, phase) and end_state(world) == expected,
               CONVERGE_SECONDS, f"recovery after a crash at {phase} mutation {crash_at}",
               on_timeout=lambda: (f"expected {expected}\ngot {end_state(world)}\n"
                                   f"{survivor.log()[-4000:]}"))
    assert survivor.stop() == 0, survivor.log()
    # nothing moved after the survivor left: the end state was stable, not passing through
    # (listeners aside: the local provider's die with its process, by design)
    assert end_state(world).resources == expected.resources
