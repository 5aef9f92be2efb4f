"""Compute Engine clients for one project and region, and the discipline of every call.

One `Compute` object owns the `google-cloud-compute` clients (REST transport; an
`apiEndpoint` from config reaches the fake; credentials from ADC, a service-account key
file, or anonymous for fakes). Every call goes through `_call`, which:

- records it in the `CallRecorder` as `compute.<collection>.<verb>` (mutating or not,
  with its outcome and duration), retries included;
- retries throttling (429) and server errors (5xx) with exponential backoff and jitter
  (tenacity), never 4xx; the SDK's own retry is disabled so attempts are not doubled;
- turns what remains into the provider's errors (`errors.py`).

Mutations return an Operation, awaited through the matching operations client's `wait`
(`operations.py`) within a deadline; a slow operation raises `PendingError`, so the
worker requeues the key instead of blocking.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from typing import Any, TypeVar

import requests
from google.api_core import exceptions as gexc
from google.api_core.client_options import ClientOptions
from google.auth.credentials import AnonymousCredentials
from google.cloud import compute_v1
from google.protobuf import json_format
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception,
    stop_after_attempt,
    wait_random_exponential,
)

from cloud_lb.provider import CallRecorder, CloudError
from providers.gcp.config import GCPConfig
from providers.gcp.kinds import CLIENTS, KINDS, Kind
from providers.gcp.operations import OperationWaiter

log = logging.getLogger(__name__)
T = TypeVar("T")
Json = dict[str, Any]
SCOPES = ("https://www.googleapis.com/auth/compute",)


_RETRYABLE = (
    gexc.TooManyRequests,
    gexc.InternalServerError,
    gexc.BadGateway,
    gexc.ServiceUnavailable,
    gexc.GatewayTimeout,
    requests.ConnectionError,
)


def to_json(message: Any) -> Json:
    """A proto-plus message as GCE's JSON (camelCase, defaults omitted)."""
    return json_format.MessageToDict(type(message).pb(message))  # type: ignore[no-any-return]


def to_message(cls: type, body: Json) -> Any:
    return cls.from_json(json.dumps(body))  # type: ignore[attr-defined]


def error_reason(exc: gexc.GoogleAPICallError) -> str:
    """GCE's machine reason (`alreadyExists`, `resourceInUseByAnotherResource`, ...)."""
    if exc.reason:
        return str(exc.reason)
    for item in exc.errors or ():
        if isinstance(item, dict) and item.get("reason"):
            return str(item["reason"])
    return ""


def _credentials(config: GCPConfig) -> Any:
    if config.anonymous_credentials:
        return AnonymousCredentials()
    if config.credentials_file:
        from google.oauth2 import service_account

        try:
            return service_account.Credentials.from_service_account_file(
                config.credentials_file.get_secret_value(), scopes=SCOPES
            )
        except (OSError, ValueError) as exc:
            # the path may name a secret's mount point: say what failed, not where
            raise CloudError(
                f"cannot load the GCP service-account key file: {type(exc).__name__}",
                operation="credentials",
                retryable=False,
            ) from None
    import google.auth

    credentials, _ = google.auth.default(scopes=SCOPES)
    return credentials


