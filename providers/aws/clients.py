"""boto3 clients behind one narrow door: `AWSClients.call(service, method, **params)`.

Every AWS call of the provider goes through `call`, which
1. waits for a token of its API family's bucket (`ec2`/`elbv2` x read/mutate),
2. makes the call with botocore's *standard* retry mode (short retries per request),
3. retries throttling (`Throttling`, `RequestLimitExceeded`, ...), 5xx and connection
   errors with our own jittered exponential backoff (tenacity), because botocore gives
   up after a few seconds and a reconcile is cheaper to slow down than to fail,
4. records the attempt in the `CallRecorder` (operation, mutating or not, result code),
5. turns failures into `AWSCallError` (a `CloudError`) carrying the AWS error code, the
   operation and whether retrying could help; 4xx user errors are not retried.

A call is "mutating" unless its API name starts with Describe/Get/List.

Services: `ec2` and `elbv2` (every load balancer) are built eagerly; `acm` (certificates
of Ingress ALBs) and `tagging` (the Resource Groups Tagging API, which finds our ACM
certificates by tag in one call) are built on first use, so a cluster without Ingresses
neither pays for them nor needs their IAM permissions.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

import boto3
import botocore.loaders
import botocore.session
import tenacity
from botocore.config import Config as BotoConfig
from botocore.exceptions import BotoCoreError, ClientError

from cloud_lb.provider import CallRecorder, CloudError
from providers.aws.config import AWSConfig, RateLimit
from providers.aws.ratelimit import TokenBucket

log = logging.getLogger(__name__)

THROTTLING_CODES = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "RequestThrottled",
        "RequestThrottledException",
        "RequestLimitExceeded",
        "TooManyRequestsException",
        "SlowDown",
        "EC2ThrottledException",
        "PriorRequestNotComplete",
    }
)
SERVER_ERROR_CODES = frozenset(
    {
        "InternalError",
        "InternalFailure",
        "ServiceUnavailable",
        "Unavailable",
        "InternalServiceError",
    }
)
READ_PREFIXES = ("Describe", "Get", "List")
# how each service pages: (request token, response token)
_PAGING = {
    "ec2": ("NextToken", "NextToken"),
    "elbv2": ("Marker", "NextMarker"),
    "acm": ("NextToken", "NextToken"),
    "tagging": ("PaginationToken", "PaginationToken"),
}
# our short service names -> boto3's
_BOTO_SERVICE = {"tagging": "resourcegroupstaggingapi"}
_LAZY = ("acm", "tagging")


class AWSCallError(CloudError):
    """One AWS call failed. `code` is AWS's error code (e.g. `LoadBalancerNotFound`)."""

    def __init__(self, message: str, *, operation: str, code: str, retryable: bool) -> None:
        super().__init__(message, operation=operation, retryable=retryable)
        self.code = code


def is_mutating(api_name: str) -> bool:
    return not api_name.startswith(READ_PREFIXES)


