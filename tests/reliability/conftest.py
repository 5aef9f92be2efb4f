"""Fixtures of the reliability suite: fresh worlds (fake API server + one cloud's fake),
controller processes that never outlive a test, and one moto server per test process.

`CLOUD_LB_FULL=1` turns on the full matrix (more Services, longer soak, more examples);
see docs/reliability.md."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import pytest

from tests.reliability.processes import Controllers
from tests.reliability.worlds import World, make_world

FULL = os.environ.get("CLOUD_LB_FULL") == "1"


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    """A moto server on 127.0.0.1 (port 0) for the whole session; each world opens its
    own AWS account in it, so worlds never see each other's resources."""
    import logging
    from unittest import mock

    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    with mock.patch.dict(os.environ, {"MOTO_EC2_LOAD_DEFAULT_AMIS": "false"}):
        server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        server.start()
        try:
            host, port = server.get_host_and_port()
            yield f"http://{host}:{port}"
        finally:
            server.stop()


@pytest.fixture
def controllers(tmp_path: Path) -> Iterator[Controllers]:
    procs = Controllers(tmp_path)
    try:
        yield procs
    finally:
        procs.close()


WorldFactory = Callable[..., AbstractContextManager[World]]


@pytest.fixture
def worlds(tmp_path: Path, request: pytest.FixtureRequest) -> WorldFactory:
    """`with worlds("openstack") as w:` a fresh world; the aws one takes the session's
    moto server (only started when an aws world is asked for)."""
    counter = iter(range(10_000))

    def factory(provider: str, **kwargs: Any) -> AbstractContextManager[World]:
        endpoint = request.getfixturevalue("moto_endpoint") if provider == "aws" else None
        return make_world(provider, tmp_path / f"world-{provider}-{next(counter)}",
                          moto_endpoint=endpoint, **kwargs)

    return factory
