"""Every Octavia and Neutron call the provider makes, recorded, retried and classified.

One method per API operation, over openstacksdk. Each call:
- is recorded in the `CallRecorder` (operation name, mutating or not, result, seconds)
  once per attempt, so metrics and tests see retries too;
- is retried with tenacity (exponential backoff with jitter, at least the server's
  `Retry-After`) on 5xx, 429/413 throttling and connection failures, and only those;
- maps what remains to the provider errors: Octavia's 409 "immutable" (the load balancer
  is PENDING_*) -> `PendingError`; quota (Octavia 403, Neutron 409 OverQuota) and other
  4xx -> `CloudError(retryable=False)` carrying the cloud's own message; exhausted
  retries -> `CloudError(retryable=True)`. A 404 on a read or a delete is not an error:
  gets return None and deletes succeed.
Messages never include request bodies, so no secret can leak through them.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any, TypeVar

import tenacity
from keystoneauth1 import exceptions as ksa_exc
from openstack import exceptions as os_exc

from cloud_lb.provider import CallRecorder, CloudError, PendingError
from providers.openstack.config import OpenStackConfig

log = logging.getLogger(__name__)
T = TypeVar("T")

THROTTLE_STATUSES = (413, 429)


class _Retryable(Exception):
    def __init__(self, cause: BaseException, retry_after: float | None) -> None:
        super().__init__(str(cause))
        self.cause = cause
        self.retry_after = retry_after


def _status(exc: BaseException) -> int | None:
    return getattr(exc, "status_code", None) if isinstance(exc, os_exc.HttpException) else None


def _message(exc: BaseException) -> str:
    details = getattr(exc, "details", None)
    return str(details or exc).strip().splitlines()[0] if str(details or exc).strip() else \
        type(exc).__name__


def _retry_after(exc: BaseException) -> float | None:
    response = getattr(exc, "response", None)
    value = response.headers.get("Retry-After") if response is not None else None
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


def is_quota(status: int | None, message: str) -> bool:
    lowered = message.lower()
    return (status == 403 and "quota" in lowered) or (status == 409 and (
        "quota exceeded" in lowered or "overquota" in lowered))


class Cloud:
    """The provider's cloud calls. `connection_factory` is called once, lazily."""

    def __init__(self, *, connection_factory: Callable[[], Any], recorder: CallRecorder,
                 config: OpenStackConfig) -> None:
        self._factory = connection_factory
        self._conn: Any = None
        self.recorder = recorder
        self.config = config

    @property
    def conn(self) -> Any:
        if self._conn is None:
            self._conn = self._factory()
        return self._conn

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    # -- the one wrapper -------------------------------------------------------------
    def call(self, operation: str, fn: Callable[[], T], *, mutating: bool,
             missing_ok: bool = False) -> T | None:
        cfg = self.config

        def attempt() -> T:
            started = time.monotonic()
            try:
                result = fn()
            except Exception as exc:
                status = _status(exc)
                self.recorder.record(operation, mutating=mutating,
                                     result=str(status or type(exc).__name__),
                                     seconds=time.monotonic() - started)
                if (status is not None and (status >= 500 or status in THROTTLE_STATUSES)) \
                        or isinstance(exc, ksa_exc.ConnectionError):
                    log.warning("openstack call retrying operation=%s status=%s message=%s",
                                operation, status, _message(exc))
                    raise _Retryable(exc, _retry_after(exc)) from exc
                raise
            self.recorder.record(operation, mutating=mutating, result="ok",
                                 seconds=time.monotonic() - started)
            return result

        backoff = (tenacity.wait_exponential(multiplier=cfg.retry_initial_seconds,
                                             max=cfg.retry_max_seconds)
                   + tenacity.wait_random(0, cfg.retry_initial_seconds))

        def wait(state: tenacity.RetryCallState) -> float:
            exc = state.outcome.exception() if state.outcome else None
            server = exc.retry_after if isinstance(exc, _Retryable) else None
            return min(max(backoff(state), server or 0.0), max(cfg.retry_max_seconds, 0.0))

        try:
            for try_ in tenacity.Retrying(retry=tenacity.retry_if_exception_type(_Retryable),
                                          stop=tenacity.stop_after_attempt(cfg.retry_attempts),
                                          wait=wait, reraise=True):
                with try_:
                    return attempt()
        except _Retryable as exc:
            raise CloudError(f"{operation} failed after {cfg.retry_attempts} attempts: "
                             f"{_message(exc.cause)}", operation=operation,
                             retryable=True) from exc.cause
        except os_exc.HttpException as exc:
            status, message = _status(exc), _message(exc)
            if status == 404 and missing_ok:
                return None
            if status == 409 and ("immutable" in message or "Invalid state" in message):
                raise PendingError(f"{operation}: {message}",
                                   retry_after=cfg.pending_retry_seconds) from exc
            if is_quota(status, message):
                raise CloudError(f"{operation}: quota exceeded: {message}",
                                 operation=operation, retryable=False) from exc
            raise CloudError(f"{operation}: {status} {message}", operation=operation,
                             retryable=status in (401,)) from exc
        except ksa_exc.ClientException as exc:
            raise CloudError(f"{operation}: {type(exc).__name__}: {_message(exc)}",
                             operation=operation, retryable=False) from exc
        raise AssertionError("unreachable")  # pragma: no cover - tenacity reraises

    # -- Octavia ---------------------------------------------------------------------
    def _lb(self) -> Any:
        return self.conn.load_balancer

    def load_balancers(self, **filters: Any) -> list[Any]:
        return self.call("octavia.list_load_balancers",
                         lambda: list(self._lb().load_balancers(**filters)), mutating=False) or []

    def get_load_balancer(self, lb_id: str) -> Any | None:
        return self.call("octavia.get_load_balancer",
                         lambda: self._lb().get_load_balancer(lb_id), mutating=False,
                         missing_ok=True)

    def create_load_balancer(self, body: dict[str, Any]) -> Any:
        return self.call("octavia.create_load_balancer",
                         lambda: self._lb().create_load_balancer(**body), mutating=True)

    def update_load_balancer(self, lb_id: str, attrs: dict[str, Any]) -> None:
        self.call("octavia.update_load_balancer",
                  lambda: self._lb().update_load_balancer(lb_id, **attrs), mutating=True)

    def delete_load_balancer(self, lb_id: str) -> None:
        self.call("octavia.delete_load_balancer",
                  lambda: self._lb().delete_load_balancer(lb_id, ignore_missing=False,
                                                          cascade=True),
                  mutating=True, missing_ok=True)

    def listeners(self, lb_id: str) -> list[Any]:
        return self.call("octavia.list_listeners",
                         lambda: list(self._lb().listeners(load_balancer_id=lb_id)),
                         mutating=False) or []

    def pools(self, lb_id: str) -> list[Any]:
        return self.call("octavia.list_pools",
                         lambda: list(self._lb().pools(loadbalancer_id=lb_id)),
                         mutating=False) or []

    def health_monitors(self, **filters: Any) -> list[Any]:
        return self.call("octavia.list_health_monitors",
                         lambda: list(self._lb().health_monitors(**filters)),
                         mutating=False) or []

    def get_health_monitor(self, hm_id: str) -> Any | None:
        return self.call("octavia.get_health_monitor",
                         lambda: self._lb().get_health_monitor(hm_id), mutating=False,
                         missing_ok=True)

    def members(self, pool_id: str) -> list[Any]:
        # a pool deleted between listing it and reading its members (a cascade delete
        # in progress) has no members: 404 is an empty list, not an error
        return self.call("octavia.list_members",
                         lambda: list(self._lb().members(pool_id)), mutating=False,
                         missing_ok=True) or []

    def create(self, kind: str, body: dict[str, Any]) -> Any:
        creator = getattr(self._lb(), f"create_{kind}")
        return self.call(f"octavia.create_{kind}", lambda: creator(**body), mutating=True)

    def update(self, kind: str, rid: str, attrs: dict[str, Any]) -> None:
        updater = getattr(self._lb(), f"update_{kind}")
        self.call(f"octavia.update_{kind}", lambda: updater(rid, **attrs), mutating=True)

    def delete(self, kind: str, rid: str) -> None:
        deleter = getattr(self._lb(), f"delete_{kind}")
        self.call(f"octavia.delete_{kind}", lambda: deleter(rid, ignore_missing=False),
                  mutating=True, missing_ok=True)

    def batch_update_members(self, pool_id: str, members: list[dict[str, Any]]) -> None:
        """Octavia's `PUT /v2/lbaas/pools/{pool_id}/members`: the whole member set at once
        (openstacksdk has no method for it, so it goes through the proxy's own session)."""
        def put() -> None:
            response = self._lb().put(f"/lbaas/pools/{pool_id}/members",
                                      json={"members": members})
            os_exc.raise_from_response(response)
        self.call("octavia.batch_update_members", put, mutating=True)

    def create_pool_with_children(self, body: dict[str, Any]) -> dict[str, Any]:
        """A pool with its members and health monitor in one call (openstacksdk's Pool
        drops the `healthmonitor` attribute, so the body goes out as it is)."""
        def post() -> dict[str, Any]:
            response = self._lb().post("/lbaas/pools", json={"pool": body})
            os_exc.raise_from_response(response)
            return dict(response.json()["pool"])
        return self.call("octavia.create_pool", post, mutating=True) or {}

    def flavors(self, **filters: Any) -> list[Any]:
        return self.call("octavia.list_flavors",
                         lambda: list(self._lb().flavors(**filters)), mutating=False) or []

    # -- Neutron ---------------------------------------------------------------------
    def _net(self) -> Any:
        return self.conn.network

    def floating_ips(self, **filters: Any) -> list[Any]:
        return self.call("neutron.list_floating_ips",
                         lambda: list(self._net().ips(**filters)), mutating=False) or []

    def create_floating_ip(self, body: dict[str, Any]) -> Any:
        return self.call("neutron.create_floating_ip",
                         lambda: self._net().create_ip(**body), mutating=True)

    def update_floating_ip(self, fip_id: str, attrs: dict[str, Any]) -> Any:
        return self.call("neutron.update_floating_ip",
                         lambda: self._net().update_ip(fip_id, **attrs), mutating=True)

    def set_floating_ip_tags(self, fip: Any, tags: list[str]) -> None:
        self.call("neutron.set_floating_ip_tags",
                  lambda: self._net().set_tags(fip, tags), mutating=True)

    def delete_floating_ip(self, fip_id: str) -> None:
        self.call("neutron.delete_floating_ip",
                  lambda: self._net().delete_ip(fip_id, ignore_missing=False),
                  mutating=True, missing_ok=True)

    def networks(self, **filters: Any) -> list[Any]:
        return self.call("neutron.list_networks",
                         lambda: list(self._net().networks(**filters)), mutating=False) or []
