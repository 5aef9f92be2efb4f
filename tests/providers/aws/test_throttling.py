"""Throttling and 5xx are retried with backoff and converge; 4xx user errors are not."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from botocore.awsrequest import AWSResponse

from cloud_lb.provider import CloudError
from providers.aws.clients import AWSCallError
from providers.aws.naming import load_balancer_name
from providers.aws.ratelimit import TokenBucket
from tests.providers.aws.conftest import Harness, tcp, udp

ELB_ERROR = (
    "<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code><Message>{message}</Message>"
    "</Error><RequestId>r</RequestId></ErrorResponse>"
)
EC2_ERROR = (
    "<Response><Errors><Error><Code>{code}</Code><Message>{message}</Message></Error></Errors>"
    "<RequestID>r</RequestID></Response>"
)


class _Raw:
    def __init__(self, body: bytes) -> None:
        self._body = body

    def stream(self, **_: Any) -> Any:
        yield self._body


def inject(
    client: Any, event: str, *, code: str, status: int, times: int, template: str
) -> list[str]:
    """Answer the next `times` matching requests with an AWS error, before they are sent."""
    seen: list[str] = []

    def handler(request: Any, event_name: str = "", **_: Any) -> AWSResponse | None:
        if len(seen) >= times:
            return None
        seen.append(event_name)
        body = template.format(code=code, message="Rate exceeded").encode()
        return AWSResponse(request.url, status, {}, _Raw(body))

    # first, so it answers before moto's own before-send handler does
    client.meta.events.register_first(f"before-send.{event}", handler)
    return seen


def test_throttled_create_is_retried_and_converges(aws: Harness) -> None:
    provider = aws.provider(
        retry={
            "botocoreMaxAttempts": 1,
            "attempts": 8,
            "initialDelaySeconds": 0.001,
            "maxDelaySeconds": 0.01,
        }
    )
    elb = provider.clients.elbv2
    throttled = inject(
        elb, "elastic-load-balancing-v2", code="Throttling", status=400, times=5, template=ELB_ERROR
    )
    ec2_throttled = inject(
        provider.clients.ec2,
        "ec2",
        code="RequestLimitExceeded",
        status=503,
        times=3,
        template=EC2_ERROR,
    )
    spec = aws.spec(listeners=(tcp(80, 30080), udp(53, 30053)))
    status = provider.ensure(spec)
    assert len(throttled) == 5 and len(ec2_throttled) == 3
    assert aws.recorder.count(operation="elbv2:DescribeLoadBalancers") >= 5
    assert sum(n for (_, _, result), n in aws.recorder.calls.items() if result == "Throttling") == 5
    assert status.ingress[0].hostname == aws.lb(load_balancer_name(spec.ref))["DNSName"]
    assert provider.plan(spec) == []


def test_throttling_of_a_registration_is_retried_once_more_not_duplicated(aws: Harness) -> None:
    provider = aws.provider()
    spec = aws.spec()
    provider.ensure(spec)
    inject(
        provider.clients.elbv2,
        "elastic-load-balancing-v2.RegisterTargets",
        code="Throttling",
        status=400,
        times=2,
        template=ELB_ERROR,
    )
    provider.update_backends(aws.spec(spec.ref, nodes=3))
    assert (
        aws.recorder.count(operation="elbv2:RegisterTargets", mutating=True) == 1 + 3
    )  # 1st ensure, 2 throttled, 1 ok


def test_throttling_that_never_ends_gives_up_with_a_retryable_error(aws: Harness) -> None:
    provider = aws.provider(
        retry={"botocoreMaxAttempts": 1, "attempts": 3, "initialDelaySeconds": 0.001}
    )
    inject(
        provider.clients.elbv2,
        "elastic-load-balancing-v2",
        code="Throttling",
        status=400,
        times=100,
        template=ELB_ERROR,
    )
    with pytest.raises(AWSCallError) as err:
        provider.ensure(aws.spec())
    assert (
        isinstance(err.value, CloudError) and err.value.retryable and err.value.code == "Throttling"
    )
    assert aws.recorder.count(operation="elbv2:DescribeLoadBalancers") == 3


def test_a_user_error_is_not_retried(aws: Harness) -> None:
    provider = aws.provider()
    inject(
        provider.clients.elbv2,
        "elastic-load-balancing-v2.CreateLoadBalancer",
        code="TooManyLoadBalancers",
        status=400,
        times=100,
        template=ELB_ERROR,
    )
    with pytest.raises(AWSCallError) as err:
        provider.ensure(aws.spec())
    assert not err.value.retryable and "TooManyLoadBalancers" in str(err.value)
    assert aws.recorder.count(operation="elbv2:CreateLoadBalancer") == 1


def test_token_bucket_paces_after_the_burst() -> None:
    now = [0.0]
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds

    clock: Callable[[], float] = lambda: now[0]
    bucket = TokenBucket(rate=2.0, burst=3, clock=clock, sleep=sleep)
    waits = [bucket.acquire() for _ in range(5)]
    assert waits[:3] == [0.0, 0.0, 0.0]
    assert waits[3] == pytest.approx(0.5) and waits[4] == pytest.approx(0.5)
    now[0] += 10  # a long pause refills only up to the burst
    assert [bucket.acquire() for _ in range(3)] == [0.0, 0.0, 0.0]
    assert bucket.acquire() == pytest.approx(0.5)
