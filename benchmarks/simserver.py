"""The simulated cloud in a process of its own, behind a `multiprocessing` manager.

The parent starts it (`serve_cloud`, spawned: it shares no threads or locks with the
caller) on a loopback port chosen by the kernel; every controller process connects
(`connect_cloud`) and gets a proxy to the one `SimCloud`, one connection per thread,
so its workers' calls overlap. The cloud survives controller restarts, and its memory
is not the controller's. The authkey is a credential of the run: never printed.
"""

from __future__ import annotations

import logging
import multiprocessing
import secrets
from dataclasses import dataclass, field
from multiprocessing.managers import BaseManager
from typing import Any

from benchmarks.simcloud import SimCloud
from benchmarks.simmodel import CloudSettings

log = logging.getLogger(__name__)

_THE_CLOUD: SimCloud | None = None


def _init_cloud(settings: CloudSettings) -> None:
    global _THE_CLOUD
    _THE_CLOUD = SimCloud(settings)


def _the_cloud() -> SimCloud:
    assert _THE_CLOUD is not None, "the cloud process was started without _init_cloud"
    return _THE_CLOUD


class CloudManager(BaseManager):
    """Serves the one `SimCloud` of a benchmark run; every client shares it."""


CloudManager.register("cloud", callable=_the_cloud)


@dataclass
class CloudServer:
    """The running cloud process: its address and key (clients need both)."""

    manager: CloudManager
    address: tuple[str, int]
    authkey: bytes = field(repr=False)

    def client(self) -> Any:
        """A proxy to the cloud for this process (one connection per thread)."""
        return connect_cloud(self.address, self.authkey)

    def stop(self) -> None:
        self.manager.shutdown()


def serve_cloud(settings: CloudSettings) -> CloudServer:
    """Start the cloud in a child process (spawned, so it shares no threads or locks
    with the caller) on a loopback port chosen by the kernel."""
    authkey = secrets.token_bytes(16)
    manager = CloudManager(address=("127.0.0.1", 0), authkey=authkey,
                           ctx=multiprocessing.get_context("spawn"))
    manager.start(initializer=_init_cloud, initargs=(settings,))
    address = manager.address
    log.info("sim cloud started address=%s:%s rate=%g burst=%d", *address, settings.rate,
             settings.burst)
    return CloudServer(manager=manager, address=address, authkey=authkey)


def connect_cloud(address: tuple[str, int], authkey: bytes) -> Any:
    manager = CloudManager(address=tuple(address), authkey=authkey)
    manager.connect()
    return manager.cloud()