class Compute:
    # the clients used by name outside the generic verbs (the rest via `Kind.client`)
    instance_groups: compute_v1.InstanceGroupsClient
    regions: compute_v1.RegionsClient
    target_http_proxies: compute_v1.TargetHttpProxiesClient
    target_https_proxies: compute_v1.TargetHttpsProxiesClient

    def __init__(self, config: GCPConfig, recorder: CallRecorder) -> None:
        self.project = config.project
        self.region = config.region
        self.recorder = recorder
        self.timeout = config.request_timeout_seconds
        self._retry = config.retry
        kwargs: dict[str, Any] = {"credentials": _credentials(config)}
        if config.api_endpoint:
            kwargs["client_options"] = ClientOptions(api_endpoint=config.api_endpoint)
        self._clients: list[Any] = []
        for attribute, cls in CLIENTS.items():
            client = cls(**kwargs)
            setattr(self, attribute, client)
            self._clients.append(client)
        self.waiter = OperationWaiter(
            region=compute_v1.RegionOperationsClient(**kwargs),
            zone=compute_v1.ZoneOperationsClient(**kwargs),
            global_=compute_v1.GlobalOperationsClient(**kwargs),
            project=self.project,
            call=self.call,
        )
        self._clients += self.waiter.clients

    def close(self) -> None:
        for client in self._clients:
            try:
                client.transport.close()
            except Exception:  # noqa: BLE001 - closing is best effort
                log.debug("gcp_client_close_failed client=%s", type(client).__name__)

    # -- the call discipline -------------------------------------------------------------

    def call(self, operation: str, fn: Callable[[], T], *, mutating: bool) -> T:
        """Run one API call with recording and retries of 429/5xx."""
        name = f"compute.{operation}"

        def record(result: str, started: float) -> None:
            self.recorder.record(
                name, mutating=mutating, result=result, seconds=time.monotonic() - started
            )

        def attempt() -> T:
            started = time.monotonic()
            try:
                value = fn()
            except gexc.GoogleAPICallError as exc:
                record(f"error:{exc.code}", started)
                raise
            except requests.RequestException as exc:
                record(f"error:{type(exc).__name__}", started)
                raise
            record("ok", started)
            return value

        def before_sleep(state: RetryCallState) -> None:
            exc = state.outcome.exception() if state.outcome else None
            log.warning(
                "gcp_call_retry operation=%s attempt=%d error=%s",
                name,
                state.attempt_number,
                _short(exc),
            )

        retrying = Retrying(
            retry=retry_if_exception(lambda e: isinstance(e, _RETRYABLE)),
            stop=stop_after_attempt(self._retry.attempts),
            # "full jitter": a random wait up to initial * 2^n, capped
            wait=wait_random_exponential(
                multiplier=self._retry.initial_seconds, max=self._retry.max_seconds
            ),
            before_sleep=before_sleep,
            reraise=True,
        )
        try:
            return retrying(attempt)
        except _RETRYABLE as exc:
            raise CloudError(
                f"{name} failed after {self._retry.attempts} attempts: {_short(exc)}",
                operation=name,
                retryable=True,
            ) from exc

    def _scope_args(self, kind: Kind, zone: str | None) -> Json:
        if kind.scope == "region":
            return {"project": self.project, "region": self.region}
        if kind.scope == "zone":
            if zone is None:
                raise ValueError(f"{kind.api_name} needs a zone")
            return {"project": self.project, "zone": zone}
        return {"project": self.project}

    # -- generic verbs -------------------------------------------------------------------

    def get(self, kind_name: str, name: str, *, zone: str | None = None) -> Json | None:
        kind = KINDS[kind_name]
        client = getattr(self, kind.client)
        args = {**self._scope_args(kind, zone), kind.arg: name}
        try:
            found = self.call(
                f"{kind.api_name}.get",
                lambda: client.get(**args, retry=None, timeout=self.timeout),
                mutating=False,
            )
        except gexc.NotFound:
            return None
        return to_json(found)

    def list_resources(
        self, kind_name: str, *, filter: str | None = None, zone: str | None = None
    ) -> list[Json]:
        kind = KINDS[kind_name]
        client = getattr(self, kind.client)
        request = kind.list_request(
            **self._scope_args(kind, zone), **({"filter": filter} if filter else {})
        )
        return self.call(
            f"{kind.api_name}.list",
            lambda: [
                to_json(item)
                for item in client.list(request=request, retry=None, timeout=self.timeout)
            ],
            mutating=False,
        )

    def insert(
        self, kind_name: str, body: Json, *, deadline: float, zone: str | None = None
    ) -> None:
        kind = KINDS[kind_name]
        client = getattr(self, kind.client)
        resource_arg = f"{kind.arg}_resource"
        args = {**self._scope_args(kind, zone), resource_arg: to_message(kind.message, body)}
        op = self.call(
            f"{kind.api_name}.insert",
            lambda: client.insert_unary(**args, retry=None, timeout=self.timeout),
            mutating=True,
        )
        self.waiter.wait(op, what=f"insert {kind.api_name}/{body['name']}", deadline=deadline)

    def update(self, kind_name: str, name: str, body: Json, *, deadline: float) -> None:
        """PUT: the whole resource, so fields we dropped are cleared too."""
        kind = KINDS[kind_name]
        client = getattr(self, kind.client)
        args = {
            **self._scope_args(kind, None),
            kind.arg: name,
            f"{kind.arg}_resource": to_message(kind.message, body),
        }
        op = self.call(
            f"{kind.api_name}.update",
            lambda: client.update_unary(**args, retry=None, timeout=self.timeout),
            mutating=True,
        )
        self.waiter.wait(op, what=f"update {kind.api_name}/{name}", deadline=deadline)

    def delete(
        self, kind_name: str, name: str, *, deadline: float, zone: str | None = None
    ) -> bool:
        """Delete; False when it was already gone."""
        kind = KINDS[kind_name]
        client = getattr(self, kind.client)
        args = {**self._scope_args(kind, zone), kind.arg: name}
        try:
            op = self.call(
                f"{kind.api_name}.delete",
                lambda: client.delete_unary(**args, retry=None, timeout=self.timeout),
                mutating=True,
            )
        except gexc.NotFound:
            return False
        self.waiter.wait(op, what=f"delete {kind.api_name}/{name}", deadline=deadline)
        return True

    # -- instance groups -------------------------------------------------------------------

    def list_instances(self, zone: str, group: str) -> list[str]:
        request = compute_v1.ListInstancesInstanceGroupsRequest(
            project=self.project,
            zone=zone,
            instance_group=group,
            instance_groups_list_instances_request_resource=compute_v1.InstanceGroupsListInstancesRequest(
                instance_state="ALL"
            ),
        )
        return self.call(
            "instanceGroups.listInstances",
            lambda: [
                item.instance
                for item in self.instance_groups.list_instances(
                    request=request, retry=None, timeout=self.timeout
                )
            ],
            mutating=False,
        )

    def change_members(
        self, zone: str, group: str, instances: list[str], *, add: bool, deadline: float
    ) -> None:
        refs = [compute_v1.InstanceReference(instance=url) for url in instances]
        if add:
            call = lambda: self.instance_groups.add_instances_unary(  # noqa: E731
                project=self.project,
                zone=zone,
                instance_group=group,
                instance_groups_add_instances_request_resource=compute_v1.InstanceGroupsAddInstancesRequest(
                    instances=refs
                ),
                retry=None,
                timeout=self.timeout,
            )
            verb = "addInstances"
        else:
            call = lambda: self.instance_groups.remove_instances_unary(  # noqa: E731
                project=self.project,
                zone=zone,
                instance_group=group,
                instance_groups_remove_instances_request_resource=(
                    compute_v1.InstanceGroupsRemoveInstancesRequest(instances=refs)
                ),
                retry=None,
                timeout=self.timeout,
            )
            verb = "removeInstances"
        op = self.call(f"instanceGroups.{verb}", call, mutating=True)
        self.waiter.wait(op, what=f"{verb} {zone}/{group}", deadline=deadline)

    def set_named_ports(
        self, zone: str, group: str, ports: dict[str, int], *, fingerprint: str, deadline: float
    ) -> None:
        """Replace a group's named ports (the caller merged them), guarded by the
        group's fingerprint: a concurrent change makes GCE answer 412."""
        request = compute_v1.InstanceGroupsSetNamedPortsRequest(
            named_ports=[compute_v1.NamedPort(name=n, port=p) for n, p in sorted(ports.items())],
            fingerprint=fingerprint,
        )
        op = self.call(
            "instanceGroups.setNamedPorts",
            lambda: self.instance_groups.set_named_ports_unary(
                project=self.project,
                zone=zone,
                instance_group=group,
                instance_groups_set_named_ports_request_resource=request,
                retry=None,
                timeout=self.timeout,
            ),
            mutating=True,
        )
        self.waiter.wait(op, what=f"setNamedPorts {zone}/{group}", deadline=deadline)

    def set_url_map(self, kind_name: str, proxy: str, url_map: str, *, deadline: float) -> None:
        """Point a target HTTP(S) proxy at another URL map (proxies have no PUT)."""
        reference = compute_v1.UrlMapReference(url_map=url_map)
        common: dict[str, Any] = {
            "project": self.project,
            "url_map_reference_resource": reference,
            "retry": None,
            "timeout": self.timeout,
        }
        call: Callable[[], compute_v1.Operation]
        if kind_name == "targetHttpProxy":
            call = lambda: self.target_http_proxies.set_url_map_unary(  # noqa: E731
                target_http_proxy=proxy, **common
            )
        else:
            call = lambda: self.target_https_proxies.set_url_map_unary(  # noqa: E731
                target_https_proxy=proxy, **common
            )
        api_name = KINDS[kind_name].api_name
        op = self.call(f"{api_name}.setUrlMap", call, mutating=True)
        self.waiter.wait(op, what=f"setUrlMap {api_name}/{proxy}", deadline=deadline)

    def set_ssl_certificates(self, proxy: str, certificates: list[str], *, deadline: float) -> None:
        """Replace the certificates of a target HTTPS proxy, in order (the first is the
        one served to clients without a matching SNI name)."""
        request = compute_v1.TargetHttpsProxiesSetSslCertificatesRequest(
            ssl_certificates=certificates
        )
        op = self.call(
            "targetHttpsProxies.setSslCertificates",
            lambda: self.target_https_proxies.set_ssl_certificates_unary(
                project=self.project,
                target_https_proxy=proxy,
                target_https_proxies_set_ssl_certificates_request_resource=request,
                retry=None,
                timeout=self.timeout,
            ),
            mutating=True,
        )
        self.waiter.wait(op, what=f"setSslCertificates {proxy}", deadline=deadline)

    def region_zones(self) -> list[str]:
        region = self.call(
            "regions.get",
            lambda: self.regions.get(
                project=self.project, region=self.region, retry=None, timeout=self.timeout
            ),
            mutating=False,
        )
        return sorted(z.rsplit("/", 1)[1] for z in region.zones)


def _short(exc: BaseException | None) -> str:
    if exc is None:
        return ""
    if isinstance(exc, gexc.GoogleAPICallError):
        return f"{exc.code} {error_reason(exc) or type(exc).__name__}: {exc.message}"
    return f"{type(exc).__name__}: {exc}"
