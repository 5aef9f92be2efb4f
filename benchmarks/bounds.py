"""The lower bound of each scenario's wall time, set by the cloud rather than by us.

    bound = max(0, M - burst) / rate  +  tail

M is the number of mutating calls the run made (accepted ones), `rate` and `burst` the
cloud's token bucket: with the bucket full at the start, the M-th call cannot be issued
before (M - burst)/rate. `tail` is what must still happen after the last call: its own
write latency and, when the scenario creates load balancers, the provisioning time
before an address can be published. When M is small the tail dominates: the bound is
then the provisioning (or latency) floor, named in `kind`.

A cloud without a rate limit (the real providers' fakes) has only the tail. Restart and
resync make no mutating calls, so their bound is one read: the ratio there measures
the controller's own throughput, not the cloud's limit.
"""

from __future__ import annotations

from dataclasses import dataclass

from benchmarks.simcloud import CloudSettings

# after the last mutating call, what the scenario still waits for
_TAIL = {
    "cold-start": ("write", "provision"),
    "scale": ("write", "provision"),
    "node-churn": ("write",),
    "update-storm": ("write",),
    "delete": ("write",),
    "restart": ("read",),
    "resync": ("read",),
}


@dataclass(frozen=True)
class Bound:
    seconds: float
    kind: str  # rate | provisioning | latency

    def ratio(self, wall: float | None) -> float | None:
        if wall is None or self.seconds <= 0:
            return None
        return wall / self.seconds


def scenario_bound(scenario: str, mutating: int, settings: CloudSettings, *,
                   rate_limited: bool = True) -> Bound:
    parts = _TAIL.get(scenario.split("/")[0], ("write",))
    tail = 0.0
    if "read" in parts:
        tail += settings.read_latency
    if "write" in parts:
        tail += settings.write_latency
    if "provision" in parts:
        tail += settings.provision_seconds
    rate_part = max(0, mutating - settings.burst) / settings.rate if rate_limited else 0.0
    if rate_part >= tail:
        return Bound(rate_part + tail, "rate")
    return Bound(rate_part + tail, "provisioning" if "provision" in parts else "latency")
