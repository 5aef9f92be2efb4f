"""Raw-dict access to the few Kubernetes API calls the controller makes.

The official client's model objects are heavy (a Service with its nested models costs
tens of kilobytes); at 10,000 Services that alone would blow the memory budget. So every
call here asks the typed API for the raw response (`_preload_content=False`) and returns
the decoded JSON dict. The typed API still builds URLs, headers and auth.
"""

from __future__ import annotations

import functools
import json
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import urllib3
from kubernetes import client as k8s
from kubernetes import config as k8s_config
from kubernetes.client.exceptions import ApiException
from kubernetes.watch.watch import iter_resp_lines

from cloud_lb.kube.errors import APIUnavailableError, translate_api_exception

log = logging.getLogger(__name__)

MERGE_PATCH = "application/merge-patch+json"
JSON_PATCH = "application/json-patch+json"


def make_api_client(kubeconfig: str | None = None, *, context: str | None = None) -> k8s.ApiClient:
    """An ApiClient from a kubeconfig file, else the in-cluster service account."""
    configuration = k8s.Configuration()
    if kubeconfig:
        k8s_config.load_kube_config(config_file=kubeconfig, context=context,
                                    client_configuration=configuration)
    else:
        k8s_config.load_incluster_config(client_configuration=configuration)
    # enough connections for the workers, the informers' watches and the writers
    configuration.connection_pool_maxsize = 32
    return k8s.ApiClient(configuration)


@dataclass(frozen=True)
class Resource:
    """One listable, watchable kind: how to list it across namespaces."""

    kind: str
    plural: str
    lister: Callable[[k8s.ApiClient], Callable[..., Any]]


SERVICES = Resource("Service", "services",
                    lambda c: k8s.CoreV1Api(c).list_service_for_all_namespaces)
NODES = Resource("Node", "nodes", lambda c: k8s.CoreV1Api(c).list_node)
ENDPOINT_SLICES = Resource("EndpointSlice", "endpointslices",
                           lambda c: k8s.DiscoveryV1Api(c).list_endpoint_slice_for_all_namespaces)
INGRESSES = Resource("Ingress", "ingresses",
                     lambda c: k8s.NetworkingV1Api(c).list_ingress_for_all_namespaces)
EVENTS = Resource("Event", "events", lambda c: k8s.CoreV1Api(c).list_event_for_all_namespaces)
INGRESS_CLASSES = Resource("IngressClass", "ingressclasses",
                           lambda c: k8s.NetworkingV1Api(c).list_ingress_class)
# only TLS Secrets: an Ingress reads nothing else, and a cache of every Secret of the
# cluster would hold far more (and more sensitive) data than needed
TLS_SECRETS = Resource("Secret", "secrets", lambda c: functools.partial(
    k8s.CoreV1Api(c).list_secret_for_all_namespaces, field_selector="type=kubernetes.io/tls"))


