"""Few writes to turn one listener's ordered L7 policies into another order. Pure.

Octavia keeps a listener's policies as an ordered list numbered 1..n: creating a
policy at position p inserts it there (the rest shift down), updating a policy's
position moves it (taken out, then inserted at p), deleting one closes the gap.

`placements(current, wanted)` gets from `current` (the kept policies, by the index each
must end at, in their current order) to `wanted` = 0..n-1 (new ones are the indices
missing from `current`): the policies on a longest increasing subsequence of `current`
stay where they are; every other one is created or moved to just after its wanted
predecessor, in wanted order. Inserting or removing one policy costs one write and
never renumbers the others by hand; a policy changing place costs one move.
`simulate()` replays the writes the way Octavia applies them (tests prove the result).
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Placement:
    action: str  # "create" | "move"
    index: int  # the wanted index of the policy
    position: int  # Octavia's 1-based position to write


def longest_increasing(values: Sequence[int]) -> set[int]:
    """The values on one longest strictly increasing subsequence."""
    tails: list[int] = []  # tails[k]: index in values of the last item of a run of k+1
    tail_values: list[int] = []
    parent: list[int | None] = [None] * len(values)
    for i, value in enumerate(values):
        k = bisect.bisect_left(tail_values, value)
        parent[i] = tails[k - 1] if k else None
        if k == len(tails):
            tails.append(i)
            tail_values.append(value)
        else:
            tails[k] = i
            tail_values[k] = value
    out: set[int] = set()
    at = tails[-1] if tails else None
    while at is not None:
        out.add(values[at])
        at = parent[at]
    return out


def placements(current: Sequence[int], wanted: int) -> list[Placement]:
    """Writes that make `current` (a list of distinct indices < wanted) the list
    0..wanted-1, in the order they must be made."""
    stay = longest_increasing(current)
    order = list(current)
    out: list[Placement] = []
    for index in range(wanted):
        if index in stay:
            continue
        action = "move" if index in order else "create"
        if action == "move":
            order.remove(index)
        at = order.index(index - 1) + 1 if index else 0
        order.insert(at, index)
        out.append(Placement(action, index, at + 1))
    if order != list(range(wanted)):  # pragma: no cover - proven by the property test
        raise AssertionError(f"policy order {order} after placements, wanted 0..{wanted - 1}")
    return out


def simulate(current: Sequence[int], steps: Sequence[Placement]) -> list[int]:
    """Octavia's ordering list after `steps` (create inserts, move takes out and
    inserts; a position past the end appends)."""
    order = list(current)
    for step in steps:
        if step.action == "move":
            order.remove(step.index)
        order.insert(min(step.position - 1, len(order)), step.index)
    return order
