"""`cloud-lb demo`: the whole product on this host, with no cloud account.

A fake cluster (API server, 3 nodes, a kube-proxy simulator answering on every node
port), the controller with the `local` provider, and a Service whose load balancer
carries real traffic: which node answers each request, a refused source outside
`loadBalancerSourceRanges`, `externalTrafficPolicy: Local` sending traffic only to the
node with an endpoint, and deletion. `--provider openstack|aws|gcp` runs the same
controller against that cloud's fake and shows the cloud resources instead of traffic.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import signal
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

NAMESPACE = "default"
SERVICE = "echo"
PORT = 8080  # above 1024: binding it on the load balancer's address needs no privilege


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--provider", default="local",
                        help="local (real traffic), or openstack, aws, gcp against their fakes")
    parser.add_argument("--nodes", type=int, default=3, help="fake cluster size (default 3)")
    parser.add_argument("--keep", action="store_true",
                        help="stay up after the demo so you can create your own Services")
    parser.add_argument("--verbose", action="store_true", help="show the controller's logs")
    parser.add_argument("--ingress", action="store_true",
                        help="an Ingress instead: two Services behind one L7 load balancer, "
                             "HTTP and HTTPS routed by host and path (local provider)")


class Demo:
    def __init__(self, args: argparse.Namespace, out: Callable[[str], None] = print) -> None:
        self.args = args
        self.out = out
        self.started = time.monotonic()

    def say(self, text: str) -> None:
        self.out(f"[{time.monotonic() - self.started:5.1f}s] {text}")

    # -- the script ---------------------------------------------------------------------
    def run(self) -> int:
        from cloud_lb.testing.fakecluster import running_fake_cluster

        self.say(f"starting a fake cluster with {self.args.nodes} nodes")
        with running_fake_cluster(nodes=self.args.nodes) as cluster, \
                tempfile.TemporaryDirectory(prefix="cloud-lb-demo-") as state_dir, \
                self._cloud(cluster, state_dir) as (config, describe):
            for node in cluster.nodes:
                self.say(f"  node {node.name} at {node.ip}")
            with self._controller(config, cluster.kubeconfig) as controller:
                from kubernetes import client as k8s
                core = k8s.CoreV1Api(cluster.kube.api_client())
                self._create_service(core)
                address = self._wait_for_address(core)
                if self.args.provider == "local":
                    self._show_traffic(address)
                    self._show_source_ranges(core, controller, address)
                    self._show_local_policy(core, cluster, controller, address)
                else:
                    self.out(describe())
                    self.say(f"(the {self.args.provider} fake does not carry traffic: "
                             "above is what cloud-lb built)")
                if self.args.keep:
                    return self._keep(cluster.kubeconfig)
                self._delete(core, controller, address)
        self.say("demo finished")
        return 0

    @contextlib.contextmanager
    def _cloud(self, cluster: Any, state_dir: str) -> Iterator[tuple[Any, Callable[[], str]]]:
        import importlib

        name = self.args.provider
        # moto's server logs every request through werkzeug; the demo shows results instead
        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        if name == "local":
            yield demo_config("local", {"stateDir": state_dir}), lambda: ""
            return
        testing = importlib.import_module(f"providers.{name}.testing")
        nodes = [(n.name, n.ip) for n in cluster.nodes]
        with testing.demo_cloud("demo", nodes) as cloud:
            cluster.set_provider_ids(cloud.provider_ids)
            if cloud.env:
                import os
                os.environ.update(cloud.env)
            config = demo_config(name, cloud.config)
            self.say(f"started a fake {name} cloud")
            yield config, cloud.describe

    @contextlib.contextmanager
    def _controller(self, config: Any, kubeconfig: str) -> Iterator[Any]:
        from cloud_lb.commands.wiring import build_api, build_controller, build_provider
        from cloud_lb.logs import setup_logging

        setup_logging("info" if self.args.verbose else "warning", "text")
        provider = build_provider(config)
        controller = build_controller(config, api=build_api(kubeconfig), provider=provider)
        controller.start()
        self.say(f"controller running (provider={provider.name}, "
                 f"workers={controller.runtime.workers})")
        try:
            yield controller
        finally:
            controller.stop()
            provider.close()

    def _create_service(self, core: Any) -> None:
        core.create_namespaced_service(NAMESPACE, {
            "apiVersion": "v1", "kind": "Service",
            "metadata": {"name": SERVICE},
            "spec": {"type": "LoadBalancer", "selector": {"app": SERVICE},
                     "ports": [{"name": "http", "port": PORT, "targetPort": 8080,
                                "protocol": "TCP"}]},
        })
        self.say(f"created Service {NAMESPACE}/{SERVICE} (type LoadBalancer, port {PORT}/TCP)")

    def _wait_for_address(self, core: Any, timeout: float = 60.0) -> str:
        deadline = time.monotonic() + timeout
        dots = 0
        while time.monotonic() < deadline:
            svc = core.read_namespaced_service(SERVICE, NAMESPACE)
            ingress = (svc.status.load_balancer.ingress or []) if svc.status.load_balancer else []
            if ingress:
                point = ingress[0]
                address = point.ip or point.hostname
                mode = f" (ipMode {point.ip_mode})" if getattr(point, "ip_mode", None) else ""
                self.say(f"external address published in status: {address}{mode}")
                return address
            dots += 1
            if dots % 5 == 1:
                self.say("waiting for the external address ...")
            time.sleep(0.2)
        raise RuntimeError(f"no external address after {timeout:.0f}s: check --verbose logs")

    def _show_traffic(self, address: str) -> None:
        self.say(f"sending 6 requests to http://{address}:{PORT}/")
        for i in range(6):
            self.say(f"  request {i + 1}: {http_get(address, PORT)}")

    def _show_source_ranges(self, core: Any, controller: Any, address: str) -> None:
        self.say("restricting loadBalancerSourceRanges to 127.0.0.1/32")
        core.patch_namespaced_service(SERVICE, NAMESPACE,
                                      {"spec": {"loadBalancerSourceRanges": ["127.0.0.1/32"]}})
        controller.wait_idle(10)
        wait_until(lambda: http_get(address, PORT, source="127.0.0.2").startswith("refused"), 10)
        self.say(f"  from 127.0.0.1: {http_get(address, PORT, source='127.0.0.1')}")
        self.say(f"  from 127.0.0.2: {http_get(address, PORT, source='127.0.0.2')}")
        core.patch_namespaced_service(SERVICE, NAMESPACE,
                                      {"spec": {"loadBalancerSourceRanges": None}})
        controller.wait_idle(10)

    def _show_local_policy(self, core: Any, cluster: Any, controller: Any, address: str) -> None:
        target = cluster.nodes[-1].name
        self.say(f"externalTrafficPolicy: Local, with the only endpoint on {target}")
        cluster.add_endpoint(NAMESPACE, SERVICE, target)
        core.patch_namespaced_service(SERVICE, NAMESPACE,
                                      {"spec": {"externalTrafficPolicy": "Local"}})
        controller.wait_idle(10)
        self.say("  waiting for health checks to mark the other nodes down ...")
        wait_until(lambda: all(target in http_get(address, PORT) for _ in range(6)), 30)
        for i in range(4):
            self.say(f"  request {i + 1}: {http_get(address, PORT)}")

    def _delete(self, core: Any, controller: Any, address: str) -> None:
        core.delete_namespaced_service(SERVICE, NAMESPACE)
        self.say(f"deleted Service {NAMESPACE}/{SERVICE}")
        gone = wait_until(lambda: not _service_exists(core), 30)
        self.say("load balancer deleted, finalizer released" if gone
                 else "the Service is still there: see --verbose logs")
        if self.args.provider == "local":
            self.say(f"  http://{address}:{PORT}/ now: {http_get(address, PORT)}")

    def _keep(self, kubeconfig: str) -> int:
        self.say("the cluster stays up; press Ctrl-C to stop")
        self.out(f"  export KUBECONFIG={kubeconfig}")
        self.out("  kubectl apply -f - <<EOF\n"
                 "  {apiVersion: v1, kind: Service, metadata: {name: web}, spec: {type: LoadBalancer,\n"
                 "   selector: {app: web}, ports: [{port: 8081, targetPort: 8080}]}}\n"
                 "  EOF\n"
                 "  kubectl get svc -w")
        stop = threading.Event()
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: stop.set())
        stop.wait()
        return 0


def demo_config(provider: str, section: dict[str, Any]) -> Any:
    """The demo's config: fast health checks so policy changes show within seconds."""
    from cloud_lb.config import parse_config

    return parse_config({
        "clusterName": "demo",
        "provider": provider,
        provider: section,
        "controller": {"nodeSyncDebounce": "0.2s", "healthCheck": {
            "interval": 1, "timeout": 1, "healthyThreshold": 1, "unhealthyThreshold": 2}},
    })


