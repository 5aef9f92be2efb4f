"""A controller in this process (fake cluster, `local` provider) with its metrics and
probes served on 127.0.0.1:0, as `cloud-lb run` wires them."""

from __future__ import annotations

import io
import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client as k8s

from cloud_lb.commands.wiring import build_api, build_controller, build_provider
from cloud_lb.config import parse_config
from cloud_lb.controller.ingresses import is_ingress_key
from cloud_lb.controller.manager import Controller
from cloud_lb.observability.metrics import ControllerMetrics
from cloud_lb.observability.server import ObservabilityServer, controller_probes
from cloud_lb.provider import CallRecorder, LoadBalancerProvider
from cloud_lb.testing.fakecluster import FakeCluster, running_fake_cluster
from cloud_lb.translate.ingress_class import DEFAULT_CONTROLLER_NAME
from providers.local.testing import private_subnet
from tests.observability.scraping import Scrape, scrape

NS = "default"


@dataclass
class Observed:
    cluster: FakeCluster
    core: k8s.CoreV1Api
    controller: Controller
    provider: LoadBalancerProvider
    recorder: CallRecorder
    metrics: ControllerMetrics
    server: ObservabilityServer

    def scrape(self) -> Scrape:
        return scrape(self.server.url)

    def create_service(self, name: str, ports: list[dict[str, Any]] | None = None) -> None:
        self.core.create_namespaced_service(NS, {
            "apiVersion": "v1", "kind": "Service", "metadata": {"name": name},
            "spec": {"type": "LoadBalancer", "selector": {"app": name},
                     "ports": ports or [{"name": "http", "port": 8080, "targetPort": 8080}]}})

    def create_ingress(self, name: str, backend: str) -> None:
        net = k8s.NetworkingV1Api(self.core.api_client)
        if not net.list_ingress_class().items:
            net.create_ingress_class({"apiVersion": "networking.k8s.io/v1",
                                      "kind": "IngressClass", "metadata": {"name": "cloud-lb"},
                                      "spec": {"controller": DEFAULT_CONTROLLER_NAME}})
        net.create_namespaced_ingress(NS, {
            "apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "metadata": {"name": name},
            "spec": {"ingressClassName": "cloud-lb", "defaultBackend": {
                "service": {"name": backend, "port": {"number": 8080}}}}})

    def settle(self, timeout: float = 15.0) -> None:
        time.sleep(0.2)  # let informer events reach the queue
        assert self.controller.wait_idle(timeout), "controller did not settle"


@pytest.fixture
def cluster() -> Iterator[FakeCluster]:
    with running_fake_cluster(nodes=2) as c:
        yield c


@pytest.fixture
def observed(cluster: FakeCluster, tmp_path: Path) -> Iterator[Observed]:
    config = parse_config({
        "clusterName": "test", "provider": "local",
        "local": {"stateDir": str(tmp_path / "state"), "addressPool": str(private_subnet())},
        "controller": {"workers": 2, "nodeSyncDebounce": "0.1s",
                       "ingress": {"httpPort": 18080, "httpsPort": 18443}},
        "rateLimit": {"backoffBase": "0.2s", "backoffMax": "2s"},
    })
    recorder = CallRecorder()
    provider = build_provider(config, recorder)
    controller = build_controller(config, api=build_api(cluster.kubeconfig), provider=provider)
    metrics = ControllerMetrics(provider_name=provider.name)
    metrics.watch_cloud_calls(recorder)
    controller.observer = metrics.observe_reconcile(  # as `cloud-lb run` labels them
        lambda key: "Ingress" if is_ingress_key(key) else "Service")
    metrics.watch_controller(controller)
    healthy, ready = controller_probes(controller)
    server = ObservabilityServer("127.0.0.1:0", registry=metrics.registry, healthy=healthy,
                                 ready=ready).start()
    try:
        yield Observed(cluster, k8s.CoreV1Api(cluster.kube.api_client()), controller, provider,
                       recorder, metrics, server)
    finally:
        controller.stop()
        provider.close()
        server.stop()


@pytest.fixture
def log_stream() -> Iterator[io.StringIO]:
    """The root logger's handlers and level, and the levels `setup_logging` sets on
    the HTTP stacks' loggers, restored after the test (other tests in this worker
    capture those loggers at DEBUG)."""
    from cloud_lb.logs import NOISY_LOGGERS

    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    noisy = {name: logging.getLogger(name).level for name in NOISY_LOGGERS}
    stream = io.StringIO()
    try:
        yield stream
    finally:
        for name, old in noisy.items():
            logging.getLogger(name).setLevel(old)
        for handler in list(root.handlers):
            root.removeHandler(handler)
        for handler in handlers:
            root.addHandler(handler)
        root.setLevel(level)
