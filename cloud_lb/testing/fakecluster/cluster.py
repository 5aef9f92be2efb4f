"""A fake cluster: the fake API server, Node objects on loopback addresses, and the
kube-proxy simulator serving them.

Everything goes through the API like a real cluster's components would: nodes are
created and patched as a kubelet does, EndpointSlices are written as the endpointslice
controller does, and the simulator only learns about them by watching. The helpers that
write return once the simulator has acted on their write (pass `wait=False` to skip),
so a test can assert on sockets right after calling them.

Thread-safe: the helpers serialise their own writes; the simulator runs in its own
threads. `stop()` stops the simulator (closing every socket), the API server if this
cluster started it, and releases the node subnet.
"""

from __future__ import annotations

import ipaddress
import json
import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Self

from kubernetes import client as k8s
from kubernetes.client.exceptions import ApiException

from cloud_lb.testing.fakecluster import addresses, endpoints, nodes
from cloud_lb.testing.fakecluster.listeners import desired_listeners
from cloud_lb.testing.fakecluster.nodes import SimNode, node_view
from cloud_lb.testing.fakecluster.services import service_view
from cloud_lb.testing.fakecluster.simulator import NODE, SLICE, Simulator, Snapshot

if TYPE_CHECKING:
    from cloud_lb.testing.fakekube import FakeKubeServer

log = logging.getLogger(__name__)

DEFAULT_WAIT = 10.0
MERGE_PATCH = "application/merge-patch+json"