def _service_exists(core: Any) -> bool:
    from kubernetes.client.exceptions import ApiException
    try:
        core.read_namespaced_service(SERVICE, NAMESPACE)
        return True
    except ApiException as exc:
        if exc.status == 404:
            return False
        raise


def http_get(address: str, port: int, *, source: str | None = None, timeout: float = 2.0) -> str:
    """One HTTP GET over a fresh connection; the answer's body, or why it failed."""
    import socket

    try:
        with socket.create_connection((address, port), timeout=timeout,
                                      source_address=(source, 0) if source else None) as sock:
            sock.sendall(f"GET / HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n".encode())
            data = b""
            while chunk := sock.recv(4096):
                data += chunk
    except OSError as exc:
        return f"refused ({exc.__class__.__name__})"
    if not data:
        return "refused (connection closed)"
    body = data.split(b"\r\n\r\n", 1)[-1].decode(errors="replace").strip()
    return body or data.decode(errors="replace").splitlines()[0]


def wait_until(predicate: Callable[[], bool], timeout: float, interval: float = 0.2) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return False


def run(args: argparse.Namespace) -> int:
    try:
        if getattr(args, "ingress", False):
            from cloud_lb.commands.demo_ingress import IngressDemo
            return IngressDemo(args).run()
        return Demo(args).run()
    except Exception as exc:  # noqa: BLE001 - the demo explains, it does not traceback
        logging.getLogger("cloud_lb.demo").debug("demo failed", exc_info=True)
        print(f"demo failed: {exc}", file=sys.stderr)
        return 1
