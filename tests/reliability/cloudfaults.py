"""Random cloud faults: a share of every cloud call fails with 5xx or throttling, some
are slowed by latency spikes. Seeded, so a failing run can be replayed."""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass, field
from typing import Any

from cloud_lb.testing.fakegce.errors import backend_error, rate_limited
from cloud_lb.testing.fakegce.faults import Fault as GCEFault
from cloud_lb.testing.fakeopenstack.faults import Fault as OpenStackFault

_lock = threading.Lock()


@dataclass
class _Dice:
    probability: float
    rng: random.Random
    fired: list[int] = field(default_factory=lambda: [0])

    def roll(self) -> bool:
        with _lock:
            hit = self.rng.random() < self.probability
            self.fired[0] += int(hit)
            return hit


@dataclass
class RandomOpenStackFault(OpenStackFault):
    dice: Any = None

    def matches(self, service: str, method: str, path: str) -> bool:
        # Keystone stays up: the faults are about the load-balancer and network APIs
        return service != "identity" and super().matches(service, method, path) \
            and self.dice.roll()


@dataclass
class RandomGCEFault(GCEFault):
    dice: Any = None

    def matches(self, verb: str) -> bool:
        return super().matches(verb) and self.dice.roll()


def inject(world: Any, *, failure_rate: float, seed: int = 7,
           throttling_only: bool = False) -> list[_Dice]:
    """Split `failure_rate` over 500, 503 and 429 (or all 429), plus 5 % latency spikes
    of 0.2 s. Returns the dice (their `fired` counts are the faults injected)."""
    rng = random.Random(seed)
    statuses = [429] if throttling_only else [500, 503, 429]
    share = failure_rate / len(statuses)
    dice = [_Dice(share, rng) for _ in statuses] + [_Dice(0.05, rng)]
    if world.provider_name == "openstack":
        for status, die in zip(statuses, dice, strict=False):
            world.fake.inject(RandomOpenStackFault(status=status, times=None, dice=die,
                                                   retry_after=0.1 if status == 429 else None))
        world.fake.inject(RandomOpenStackFault(latency=0.2, times=None, dice=dice[-1]))
    elif world.provider_name == "gcp":
        for status, die in zip(statuses, dice, strict=False):
            error = rate_limited("*") if status == 429 else backend_error(status)
            world.fake.faults.add(RandomGCEFault("*", error, dice=die))
        world.fake.faults.add(RandomGCEFault("*", latency_seconds=0.2, dice=dice[-1]))
    else:
        raise ValueError(f"no fault injection for {world.provider_name}")
    return dice


def injected(dice: list[_Dice]) -> int:
    return sum(d.fired[0] for d in dice)
