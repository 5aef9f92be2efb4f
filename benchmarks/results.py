"""One record per scenario and mode, and the arithmetic on call counts.

Calls come from the controller's `CallRecorder` as (operation, mutating, result, n)
rows; a scenario's calls are the difference between two snapshots. Mutating calls
count accepted writes only; throttled and refused (409) attempts are counted apart.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any

CallRows = list[list[Any]]  # [operation, mutating, result, n]

THROTTLE_MARKERS = ("throttl", "ratelimit", "429", "requestlimitexceeded", "toomanyrequests")


def _key(row: list[Any]) -> tuple[str, bool, str]:
    return (str(row[0]), bool(row[1]), str(row[2]))


def call_delta(before: CallRows, after: CallRows) -> Counter[tuple[str, bool, str]]:
    delta: Counter[tuple[str, bool, str]] = Counter()
    for row in after:
        delta[_key(row)] += int(row[3])
    for row in before:
        delta[_key(row)] -= int(row[3])
    return +delta


def is_throttle(result: str) -> bool:
    lowered = result.lower()
    return any(marker in lowered for marker in THROTTLE_MARKERS)


@dataclass
class CallSummary:
    mutating: int = 0  # accepted writes
    reads: int = 0
    throttled: int = 0
    refused: int = 0  # other failed writes (409 while pending, 404, 4xx)
    by_operation: dict[str, int] = field(default_factory=dict)

    @classmethod
    def of(cls, delta: Counter[tuple[str, bool, str]]) -> CallSummary:
        out = cls()
        ops: Counter[str] = Counter()
        for (op, mutating, result), n in delta.items():
            if is_throttle(result):
                out.throttled += n
            elif not mutating:
                out.reads += n
            elif result == "ok":
                out.mutating += n
            else:
                out.refused += n
            ops[f"{op}{'' if result == 'ok' else ':' + result}"] += n
        out.by_operation = dict(sorted(ops.items()))
        return out


@dataclass
class ScenarioResult:
    scenario: str
    mode: str
    provider: str
    n: int  # load balancers in play
    nodes: int
    workers: int
    wall_seconds: float | None  # None: did not converge
    done: int  # load balancers that reached the goal
    converged: bool
    calls: CallSummary
    bound_seconds: float | None = None
    bound_kind: str = ""
    peak_rss_mb: float | None = None
    rss_mb: float | None = None
    cpu_seconds: float | None = None
    details: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    @property
    def ratio(self) -> float | None:
        if self.wall_seconds is None or not self.bound_seconds:
            return None
        return self.wall_seconds / self.bound_seconds

    def per_lb(self, count: int) -> float | None:
        return count / self.n if self.n else None

    def to_json(self) -> dict[str, Any]:
        out = asdict(self)
        out["ratio_to_bound"] = self.ratio
        out["mutating_per_lb"] = self.per_lb(self.calls.mutating)
        out["reads_per_lb"] = self.per_lb(self.calls.reads)
        return out
