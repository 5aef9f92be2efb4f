"""The simulated cloud's vocabulary: provisioning states, the errors it answers (they
cross the manager connection pickled, so they keep only their message in `args`), its
settings, its front-door token bucket, and the load balancer record.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

ACTIVE = "ACTIVE"
PENDING_CREATE = "PENDING_CREATE"
PENDING_UPDATE = "PENDING_UPDATE"
PENDING_DELETE = "PENDING_DELETE"


# -- errors (pickled across the manager connection: message only in args) -------------------
class SimCloudError(Exception):
    status = 500


class ThrottledError(SimCloudError):
    status = 429


class ConflictError(SimCloudError):
    status = 409


class NotFoundError(SimCloudError):
    status = 404


@dataclass(frozen=True)
class CloudSettings:
    """The cloud's behaviour. Times in seconds, rate in mutating calls per second."""

    read_latency: float = 0.030
    write_latency: float = 0.080
    provision_seconds: float = 2.0
    update_seconds: float = 1.0
    delete_seconds: float = 2.0
    rate: float = 20.0
    burst: int = 40

    def __post_init__(self) -> None:
        if self.rate <= 0 or self.burst < 1:
            raise ValueError("rate must be > 0 and burst >= 1")
        if min(self.read_latency, self.write_latency, self.provision_seconds,
               self.update_seconds, self.delete_seconds) < 0:
            raise ValueError("latencies and provisioning times must be >= 0")


class Bucket:
    """Non-blocking token bucket: the cloud's front door either admits or throttles."""

    def __init__(self, rate: float, burst: int) -> None:
        self.rate, self.burst = rate, float(burst)
        self.tokens, self.last = float(burst), time.monotonic()
        self.lock = threading.Lock()

    def take(self) -> bool:
        with self.lock:
            now = time.monotonic()
            self.tokens = min(self.burst, self.tokens + (now - self.last) * self.rate)
            self.last = now
            if self.tokens >= 1.0:
                self.tokens -= 1.0
                return True
            return False


@dataclass
class LBRecord:
    id: str
    name: str
    tags: tuple[str, ...]
    vip: str
    busy_until: float
    busy_kind: str  # what the current/last pending state is: create, update, delete
    listeners: list[str] = field(default_factory=list)