class FakeCluster:
    def __init__(
        self,
        *,
        nodes: int = 3,
        node_subnet: str | ipaddress.IPv4Network | None = None,
        kube: FakeKubeServer | None = None,
        **kube_options: Any,
    ) -> None:
        """`nodes` Ready nodes on `node_subnet` (a /24 in 127.0.0.0/8; None picks one no
        other fake cluster on this host uses). `kube`: an already running API server to
        use (not stopped by this cluster); else one is started with `kube_options`."""
        self._initial_nodes = nodes
        self._subnet_request = node_subnet
        self._own_kube = kube is None
        self._kube_options = kube_options
        self._kube: FakeKubeServer | None = kube
        self._claim: addresses.SubnetClaim | None = None
        self._simulator: Simulator | None = None
        self._api: k8s.ApiClient | None = None
        self._nodes: dict[str, SimNode] = {}
        self._next_host = 1
        self._next_pod = 0
        self._lock = threading.RLock()

    # -- lifecycle ----------------------------------------------------------------------
    def start(self) -> FakeCluster:
        try:
            self._claim = (
                addresses.claim_free_subnet()
                if self._subnet_request is None
                else addresses.claim_subnet(self._subnet_request)
            )
            if self._kube is None:
                from cloud_lb.testing.fakekube import FakeKubeServer

                self._kube = FakeKubeServer(**self._kube_options)
                self._kube.start()
            self._api = self._kube.api_client()
            self._simulator = Simulator(self._kube.api_client)
            self._simulator.start()
            for _ in range(self._initial_nodes):
                self.add_node()
        except BaseException:
            self.stop()
            raise
        log.info(
            "event=fake_cluster_started api=%s subnet=%s nodes=%d",
            self._kube.url,
            self.subnet,
            len(self._nodes),
        )
        return self

    def stop(self) -> None:
        if self._simulator is not None:
            self._simulator.stop()
            self._simulator = None
        if self._api is not None:
            self._api.close()
            self._api = None
        if self._kube is not None and self._own_kube:
            self._kube.stop()
        if self._claim is not None:
            self._claim.release()
            self._claim = None

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- what a user of the cluster reads ----------------------------------------------------
    @property
    def kube(self) -> FakeKubeServer:
        if self._kube is None:
            raise RuntimeError("the fake cluster is not started")
        return self._kube

    @property
    def kubeconfig(self) -> str:
        return str(self.kube.kubeconfig)

    @property
    def subnet(self) -> ipaddress.IPv4Network:
        if self._claim is None:
            raise RuntimeError("the fake cluster is not started")
        return self._claim.network

    @property
    def nodes(self) -> list[SimNode]:
        """The nodes this cluster created and has not removed, in creation order."""
        with self._lock:
            return list(self._nodes.values())

    def node(self, name: str) -> SimNode:
        with self._lock:
            return self._nodes[name]

    @property
    def simulator(self) -> Simulator:
        if self._simulator is None:
            raise RuntimeError("the fake cluster is not started")
        return self._simulator

    def snapshot(self) -> Snapshot:
        """The simulator's bound listeners, bind failures and acted-on versions."""
        return self.simulator.snapshot()

    # -- nodes -----------------------------------------------------------------------
    def add_node(
        self,
        name: str | None = None,
        *,
        ready: bool = True,
        labels: dict[str, str] | None = None,
        provider_id: str | None = None,
        wait: bool = True,
        timeout: float = DEFAULT_WAIT,
    ) -> SimNode:
        """Register a Node like a kubelet: created, then its status (Ready, InternalIP)
        written through the status subresource. The node gets the next address."""
        with self._lock:
            index = self._next_host
            ip = self._claim_host(index)
            self._next_host += 1
            name = name or f"node-{index}"
            manifest = nodes.node_manifest(
                name, ip, ready=ready, labels=labels, provider_id=provider_id
            )
            self._raw(self._core.create_node, manifest)
            # the API server may drop status on create; the status subresource keeps it
            written = self._raw(
                self._core.patch_node_status,
                name,
                {"status": manifest["status"]},
                _content_type=MERGE_PATCH,
            )
            node = SimNode(name, ip)
            self._nodes[name] = node
        log.info("event=node_added node=%s ip=%s ready=%s", name, ip, ready)
        if wait:
            self._wait_seen(NODE, ("", name), written, timeout)
        return node

    def remove_node(self, name: str, *, wait: bool = True, timeout: float = DEFAULT_WAIT) -> None:
        """Delete the Node object; the simulator closes that node's sockets."""
        with self._lock:
            self._raw(self._core.delete_node, name)
            self._nodes.pop(name, None)
        log.info("event=node_removed node=%s", name)
        if wait:
            self._wait_gone(NODE, ("", name), timeout)

    def set_ready(
        self, name: str, ready: bool, *, wait: bool = True, timeout: float = DEFAULT_WAIT
    ) -> None:
        with self._lock:
            written = self._raw(
                self._core.patch_node_status,
                name,
                nodes.ready_status_patch(ready),
                _content_type=MERGE_PATCH,
            )
        log.info("event=node_readiness node=%s ready=%s", name, ready)
        if wait:
            self._wait_seen(NODE, ("", name), written, timeout)

    def set_provider_ids(self, provider_ids: dict[str, str]) -> None:
        """Set `spec.providerID` of these nodes (as a cloud's node controller would)."""
        with self._lock:
            for name, provider_id in provider_ids.items():
                self._raw(
                    self._core.patch_node,
                    name,
                    {"spec": {"providerID": provider_id}},
                    _content_type=MERGE_PATCH,
                )

    # -- endpoints -----------------------------------------------------------------------
    def add_endpoint(
        self,
        namespace: str,
        service: str,
        node_name: str,
        ready: bool = True,
        *,
        wait: bool = True,
        timeout: float = DEFAULT_WAIT,
    ) -> str:
        """Add one pod endpoint on `node_name` to the Service's EndpointSlice (created on
        first use, ports taken from the Service). Returns the pod's IP."""
        with self._lock:
            self._next_pod += 1
            pod_ip = f"10.244.{self._next_pod // 250}.{self._next_pod % 250 + 1}"
            entry = endpoints.endpoint_entry(
                namespace=namespace,
                pod_name=f"{service}-{self._next_pod}",
                pod_ip=pod_ip,
                node_name=node_name,
                ready=ready,
            )
            written = self._write_slice(namespace, service, entry)
        log.info(
            "event=endpoint_added service=%s/%s node=%s ready=%s",
            namespace,
            service,
            node_name,
            ready,
        )
        if wait:
            name = written["metadata"]["name"]
            self._wait_seen(SLICE, (namespace, name), written, timeout)
        return pod_ip

    def remove_endpoints(
        self, namespace: str, service: str, *, wait: bool = True, timeout: float = DEFAULT_WAIT
    ) -> None:
        """Delete every EndpointSlice of the Service (whoever wrote it)."""
        with self._lock:
            listing = self._raw(
                self._discovery.list_namespaced_endpoint_slice,
                namespace,
                label_selector=f"{endpoints.SERVICE_NAME_LABEL}={service}",
            )
            names = [item["metadata"]["name"] for item in listing.get("items") or []]
            for name in names:
                try:
                    self._raw(self._discovery.delete_namespaced_endpoint_slice, name, namespace)
                except ApiException as exc:
                    if exc.status != 404:
                        raise
        log.info("event=endpoints_removed service=%s/%s slices=%d", namespace, service, len(names))
        if wait:
            for name in names:
                self._wait_gone(SLICE, (namespace, name), timeout)

    # -- waiting ---------------------------------------------------------------------------
    def wait_for_listeners(
        self, namespace: str, service: str, timeout: float = DEFAULT_WAIT
    ) -> None:
        """Block until the simulator serves every node port (and the health-check node
        port) of the Service as it is now in the API, on every node that is now in the
        API. TimeoutError says which bind failed, if one did."""
        svc = self._raw(self._core.read_namespaced_service, service, namespace)
        node_views = [node_view(n) for n in self._raw(self._core.list_node).get("items") or []]
        wanted, _ = desired_listeners(node_views, [service_view(svc)])

        def served(snap: Snapshot) -> bool:
            return all(snap.bound.get(key) == role for key, role in wanted.items())

        self.simulator.wait_until(served, timeout, f"listeners of Service {namespace}/{service}")

    # -- internals ---------------------------------------------------------------------------
    @property
    def _core(self) -> k8s.CoreV1Api:
        return k8s.CoreV1Api(self._api)

    @property
    def _discovery(self) -> k8s.DiscoveryV1Api:
        return k8s.DiscoveryV1Api(self._api)

    def _claim_host(self, index: int) -> str:
        if self._claim is None:
            raise RuntimeError("the fake cluster is not started")
        return self._claim.host(index)

    @staticmethod
    def _raw(fn: Any, *args: Any, **kwargs: Any) -> dict[str, Any]:
        """Call a typed client method but keep the JSON as a dict (no model round trip)."""
        response = fn(*args, _preload_content=False, **kwargs)
        try:
            data = response.data
        finally:
            response.release_conn()
        return json.loads(data) if data else {}

    def _write_slice(self, namespace: str, service: str, entry: dict[str, Any]) -> dict[str, Any]:
        name = endpoints.slice_name(service)
        for _ in range(10):  # read-modify-write; someone else may write the same slice
            try:
                svc: dict[str, Any] | None = self._raw(
                    self._core.read_namespaced_service, service, namespace
                )
            except ApiException as exc:
                if exc.status != 404:
                    raise
                svc = None
            ports = endpoints.slice_ports(svc)
            try:
                current = self._raw(self._discovery.read_namespaced_endpoint_slice, name, namespace)
            except ApiException as exc:
                if exc.status != 404:
                    raise
                body = endpoints.slice_manifest(
                    namespace=namespace, service=service, endpoints=[entry], ports=ports
                )
                try:
                    return self._raw(
                        self._discovery.create_namespaced_endpoint_slice, namespace, body
                    )
                except ApiException as create_exc:
                    if create_exc.status == 409:
                        continue
                    raise
            current["endpoints"] = [*(current.get("endpoints") or []), entry]
            current["ports"] = ports
            try:
                return self._raw(
                    self._discovery.replace_namespaced_endpoint_slice, name, namespace, current
                )
            except ApiException as exc:
                if exc.status != 409:
                    raise
        raise RuntimeError(
            f"EndpointSlice {namespace}/{name} kept conflicting; gave up after 10 tries"
        )

    def _wait_seen(
        self, kind: str, key: tuple[str, str], written: dict[str, Any], timeout: float
    ) -> None:
        version = str((written.get("metadata") or {}).get("resourceVersion", ""))

        def caught_up(snap: Snapshot) -> bool:
            seen = snap.seen.get((kind, key))
            return seen is not None and _at_least(seen, version)

        self.simulator.wait_until(
            caught_up, timeout, f"{kind} {'/'.join(filter(None, key))} at {version}"
        )

    def _wait_gone(self, kind: str, key: tuple[str, str], timeout: float) -> None:
        self.simulator.wait_until(
            lambda snap: (kind, key) not in snap.seen,
            timeout,
            f"{kind} {'/'.join(filter(None, key))} gone",
        )


def _at_least(seen: str, wanted: str) -> bool:
    """resourceVersions are opaque; compare them as numbers when both are (etcd's are)."""
    if seen.isdigit() and wanted.isdigit():
        return int(seen) >= int(wanted)
    return seen == wanted


@contextmanager
def running_fake_cluster(
    nodes: int = 3, node_subnet: str | ipaddress.IPv4Network | None = None, **options: Any
) -> Iterator[FakeCluster]:
    """A started FakeCluster, stopped (every socket closed, threads joined) on exit."""
    cluster = FakeCluster(nodes=nodes, node_subnet=node_subnet, **options)
    cluster.start()
    try:
        yield cluster
    finally:
        cluster.stop()