class KubeAPI:
    """Raw calls with errors mapped to `cloud_lb.kube.errors`."""

    def __init__(self, api_client: k8s.ApiClient, *, request_timeout: float = 30.0) -> None:
        self.api_client = api_client
        self.core = k8s.CoreV1Api(api_client)
        self.networking = k8s.NetworkingV1Api(api_client)
        self.timeout = request_timeout

    # -- reads -----------------------------------------------------------------
    def list(self, resource: Resource, *, limit: int = 500, continue_token: str | None = None,
             **kwargs: Any) -> dict[str, Any]:
        params: dict[str, Any] = {"limit": limit, **kwargs}
        if continue_token:
            params["_continue"] = continue_token
        return self._call(f"list {resource.plural}", resource.lister(self.api_client), **params)

    def list_all(self, resource: Resource, **kwargs: Any) -> tuple[list[dict[str, Any]], str]:
        """Every item (following `continue`) and the list's resourceVersion."""
        items: list[dict[str, Any]] = []
        token: str | None = None
        while True:
            page = self.list(resource, continue_token=token, **kwargs)
            items.extend(page.get("items") or [])
            meta = page.get("metadata") or {}
            token = meta.get("continue")
            if not token:
                return items, str(meta.get("resourceVersion", ""))

    def watch(self, resource: Resource, *, resource_version: str,
              timeout_seconds: int = 300, on_response: Callable[[Any], None] | None = None,
              ) -> Iterator[dict[str, Any]]:
        """Raw watch events from `resource_version`, with bookmarks, until the server
        ends the stream. `on_response` receives the open response so a stopping
        informer can close it from another thread."""
        lister = resource.lister(self.api_client)
        try:
            resp = lister(watch=True, resource_version=resource_version,
                          allow_watch_bookmarks=True, timeout_seconds=timeout_seconds,
                          _preload_content=False, _request_timeout=(10, timeout_seconds + 30))
        except ApiException as exc:
            raise translate_api_exception(exc, what=f"watch {resource.plural}") from exc
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            raise APIUnavailableError(f"watch {resource.plural}: {exc}") from exc
        if on_response is not None:
            on_response(resp)
        try:
            for line in iter_resp_lines(resp):
                if line:
                    yield json.loads(line)
        except (urllib3.exceptions.HTTPError, OSError, AttributeError, ValueError) as exc:
            # closed under us (stop), reset, timed out or truncated: the caller re-watches
            log.debug("watch stream ended resource=%s error=%s", resource.plural, exc)
        finally:
            resp.release_conn()

    def get_service(self, namespace: str, name: str) -> dict[str, Any]:
        return self._call(f"get service {namespace}/{name}",
                          self.core.read_namespaced_service, name, namespace)

    # -- writes ----------------------------------------------------------------
    def patch_service(self, namespace: str, name: str, body: Any, *,
                      content_type: str = MERGE_PATCH) -> dict[str, Any]:
        return self._call(f"patch service {namespace}/{name}",
                          self.core.patch_namespaced_service, name, namespace, body,
                          _content_type=content_type)

    def patch_service_status(self, namespace: str, name: str, body: Any, *,
                             content_type: str = MERGE_PATCH) -> dict[str, Any]:
        return self._call(f"patch service status {namespace}/{name}",
                          self.core.patch_namespaced_service_status, name, namespace, body,
                          _content_type=content_type)

    def patch_ingress(self, namespace: str, name: str, body: Any, *,
                      content_type: str = MERGE_PATCH) -> dict[str, Any]:
        return self._call(f"patch ingress {namespace}/{name}",
                          self.networking.patch_namespaced_ingress, name, namespace, body,
                          _content_type=content_type)

    def patch_ingress_status(self, namespace: str, name: str, body: Any, *,
                             content_type: str = MERGE_PATCH) -> dict[str, Any]:
        return self._call(f"patch ingress status {namespace}/{name}",
                          self.networking.patch_namespaced_ingress_status, name, namespace, body,
                          _content_type=content_type)

    def create_event(self, namespace: str, body: dict[str, Any]) -> dict[str, Any]:
        return self._call(f"create event in {namespace}",
                          self.core.create_namespaced_event, namespace, body)

    def patch_event(self, namespace: str, name: str, body: dict[str, Any]) -> dict[str, Any]:
        return self._call(f"patch event {namespace}/{name}",
                          self.core.patch_namespaced_event, name, namespace, body,
                          _content_type=MERGE_PATCH)

    def _call(self, what: str, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> dict[str, Any]:
        try:
            resp = fn(*args, _preload_content=False, _request_timeout=self.timeout, **kwargs)
        except ApiException as exc:
            raise translate_api_exception(exc, what=what) from exc
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            raise APIUnavailableError(f"{what}: {exc}") from exc
        try:
            data = resp.data
        finally:
            resp.release_conn()
        return json.loads(data) if data else {}
