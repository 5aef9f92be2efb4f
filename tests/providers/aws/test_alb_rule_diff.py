"""Properties of the slot-based listener-rule diff (pure, hypothesis).

Whatever rules a listener has and whatever the spec wants: carrying out the changes in
`alb_apply`'s order gives exactly the wanted rules, never needs a priority that is taken
(AWS rejects duplicates), and an unchanged list or one changed path costs nothing more
than that one rule.
"""

from __future__ import annotations

import os

from hypothesis import given, settings
from hypothesis import strategies as st

from providers.aws.alb_diff import diff_rules
from providers.aws.alb_state import FORWARD, Action, Condition, ListenerRule, ObservedRule

EXAMPLES = 400 if os.environ.get("CLOUD_LB_FULL") == "1" else 60

_rule = st.tuples(
    st.sampled_from(["", "a.example", "b.example"]),
    st.sampled_from(["/", "/x", "/x/y", "/z"]),
    st.sampled_from(["tg-1", "tg-2"]),
)
rule_lists = st.lists(_rule, max_size=8)


def rules(raw: list[tuple[str, str, str]]) -> tuple[ListenerRule, ...]:
    out = []
    for i, (host, path, group) in enumerate(raw):
        conditions = [Condition("path-pattern", (path,))]
        if host:
            conditions.append(Condition("host-header", (host,)))
        out.append(ListenerRule(i + 1, tuple(sorted(conditions)), Action(FORWARD, group)))
    return tuple(out)


def observed(have: tuple[ListenerRule, ...]) -> tuple[ObservedRule, ...]:
    return tuple(ObservedRule(arn=f"arn-{r.priority}", rule=r) for r in have)


@settings(max_examples=EXAMPLES, deadline=None)
@given(rule_lists, rule_lists)
def test_applying_the_changes_gives_the_wanted_rules(
    old: list[tuple[str, str, str]], new: list[tuple[str, str, str]]
) -> None:
    have, want = observed(rules(old)), rules(new)
    changes = diff_rules(want, have)
    state = {r.rule.priority: r.rule for r in have}
    arn_slot = {r.arn: r.rule.priority for r in have}
    for rule in changes.create:
        assert rule.priority not in state, "CreateRule on a taken priority"
        state[rule.priority] = rule
    for old_rule, rule in sorted(changes.modify, key=lambda pair: -pair[1].priority):
        assert arn_slot[old_rule.arn] == rule.priority  # modified in place
        state[rule.priority] = rule
    for gone in changes.delete:
        del state[gone.rule.priority]
    assert state == {r.priority: r for r in want}
    assert diff_rules(want, observed(want)).empty


@settings(max_examples=EXAMPLES, deadline=None)
@given(rule_lists.filter(bool), st.data())
def test_one_changed_rule_is_one_modification(
    raw: list[tuple[str, str, str]], data: st.DataObject
) -> None:
    index = data.draw(st.integers(0, len(raw) - 1))
    host, path, group = raw[index]
    changed = list(raw)
    changed[index] = (host, path + "/new", group)
    changes = diff_rules(rules(changed), observed(rules(raw)))
    assert not changes.create and not changes.delete
    assert [new.priority for _, new in changes.modify] == [index + 1]
