"""Properties of Ingress translation over generated rule sets."""

from __future__ import annotations

import os

from hypothesis import given, settings
from hypothesis import strategies as st

from .ingress_objects import ingress, path, rule, svc, translate

EXAMPLES = int(os.environ.get("CLOUD_LB_FULL") and 1000 or 100)
SERVICES = [svc("a"), svc("b")]

hosts = st.sampled_from([None, "a.example", "*.example", "b.example"])
paths = st.tuples(st.sampled_from(["/", "/x", "/x/", "/x/y", "/xy"]),
                  st.sampled_from(["Exact", "Prefix", "ImplementationSpecific"]))
entries = st.lists(st.tuples(hosts, paths), min_size=1, max_size=8)


def _ingress(items: list[tuple[str | None, tuple[str, str]]]) -> dict:
    # one backend for all: duplicates merge, nothing conflicts, any permutation is valid
    return ingress([rule(host, path(p, t, "a")) for host, (p, t) in items])


@settings(max_examples=EXAMPLES, deadline=None)
@given(items=entries, data=st.data())
def test_the_order_of_rules_in_the_ingress_does_not_change_the_spec(items, data) -> None:
    shuffled = data.draw(st.permutations(items))
    assert translate(_ingress(items), SERVICES).spec == translate(_ingress(shuffled), SERVICES).spec


@settings(max_examples=EXAMPLES, deadline=None)
@given(items=entries)
def test_rules_are_unique_and_hosts_go_from_specific_to_any(items) -> None:
    spec = translate(_ingress(items), SERVICES).spec
    keys = [(r.host, r.path, r.path_type) for r in spec.rules]
    assert len(keys) == len(set(keys))
    ranks = [2 if not r.host else 1 if r.host.startswith("*.") else 0 for r in spec.rules]
    assert ranks == sorted(ranks)
    for r in spec.rules:
        assert r.path == "/" or r.path_type.value == "Exact" or not r.path.endswith("/")
