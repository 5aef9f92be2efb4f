"""Config of the `sim` provider: where its cloud is, and how the client behaves.

`mode` picks the model: `cloud-lb` (fully-populated create, batch member update,
client-side rate limit matching the cloud's, never waits inside a worker) or
`sequential` (the upstream anchor: step by step, waits for ACTIVE after every write,
one call per member, no client-side rate limit). The manager's authkey is a credential
of the cloud process: a `SecretStr`, never logged.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr
from pydantic.alias_generators import to_camel


class SimProviderConfig(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")

    host: str = "127.0.0.1"
    port: int = Field(ge=1, le=65535)
    authkey: SecretStr = Field(description="hex of the cloud manager's authkey")
    mode: Literal["cloud-lb", "sequential"] = "cloud-lb"
    # cloud-lb: the client's own token bucket, matched to the cloud's published limit
    # (0 disables it: every excess call then meets the cloud's throttling)
    client_qps: float = Field(default=20.0, ge=0)
    client_burst: int = Field(default=40, ge=1)
    pending_retry_seconds: float = Field(default=1.0, gt=0)
    # retries of throttled calls (tenacity): attempts, then a retryable CloudError
    retry_attempts: int = Field(default=6, ge=1)
    retry_initial_seconds: float = Field(default=0.1, gt=0)
    retry_max_seconds: float = Field(default=2.0, gt=0)
    # sequential: how the upstream controller polls for ACTIVE (OCCM's backoff: 1 s,
    # x1.2 per step, ~25 steps)
    poll_initial_seconds: float = Field(default=1.0, gt=0)
    poll_factor: float = Field(default=1.2, ge=1.0)
    poll_steps: int = Field(default=25, ge=1)
