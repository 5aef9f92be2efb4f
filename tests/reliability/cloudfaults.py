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
    elif world.provider_name == "aws":
        # moto has no fault injection: answer on the wire instead, from botocore's
        # `before-send` hook of the provider's own clients (see `aws_hook`)
        world.extra["aws-faults"] = (list(zip(statuses, dice, strict=False)), dice[-1])
    else:
        raise ValueError(f"no fault injection for {world.provider_name}")
    return dice


class _Raw:
    def __init__(self, body: bytes) -> None:
        self.body = body

    def stream(self, **_: Any) -> Any:
        yield self.body


_AWS_ERRORS = {
    ("ec2", 429): ("RequestLimitExceeded", 503), ("ec2", 500): ("InternalError", 500),
    ("ec2", 503): ("Unavailable", 503), ("elbv2", 429): ("Throttling", 400),
    ("elbv2", 500): ("InternalFailure", 500), ("elbv2", 503): ("ServiceUnavailable", 503),
}


def aws_hook(world: Any) -> Any:
    """A `running_controller` hook: the provider's boto clients get the faults."""
    import time as _time

    from botocore.awsrequest import AWSResponse

    faults, latency = world.extra["aws-faults"]

    def install(provider: Any) -> None:
        for service in ("ec2", "elbv2"):
            client = getattr(provider.clients, service)

            def before_send(request: Any, service: str = service, **_: Any) -> Any:
                if latency.roll():
                    _time.sleep(0.2)
                for status, die in faults:
                    if die.roll():
                        code, http = _AWS_ERRORS[(service, status)]
                        body = (f"<Response><Errors><Error><Code>{code}</Code><Message>injected"
                                f"</Message></Error></Errors><RequestID>x</RequestID></Response>"
                                if service == "ec2" else
                                f"<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code>"
                                f"<Message>injected</Message></Error><RequestId>x</RequestId>"
                                f"</ErrorResponse>")
                        return AWSResponse(request.url, http, {}, _Raw(body.encode()))
                return None

            client.meta.events.register("before-send", before_send)

    return install


def injected(dice: list[_Dice]) -> int:
    return sum(d.fired[0] for d in dice)
