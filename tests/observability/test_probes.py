"""/healthz, /readyz and the HTTP surface of the observability server."""

from __future__ import annotations

from prometheus_client import CollectorRegistry

from cloud_lb.observability.server import ObservabilityServer, controller_probes
from tests.observability.conftest import Observed
from tests.observability.scraping import http_get


def test_readyz_waits_for_the_caches_and_healthz_for_live_informers(observed: Observed) -> None:
    url = observed.server.url
    status, _, body = http_get(f"{url}/readyz")
    assert (status, body.startswith("caches not synced")) == (503, True)
    assert http_get(f"{url}/healthz")[0] == 200  # not started is not dead
    observed.controller.start()
    assert http_get(f"{url}/readyz")[::2] == (200, "ok\n")
    assert http_get(f"{url}/healthz")[::2] == (200, "ok\n")
    observed.controller.nodes.stop()  # its thread ends, as if it had crashed
    assert http_get(f"{url}/healthz")[::2] == (503, "informer threads dead: nodes\n")


def test_readyz_says_whether_this_replica_leads(observed: Observed) -> None:
    leading = [False]
    _, ready = controller_probes(observed.controller, is_leader=lambda: leading[0])
    observed.controller.start_informers()
    assert ready() == (True, "ok: standby")  # a warm standby is ready: rollouts go on
    leading[0] = True
    assert ready() == (True, "ok: leader")


def test_metrics_speak_openmetrics_when_asked_and_unknown_paths_are_404() -> None:
    registry = CollectorRegistry()
    server = ObservabilityServer("127.0.0.1:0", registry=registry,
                                 healthy=lambda: (True, ""), ready=lambda: (True, "")).start()
    try:
        status, ctype, body = http_get(f"{server.url}/metrics",
                                       accept="application/openmetrics-text; version=1.0.0")
        assert status == 200 and ctype.startswith("application/openmetrics-text")
        assert body.endswith("# EOF\n")
        status, ctype, _ = http_get(f"{server.url}/metrics")
        assert status == 200 and ctype.startswith("text/plain; version=0.0.4")
        assert http_get(f"{server.url}/nope")[0] == 404
        assert http_get(f"{server.url}/healthz?verbose")[::2] == (200, "ok\n")
    finally:
        server.stop()
