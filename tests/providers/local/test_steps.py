"""The pure diff behind plan and ensure, as a table: each case says what it proves."""

from __future__ import annotations

import dataclasses

import pytest

from cloud_lb.model import (
    Backend,
    HealthCheck,
    HealthCheckProtocol,
    LBRef,
    Listener,
    LoadBalancerSpec,
    ObjectKind,
    Protocol,
)
from providers.local import steps as st

REF = LBRef("c", ObjectKind.SERVICE, "ns", "web", "uid-1")
HC = HealthCheck(HealthCheckProtocol.HTTP, 10256)
TCP80 = Listener("http", Protocol.TCP, 80, 30080, HC)
UDP53 = Listener("dns", Protocol.UDP, 53, 30053, HC)
N1, N2 = Backend("n1", "10.0.0.1"), Backend("n2", "10.0.0.2")
SPEC = LoadBalancerSpec(ref=REF, listeners=(TCP80,), backends=(N1, N2))
RUNNING = st.Observed("127.240.0.1", True, (TCP80,), (N1, N2), ("0.0.0.0/0",))


def ops(observed: st.Observed, spec: LoadBalancerSpec) -> list[str]:
    return [step.operation for step in st.diff(observed, st.desired(spec))]


@pytest.mark.parametrize("why, observed, spec, expected", [
    ("a new load balancer: address, allow-list and members before the socket opens",
     st.Observed(None, False), SPEC,
     ["allocate_address", "set_source_ranges", "set_backends", "bind_listener"]),
    ("unchanged: nothing at all",
     RUNNING, SPEC, []),
    ("backend order does not matter",
     dataclasses.replace(RUNNING, backends=(N1, N2)), dataclasses.replace(SPEC, backends=(N2, N1)), []),
    ("recorded but not served (after a restart): adopt the address, rebind",
     st.Observed("127.240.0.1", False), SPEC,
     ["adopt_address", "set_source_ranges", "set_backends", "bind_listener"]),
    ("a node left: members only",
     RUNNING, dataclasses.replace(SPEC, backends=(N1,)), ["set_backends"]),
    ("a port added: one bind",
     RUNNING, dataclasses.replace(SPEC, listeners=(TCP80, UDP53)), ["bind_listener"]),
    ("a port removed: one unbind, first",
     dataclasses.replace(RUNNING, listeners=(TCP80, UDP53)), SPEC, ["unbind_listener"]),
    ("a new node port on the same socket: in place",
     RUNNING, dataclasses.replace(SPEC, listeners=(dataclasses.replace(TCP80, node_port=31000),)),
     ["update_listener"]),
    ("a port number changed: unbind the old before binding the new",
     RUNNING, dataclasses.replace(SPEC, listeners=(dataclasses.replace(TCP80, port=8080),)),
     ["unbind_listener", "bind_listener"]),
    ("source ranges changed: one call",
     RUNNING, dataclasses.replace(SPEC, source_ranges=("10.0.0.0/8",)), ["set_source_ranges"]),
    ("a new static IP moves everything",
     RUNNING, dataclasses.replace(SPEC, static_ip="127.240.0.9"),
     ["unbind_listener", "release_address", "allocate_address", "bind_listener"]),
    ("the static IP it already has: nothing",
     RUNNING, dataclasses.replace(SPEC, static_ip="127.240.0.1"), []),
])
def test_diff(why: str, observed: st.Observed, spec: LoadBalancerSpec, expected: list[str]) -> None:
    assert ops(observed, spec) == expected, why


def test_changes_print_without_secrets_and_name_what_changes() -> None:
    changes = [s.change("127.240.0.0/16") for s in st.diff(st.Observed(None, False), st.desired(SPEC))]
    assert [str(c) for c in changes] == [
        "+ address next free (from pool 127.240.0.0/16)",
        "~ source-ranges 0.0.0.0/0",
        "~ backends 2 nodes (+n1 +n2)",
        "+ listener TCP/80 (-> nodePort 30080, health HTTP:10256/healthz)",
    ]


def test_backend_steps_name_added_and_removed_nodes() -> None:
    [step] = st.backend_steps(RUNNING, (N2, Backend("n3", "10.0.0.3")))
    assert isinstance(step, st.SetBackends)
    assert (step.added, step.removed) == (("n3",), ("n1",))