class AWSClients:
    """The AWS clients of one provider, with limits, retries and recording."""

    def __init__(
        self,
        config: AWSConfig,
        recorder: CallRecorder,
        *,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._recorder = recorder
        self._sleep = sleep
        self._retry = config.retry
        session = new_session(
            region_name=config.region,
            profile_name=config.profile,
            aws_access_key_id=_reveal(config.access_key_id),
            aws_secret_access_key=_reveal(config.secret_access_key),
            aws_session_token=_reveal(config.session_token),
        )
        boto_config = BotoConfig(
            retries={"mode": "standard", "total_max_attempts": config.retry.botocore_max_attempts},
            connect_timeout=config.connect_timeout_seconds,
            read_timeout=config.read_timeout_seconds,
            user_agent_extra="cloud-lb",
            max_pool_connections=16,
        )
        self._session = session
        self._boto_config = boto_config
        self._endpoint_url = config.endpoint_url
        self._lock = threading.Lock()
        self.ec2 = session.client("ec2", config=boto_config, endpoint_url=config.endpoint_url)
        self.elbv2 = session.client("elbv2", config=boto_config, endpoint_url=config.endpoint_url)
        self._lazy: dict[str, Any] = {}
        limits = config.rate_limits
        self._buckets = {
            ("ec2", False): _bucket(limits.ec2_read, sleep),
            ("ec2", True): _bucket(limits.ec2_mutate, sleep),
            ("elbv2", False): _bucket(limits.elbv2_read, sleep),
            ("elbv2", True): _bucket(limits.elbv2_mutate, sleep),
            ("acm", False): _bucket(limits.acm_read, sleep),
            ("acm", True): _bucket(limits.acm_mutate, sleep),
            # we never tag through the Tagging API: its reads and writes share one bucket
            ("tagging", False): _bucket(limits.tagging_read, sleep),
        }
        self._buckets[("tagging", True)] = self._buckets[("tagging", False)]

    def client(self, service: str) -> Any:
        if service == "ec2":
            return self.ec2
        if service == "elbv2":
            return self.elbv2
        if service in _LAZY:
            with self._lock:
                if service not in self._lazy:
                    self._lazy[service] = self._session.client(
                        _BOTO_SERVICE.get(service, service),
                        config=self._boto_config,
                        endpoint_url=self._endpoint_url,
                    )
                return self._lazy[service]
        raise ValueError(f"unknown AWS service {service!r}")

    def call(self, service: str, method: str, **params: Any) -> dict[str, Any]:
        """Call `client.<method>(**params)` with rate limit, retries and recording."""
        client = self.client(service)
        api_name = client.meta.method_to_api_mapping[method]
        operation = f"{service}:{api_name}"
        mutating = is_mutating(api_name)
        bucket = self._buckets[(service, mutating)]
        function = getattr(client, method)

        def attempt() -> dict[str, Any]:
            bucket.acquire()
            started = time.monotonic()
            try:
                response: dict[str, Any] = function(**params)
            except ClientError as exc:
                error = exc.response.get("Error", {})
                code = str(error.get("Code", "Unknown"))
                status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0)
                self._recorder.record(
                    operation, mutating=mutating, result=code, seconds=time.monotonic() - started
                )
                retryable = code in THROTTLING_CODES or code in SERVER_ERROR_CODES or status >= 500
                raise AWSCallError(
                    f"{operation} failed: {code}: {error.get('Message', '')}",
                    operation=operation,
                    code=code,
                    retryable=retryable,
                ) from exc
            except BotoCoreError as exc:
                # connection reset, timeout, endpoint unreachable: worth retrying
                self._recorder.record(
                    operation,
                    mutating=mutating,
                    result=type(exc).__name__,
                    seconds=time.monotonic() - started,
                )
                raise AWSCallError(
                    f"{operation} failed: {exc}",
                    operation=operation,
                    code=type(exc).__name__,
                    retryable=True,
                ) from exc
            self._recorder.record(
                operation, mutating=mutating, result="ok", seconds=time.monotonic() - started
            )
            return response

        retrying = tenacity.Retrying(
            retry=tenacity.retry_if_exception(
                lambda e: isinstance(e, AWSCallError) and e.retryable
            ),
            wait=tenacity.wait_exponential(
                multiplier=self._retry.initial_delay_seconds, max=self._retry.max_delay_seconds
            )
            + tenacity.wait_random(0, self._retry.initial_delay_seconds),
            stop=tenacity.stop_after_attempt(self._retry.attempts),
            sleep=self._sleep,
            before_sleep=_log_retry,
            reraise=True,
        )
        return retrying(attempt)

    def pages(self, service: str, method: str, result_key: str, **params: Any) -> list[Any]:
        """All items of a paginated Describe call, one recorded call per page."""
        token_in, token_out = _PAGING[service]
        items: list[Any] = []
        while True:
            response = self.call(service, method, **params)
            items.extend(response.get(result_key, []))
            token = response.get(token_out)
            if not token:
                return items
            params = {**params, token_in: token}

    def close(self) -> None:
        with self._lock:
            lazy = list(self._lazy.values())
        for client in (self.ec2, self.elbv2, *lazy):
            client.close()


# botocore parses each service's JSON model once per session (EC2's takes ~0.3 s); a
# process-wide loader lets every session share the parsed models. Credentials stay per
# session: only the loader (read-only API descriptions) is shared.
_SHARED_LOADER = botocore.loaders.create_loader()


def new_session(**kwargs: Any) -> boto3.session.Session:
    """A boto3 session with its own credentials and the shared model loader."""
    core = botocore.session.get_session()
    core.register_component("data_loader", _SHARED_LOADER)
    return boto3.session.Session(botocore_session=core, **kwargs)


def _bucket(limit: RateLimit, sleep: Callable[[float], None]) -> TokenBucket:
    return TokenBucket(rate=limit.per_second, burst=limit.burst, sleep=sleep)


def _reveal(secret: Any) -> str | None:
    return None if secret is None else secret.get_secret_value()


def _log_retry(state: tenacity.RetryCallState) -> None:
    exc = state.outcome.exception() if state.outcome else None
    log.warning(
        "event=aws_call_retry operation=%s code=%s attempt=%d wait=%.2fs",
        getattr(exc, "operation", "?"),
        getattr(exc, "code", "?"),
        state.attempt_number,
        state.next_action.sleep if state.next_action else 0.0,
    )
