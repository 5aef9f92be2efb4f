"""The `local:` section of the cloud-lb config file.

The local provider needs no credentials: it binds listeners on this host. What it does
need is an address pool to take one address per load balancer from (loopback by
default, so nothing leaves the host), a directory for its state file (so a restarted
controller adopts its addresses), and optional overrides of the health-check timing
that the spec carries (tests and demos shorten intervals to get quick convergence).
"""

from __future__ import annotations

import ipaddress
import os
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic.alias_generators import to_camel

DEFAULT_ADDRESS_POOL = "127.240.0.0/16"

_MODEL_CONFIG = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")


class HealthCheckOverrides(BaseModel):
    """Health-check timing that replaces the spec's when set (None: use the spec's).

    The spec's values are whole seconds (they map onto cloud APIs); a local proxy can
    check much more often, which is what tests and the demo want.
    """

    model_config = _MODEL_CONFIG

    interval_seconds: float | None = Field(default=None, gt=0)
    timeout_seconds: float | None = Field(default=None, gt=0)
    healthy_threshold: int | None = Field(default=None, ge=1)
    unhealthy_threshold: int | None = Field(default=None, ge=1)


class LocalConfig(BaseModel):
    """Config of the `local` provider: a real L4 proxy on this host."""

    model_config = _MODEL_CONFIG

    address_pool: ipaddress.IPv4Network = Field(
        default=ipaddress.IPv4Network(DEFAULT_ADDRESS_POOL),
        description="addresses handed to load balancers, one each",
    )
    state_dir: Path | None = Field(
        default=None,
        description="where the per-cluster state file lives; default a per-user state dir",
    )
    health_check: HealthCheckOverrides = Field(default_factory=HealthCheckOverrides)
    udp_idle_timeout_seconds: float = Field(default=60.0, gt=0)
    connect_timeout_seconds: float = Field(default=5.0, gt=0)
    # addresses tried before giving up when binding keeps failing (in use elsewhere)
    max_address_attempts: int = Field(default=32, ge=1)

    @field_validator("address_pool")
    @classmethod
    def _pool_has_hosts(cls, pool: ipaddress.IPv4Network) -> ipaddress.IPv4Network:
        if pool.num_addresses < 1 or next(iter(pool.hosts()), None) is None:
            raise ValueError(f"address pool {pool} holds no host address")
        return pool

    def resolved_state_dir(self) -> Path:
        """`stateDir`, or $XDG_STATE_HOME/cloud-lb/local, or ~/.local/state/cloud-lb/local."""
        if self.state_dir is not None:
            return self.state_dir.expanduser()
        base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
        return Path(base) / "cloud-lb" / "local"
