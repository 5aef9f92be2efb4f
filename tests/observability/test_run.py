"""`cloud-lb run` as a process, single replica (`--leader-elect false`): its metrics
endpoint after real reconciles, its JSON log lines, a clean SIGTERM."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from kubernetes import client as k8s

from cloud_lb.testing.fakecluster import FakeCluster
from providers.local.testing import private_subnet
from tests.leader.runner import RunProcess, wait_until, write_config


@pytest.fixture
def process(cluster: FakeCluster, tmp_path: Path) -> Iterator[RunProcess]:
    config = write_config(tmp_path / "config.yaml", state_dir=tmp_path / "state",
                          address_pool=str(private_subnet()))
    proc = RunProcess(config=config, kubeconfig=cluster.kubeconfig, log_path=tmp_path / "log",
                      args=("--leader-elect", "false"))
    try:
        yield proc
    finally:
        proc.close()


def test_a_single_replica_reconciles_exports_metrics_and_logs_json(
        cluster: FakeCluster, process: RunProcess) -> None:
    core = k8s.CoreV1Api(cluster.kube.api_client())
    wait_until(process.ready, 30, message=f"readiness\n{process.logs()}")
    for name in ("one", "two", "three"):
        core.create_namespaced_service("default", {
            "apiVersion": "v1", "kind": "Service", "metadata": {"name": name},
            "spec": {"type": "LoadBalancer", "selector": {"app": name},
                     "ports": [{"name": "http", "port": 8080, "targetPort": 8080}]}})
    wait_until(lambda: process.metrics().value("cloudlb_managed_load_balancers", kind="Service",
                                               provider="local") == 3, 20,
               message=f"three load balancers\n{process.logs()}")
    m = process.metrics()
    assert m.value("cloudlb_reconciles_total", kind="Service", result="synced") >= 3
    assert m.value("cloudlb_leader") == 1
    assert m.total("cloudlb_cloud_api_calls_total", provider="local", mutating="true") >= 3
    assert m.value("cloudlb_workqueue_adds_total") >= 3
    assert m.value("process_resident_memory_bytes") > 0  # the process collector is on
    assert process.get("/healthz") == (200, "ok\n")
    assert process.get("/readyz") == (200, "ok\n")  # no election: no role to report

    assert process.terminate() == 0
    text = process.logs(tail=None)
    lines = [json.loads(line) for line in text.splitlines()]  # every line is one JSON object
    ensured = [line for line in lines if line["msg"] == "load balancer ensured"]
    assert {e["service"] for e in ensured} == {"default/one", "default/two", "default/three"}
    assert all(e["id"].startswith("local-") and e["address"] for e in ensured)
    assert lines[-1]["msg"] == "stopped" and lines[-1]["lost_leadership"] == "False"
