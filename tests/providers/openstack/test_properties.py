"""Properties over generated Services: annotation parsing only ever fails with
InvalidSpecError; a rendered tree diffs clean against itself; any node change is at
most one batch member update per pool and nothing else."""

from __future__ import annotations

import dataclasses
import os

from hypothesis import given, settings
from hypothesis import strategies as st

from cloud_lb.model import Backend, LoadBalancerSpec, Protocol
from cloud_lb.provider import InvalidSpecError
from providers.openstack import annotations as a
from providers.openstack.config import OpenStackConfig
from providers.openstack.diff import diff, member_steps
from providers.openstack.render import Placement, render
from tests.providers.openstack.conftest import build_spec, listener
from tests.providers.openstack.test_diff import observed_from

EXAMPLES = 300 if os.environ.get("CLOUD_LB_FULL") == "1" else 40
CONFIG = OpenStackConfig(subnet_id="sub")

ports = st.lists(st.tuples(st.integers(1, 65535), st.sampled_from([Protocol.TCP,
                                                                   Protocol.UDP])),
                 min_size=1, max_size=5, unique=True)
node_sets = st.sets(st.integers(1, 250), max_size=8)


def make_spec(port_list, node_ids, options=()) -> LoadBalancerSpec:
    listeners = tuple(listener(port, 30000 + i, protocol)
                      for i, (port, protocol) in enumerate(port_list))
    spec = build_spec(listeners=listeners, uid="uid-1")
    return dataclasses.replace(spec, backends=tuple(
        Backend(node_name=f"n{i}", address=f"10.1.0.{i}") for i in sorted(node_ids)),
        options=tuple(options))


@settings(max_examples=EXAMPLES, deadline=None)
@given(values=st.dictionaries(st.sampled_from(sorted(a.SUPPORTED)), st.text(max_size=20),
                              max_size=4))
def test_parsing_fails_only_with_invalid_spec_errors(values) -> None:
    spec = dataclasses.replace(build_spec(), options=tuple(sorted(values.items())))
    try:
        a.parse(spec)
    except InvalidSpecError as exc:
        assert exc.field and exc.field in str(exc)


@settings(max_examples=EXAMPLES, deadline=None)
@given(port_list=ports, before=node_sets, after=node_sets)
def test_a_node_change_is_only_batch_updates_at_most_one_per_pool(port_list, before,
                                                                  after) -> None:
    spec = make_spec(port_list, before)
    desired = render(spec, a.parse(spec), CONFIG, Placement(vip_subnet_id="sub"))
    observed = observed_from(desired)
    assert diff(observed, desired) == []
    changed = make_spec(port_list, after)
    wanted = render(changed, a.parse(changed), CONFIG, Placement(vip_subnet_id="sub"))
    steps = diff(observed, wanted)
    assert {s.op for s in steps} <= {"batch_update_members"}
    assert len(steps) == (len(port_list) if before != after else 0)
    assert [s.target for s in member_steps(observed, wanted)] == [s.target for s in steps]
    for step in steps:
        assert sorted(m["address"] for m in step.body["members"]) == sorted(
            f"10.1.0.{i}" for i in after)
