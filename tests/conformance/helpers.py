"""Assertions shared by the conformance tests."""

from __future__ import annotations

import dataclasses
import re
from collections import Counter

from cloud_lb.model import LoadBalancerStatus
from cloud_lb.provider import CallRecorder

# A mutating call that only changes a load balancer's members is named for them:
# Octavia "members", AWS "targets", GCP target pool "instances", local "backends".
MEMBER_OPERATION = re.compile(r"member|target|instance|backend", re.IGNORECASE)


def configured(status: LoadBalancerStatus) -> LoadBalancerStatus:
    """The status without `backends_healthy`, which health checks change on their own
    schedule: what two ensures of one spec must agree on."""
    return dataclasses.replace(status, backends_healthy=None)


def calls(recorder: CallRecorder) -> Counter[tuple[str, bool, str]]:
    return Counter(recorder.calls)


def mutating_operations(before: Counter[tuple[str, bool, str]],
                        after: Counter[tuple[str, bool, str]]) -> set[str]:
    """The names of the mutating calls made between two `calls()` snapshots."""
    return {op for (op, mutating, _), n in (after - before).items() if mutating and n > 0}
