"""/metrics after real reconciles: values, types and labels, read back with
prometheus-client's parser, compared with what the controller and provider did."""

from __future__ import annotations

import time
from pathlib import Path

from cloud_lb import __version__
from cloud_lb.observability.metrics import METRIC_NAMES
from tests.observability.conftest import Observed


def test_reconciles_cloud_calls_and_queue_are_counted(observed: Observed) -> None:
    observed.controller.start()
    for name in ("a", "b", "c"):
        observed.create_service(name)
    # the local provider cannot serve SCTP: a user error, no load balancer
    observed.create_service("bad", ports=[{"name": "sig", "port": 3868, "protocol": "SCTP"}])
    observed.create_ingress("site", backend="a")
    observed.settle()
    m = observed.scrape()
    # one queue, two kinds: each reconcile is labelled with the kind of its key
    assert m.value("cloudlb_reconciles_total", kind="Ingress", result="synced") >= 1
    assert m.value("cloudlb_managed_load_balancers", provider="local", kind="Ingress") == 1

    assert m.value("cloudlb_reconciles_total", kind="Service", result="synced") >= 3
    assert m.value("cloudlb_reconciles_total", kind="Service", result="invalid") >= 1
    # every reconcile is both counted and timed
    assert m.value("cloudlb_reconcile_duration_seconds_count", kind="Service") == \
        m.total("cloudlb_reconciles_total", kind="Service")
    assert m.value("cloudlb_reconcile_duration_seconds_bucket", kind="Service", le="+Inf") == \
        m.total("cloudlb_reconciles_total", kind="Service")
    # cloud calls: exactly what the provider recorded, split by mutation
    recorded = observed.recorder
    assert m.total("cloudlb_cloud_api_calls_total", provider="local") == recorded.count() > 0
    assert m.total("cloudlb_cloud_api_calls_total", provider="local", mutating="true") == \
        recorded.mutations() > 0
    assert m.value("cloudlb_managed_load_balancers", provider="local", kind="Service") == 3
    assert m.value("cloudlb_workqueue_adds_total") >= 5
    assert m.value("cloudlb_workqueue_depth") == 0
    assert m.value("cloudlb_workqueue_longest_running_seconds") == 0
    assert m.value("cloudlb_leader") == 1  # no election: the running replica leads
    assert m.value("cloudlb_build_info", version=__version__, provider="local") == 1
    assert m.value("cloudlb_informer_relists_total", resource="services") >= 1
    assert m.value("cloudlb_informer_relists_total", resource="nodes") >= 1
    assert m.value("cloudlb_informer_last_activity_age_seconds", resource="nodes") >= 0
    assert m.types["cloudlb_reconciles"] == "counter"
    assert m.types["cloudlb_reconcile_duration_seconds"] == "histogram"
    assert m.types["cloudlb_workqueue_adds"] == "counter"
    assert m.types["cloudlb_workqueue_depth"] == "gauge"

    observed.core.delete_namespaced_service("a", "default")
    observed.settle()
    after = observed.scrape()
    assert after.value("cloudlb_reconciles_total", kind="Service", result="deleted") >= 1
    assert after.value("cloudlb_managed_load_balancers", provider="local", kind="Service") == 2


def test_a_full_resync_is_stamped(observed: Observed) -> None:
    observed.controller.start()
    assert observed.scrape().value("cloudlb_last_full_resync_timestamp_seconds") == 0
    before = time.time()
    observed.controller.resync()
    stamp = observed.scrape().value("cloudlb_last_full_resync_timestamp_seconds")
    assert before <= stamp <= time.time()


def test_a_stopped_controller_no_longer_leads(observed: Observed) -> None:
    observed.controller.start()
    assert observed.scrape().value("cloudlb_leader") == 1
    observed.controller.stop()
    assert observed.scrape().value("cloudlb_leader") == 0


def test_every_exported_family_is_listed_and_documented(observed: Observed) -> None:
    observed.controller.start()
    observed.create_service("a")
    observed.settle()
    exported = {s.name for s in observed.scrape().samples}
    for suffix in ("_bucket", "_count", "_sum"):
        exported = {n[: -len(suffix)] if n.endswith(suffix) else n for n in exported}
    assert exported == set(METRIC_NAMES)
    docs = (Path(__file__).parents[2] / "docs" / "metrics.md").read_text()
    missing = [name for name in METRIC_NAMES if f"`{name}`" not in docs]
    assert not missing, f"docs/metrics.md does not describe {missing}"
