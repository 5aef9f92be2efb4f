"""A thread-safe token bucket: the client-side rate limit of one AWS API family.

Hand-written on purpose: botocore's only client-side limiter lives inside its
"adaptive" retry mode and reacts to throttling after the fact, with one bucket per
client; we want fixed, configured budgets per family and kind of call (EC2 and ELBv2
account limits are split that way) and no extra dependency for twenty lines.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class TokenBucket:
    """`rate` tokens per second, at most `burst` banked. `acquire` blocks until a token
    is available and returns how long it waited."""

    def __init__(
        self,
        *,
        rate: float,
        burst: int,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if rate <= 0 or burst < 1:
            raise ValueError("rate must be > 0 and burst >= 1")
        self._rate = rate
        self._burst = float(burst)
        self._tokens = float(burst)
        self._clock = clock
        self._sleep = sleep
        self._last = clock()
        self._lock = threading.Lock()

    def acquire(self) -> float:
        waited = 0.0
        while True:
            with self._lock:
                now = self._clock()
                self._tokens = min(self._burst, self._tokens + (now - self._last) * self._rate)
                self._last = now
                if self._tokens >= 1.0:
                    self._tokens -= 1.0
                    return waited
                # sleep outside the lock so other threads can refill/check meanwhile
                delay = (1.0 - self._tokens) / self._rate
            self._sleep(delay)
            waited += delay
