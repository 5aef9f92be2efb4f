"""Fixtures for leader election: a fake API server alone (for electors in this
process), a fake cluster with nodes (for `cloud-lb run` processes), and a registry of
the processes and electors a test starts, all stopped at teardown."""

from __future__ import annotations

import threading
import time
from collections.abc import Generator, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from kubernetes import client as k8s
from kubernetes.client.exceptions import ApiException

from cloud_lb.kube.leader import LeaderElector
from cloud_lb.testing.fakecluster import FakeCluster, running_fake_cluster
from cloud_lb.testing.fakekube import FakeKubeServer
from providers.local.testing import private_subnet
from tests.leader.partition import Partition
from tests.leader.runner import RunProcess, write_config

LEASE_NS = "kube-system"
LEASE_NAME = "cloud-lb"


@pytest.fixture
def kube() -> Iterator[FakeKubeServer]:
    server = FakeKubeServer().start()
    try:
        yield server
    finally:
        server.stop()


def lease_holder(api: k8s.ApiClient, name: str = LEASE_NAME) -> str | None:
    try:
        lease = k8s.CoordinationV1Api(api).read_namespaced_lease(name, LEASE_NS)
    except ApiException as exc:
        if exc.status == 404:
            return None
        raise
    return lease.spec.holder_identity or None


@dataclass
class Candidate:
    """An elector running in a thread, with what happened to it and when."""

    elector: LeaderElector
    started: list[float] = field(default_factory=list)  # monotonic
    stopped: list[float] = field(default_factory=list)
    started_wall: list[float] = field(default_factory=list)  # time.time(), as Lease stamps
    thread: threading.Thread | None = None

    def _started(self) -> None:
        self.started.append(time.monotonic())
        self.started_wall.append(time.time())

    def start(self) -> Candidate:
        self.thread = threading.Thread(
            target=self.elector.run, name=f"elector-{self.elector.identity}", daemon=True,
            kwargs={"on_started_leading": self._started,
                    "on_stopped_leading": lambda: self.stopped.append(time.monotonic())})
        self.thread.start()
        return self

    @property
    def identity(self) -> str:
        return self.elector.identity

    def crash(self) -> None:
        """Stop without releasing (the lease stays until it expires)."""
        self.elector.stop()
        if self.thread is not None:
            self.thread.join(10)


class Candidates:
    def __init__(self) -> None:
        self.all: list[Candidate] = []

    def start(self, api: k8s.ApiClient, identity: str, *, lease: float, renew: float,
              retry: float, name: str = LEASE_NAME) -> Candidate:
        elector = LeaderElector(api, name=name, namespace=LEASE_NS, identity=identity,
                                lease_duration=lease, renew_deadline=renew, retry_period=retry)
        candidate = Candidate(elector).start()
        self.all.append(candidate)
        return candidate

    def stop(self) -> None:
        for candidate in self.all:
            candidate.crash()


@pytest.fixture
def candidates() -> Iterator[Candidates]:
    registry = Candidates()
    try:
        yield registry
    finally:
        registry.stop()


@pytest.fixture
def partition(kube: FakeKubeServer) -> Iterator[Partition]:
    proxy = Partition(kube.url)
    try:
        yield proxy
    finally:
        proxy.close()


def client_via(kube: FakeKubeServer, url: str) -> k8s.ApiClient:
    """An ApiClient for `kube` that connects through `url` (a Partition)."""
    api = kube.api_client()
    api.configuration.host = url
    return k8s.ApiClient(api.configuration)


# -- whole processes -------------------------------------------------------------------
@pytest.fixture
def cluster() -> Iterator[FakeCluster]:
    with running_fake_cluster(nodes=2) as c:
        yield c


class Replicas:
    """`cloud-lb run` processes of one test; their logs are printed when it fails."""

    def __init__(self, cluster: FakeCluster, tmp_path: Path) -> None:
        self.cluster = cluster
        self.tmp_path = tmp_path
        self.address_pool = str(private_subnet())
        self.started: list[RunProcess] = []

    def start(self, name: str, *, state_dir: Path | None = None,
              lease: tuple[str, str, str] = ("3s", "2s", "0.5s")) -> RunProcess:
        config = write_config(self.tmp_path / f"{name}.yaml",
                              state_dir=state_dir or self.tmp_path / f"state-{name}",
                              address_pool=self.address_pool, lease=lease)
        process = RunProcess(config=config, kubeconfig=self.cluster.kubeconfig,
                             log_path=self.tmp_path / f"{name}.log")
        self.started.append(process)
        return process

    def logs(self) -> str:
        return "\n".join(f"--- pid {p.proc.pid} ({p.identity}) ---\n{p.logs()}"
                         for p in self.started)

    def close(self) -> None:
        for process in self.started:
            process.close()


@pytest.fixture
def replicas(cluster: FakeCluster, tmp_path: Path,
             request: pytest.FixtureRequest) -> Iterator[Replicas]:
    registry = Replicas(cluster, tmp_path)
    try:
        yield registry
    finally:
        registry.close()
        report = getattr(request.node, "rep_call", None)
        if report is not None and report.failed:
            print(registry.logs())


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]
                              ) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Keep each phase's report on the item, so fixtures can tell a failed test."""
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report
