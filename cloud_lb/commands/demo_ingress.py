"""`cloud-lb demo --ingress`: one Ingress, two Services, real HTTP and HTTPS on this host.

A fake cluster (3 nodes whose simulated kube-proxies answer on every node port with
`node=<node> service=<ns>/<name>`), the controller with the `local` provider, an
IngressClass of ours, two NodePort Services (`coffee`, `tea`), a self-signed TLS Secret
and one Ingress routing by host and path. Every request is printed with who answered;
then the Secret rotates (same address, new certificate), HTTP is redirected to HTTPS,
and the Ingress is deleted. Listener ports are 8080/8443: no privilege needed.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable
from typing import Any

from cloud_lb.commands.demo import Demo, demo_config, wait_until

NAMESPACE = "default"
INGRESS = "cafe"
HTTP_PORT, HTTPS_PORT = 8080, 8443
CAFE, TEA = "cafe.example", "tea.example"


class IngressDemo(Demo):
    def __init__(self, args: argparse.Namespace, out: Callable[[str], None] = print) -> None:
        super().__init__(args, out)

    def run(self) -> int:
        from kubernetes import client as k8s

        from cloud_lb.testing.fakecluster import running_fake_cluster

        if self.args.provider != "local":
            self.say(f"--ingress runs with the local provider only (asked: {self.args.provider})")
            return 2
        self.say(f"starting a fake cluster with {self.args.nodes} nodes")
        with running_fake_cluster(nodes=self.args.nodes) as cluster, \
                tempfile.TemporaryDirectory(prefix="cloud-lb-demo-") as state_dir:
            config = ingress_config(state_dir)
            with self._controller(config, cluster.kubeconfig) as controller:
                core = k8s.CoreV1Api(cluster.kube.api_client())
                net = k8s.NetworkingV1Api(cluster.kube.api_client())
                ca = self._create_objects(core, net)
                address = self._wait_for_ingress(net)
                self._show_http(address)
                self._show_https(address, ca)
                self._show_rotation(core, address, ca)
                self._show_redirect(net, controller, address)
                net.delete_namespaced_ingress(INGRESS, NAMESPACE)
                self.say(f"deleted Ingress {NAMESPACE}/{INGRESS}")
                gone = wait_until(lambda: _probe(address, HTTP_PORT, CAFE, "/coffee") is None, 30)
                self.say("load balancer deleted: the address no longer answers" if gone
                         else "the load balancer is still there: see --verbose logs")
        self.say("demo finished")
        return 0

    def _create_objects(self, core: Any, net: Any) -> str:
        from cloud_lb.testing.certs import self_signed, tls_secret

        net.create_ingress_class({
            "apiVersion": "networking.k8s.io/v1", "kind": "IngressClass",
            "metadata": {"name": "cloud-lb"},
            "spec": {"controller": "cloud-lb.io/ingress-controller"}})
        self.say("created IngressClass cloud-lb (controller cloud-lb.io/ingress-controller)")
        for name in ("coffee", "tea"):
            core.create_namespaced_service(NAMESPACE, {
                "apiVersion": "v1", "kind": "Service", "metadata": {"name": name},
                "spec": {"type": "NodePort", "selector": {"app": name},
                         "ports": [{"name": "http", "port": 80, "targetPort": 8080}]}})
        self.say("created Services coffee and tea (type NodePort, port 80)")
        cert, key = self_signed([CAFE])
        core.create_namespaced_secret(NAMESPACE, tls_secret("cafe-tls", cert, key))
        self.say(f"created Secret cafe-tls (kubernetes.io/tls, self-signed for {CAFE})")
        net.create_namespaced_ingress(NAMESPACE, {
            "apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
            "metadata": {"name": INGRESS},
            "spec": {"ingressClassName": "cloud-lb",
                     "tls": [{"hosts": [CAFE], "secretName": "cafe-tls"}],
                     "rules": [
                         {"host": CAFE, "http": {"paths": [
                             _path("/coffee", "Prefix", "coffee"),
                             _path("/tea", "Prefix", "tea")]}},
                         {"host": TEA, "http": {"paths": [_path("/", "Prefix", "tea")]}}]}})
        self.say(f"created Ingress {INGRESS}: {CAFE}/coffee -> coffee, {CAFE}/tea -> tea, "
                 f"{TEA}/ -> tea, TLS for {CAFE}")
        return cert

    def _wait_for_ingress(self, net: Any, timeout: float = 60.0) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            ing = net.read_namespaced_ingress(INGRESS, NAMESPACE)
            lb = ing.status.load_balancer if ing.status else None
            if lb and lb.ingress:
                address = lb.ingress[0].ip
                self.say(f"Ingress address published in status: {address}")
                # the first health checks decide within a second
                wait_until(lambda: _probe(address, HTTP_PORT, CAFE, "/coffee") is not None, 10)
                return address
            time.sleep(0.2)
        raise RuntimeError(f"no Ingress address after {timeout:.0f}s: check --verbose logs")

    def _show_http(self, address: str) -> None:
        self.say(f"HTTP requests to {address}:{HTTP_PORT} with the Host a browser would send")
        for host, path in ((CAFE, "/coffee"), (CAFE, "/coffee/espresso"), (CAFE, "/tea"),
                           (TEA, "/green"), (CAFE, "/cake"), ("other.example", "/")):
            self.say(f"  GET http://{host}{path} -> {_show(_probe(address, HTTP_PORT, host, path))}")

    def _show_https(self, address: str, ca: str) -> None:
        self.say(f"HTTPS to {address}:{HTTPS_PORT}, SNI {CAFE}, verified against the Secret's "
                 "certificate")
        for path in ("/coffee", "/tea"):
            reply = _probe(address, HTTPS_PORT, CAFE, path, ca)
            serial = f" (certificate serial {reply.cert_serial[:12]}...)" if reply and reply.cert_serial else ""
            self.say(f"  GET https://{CAFE}{path} -> {_show(reply)}{serial}")

    def _show_rotation(self, core: Any, address: str, old_ca: str) -> None:
        from cloud_lb.testing.certs import self_signed, tls_secret

        cert, key = self_signed([CAFE])
        core.replace_namespaced_secret("cafe-tls", NAMESPACE, tls_secret("cafe-tls", cert, key))
        self.say("rotated Secret cafe-tls (a new certificate)")
        served = wait_until(lambda: _probe(address, HTTPS_PORT, CAFE, "/coffee", cert) is not None, 20)
        reply = _probe(address, HTTPS_PORT, CAFE, "/coffee", cert)
        if served and reply is not None and reply.cert_serial:
            self.say(f"  GET https://{CAFE}/coffee -> {_show(reply)} (new serial "
                     f"{reply.cert_serial[:12]}..., same address {address})")
        else:
            self.say("  the new certificate is not served yet: see --verbose logs")

    def _show_redirect(self, net: Any, controller: Any, address: str) -> None:
        net.patch_namespaced_ingress(INGRESS, NAMESPACE, {"metadata": {"annotations": {
            "cloud-lb.io/ssl-redirect": "true"}}})
        self.say("annotated cloud-lb.io/ssl-redirect=true")
        wait_until(lambda: (r := _probe(address, HTTP_PORT, CAFE, "/tea")) is not None
                   and r.status == 308, 20)
        reply = _probe(address, HTTP_PORT, CAFE, "/tea")
        location = reply.headers.get("location") if reply else None
        self.say(f"  GET http://{CAFE}/tea -> {reply.status if reply else 'failed'} "
                 f"Location: {location}")


def _path(path: str, kind: str, service: str) -> dict[str, Any]:
    return {"path": path, "pathType": kind,
            "backend": {"service": {"name": service, "port": {"number": 80}}}}


def _probe(address: str, port: int, host: str, path: str, ca: str | None = None) -> Any:
    from cloud_lb.testing.http_probe import request
    try:
        return request(address, port, host=host, path=path, ca_pem=ca)
    except OSError:
        return None


def _show(reply: Any) -> str:
    if reply is None:
        return "refused"
    return f"{reply.status} {reply.body}" if reply.body else str(reply.status)


def ingress_config(state_dir: str) -> Any:
    config = demo_config("local", {"stateDir": state_dir,
                                   "healthCheck": {"intervalSeconds": 0.5}})
    from cloud_lb.config import parse_config
    raw = config.to_dict()
    raw["controller"]["ingress"].update({"httpPort": HTTP_PORT, "httpsPort": HTTPS_PORT})
    return parse_config(raw)
