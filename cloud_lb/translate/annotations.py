"""Annotations that translation itself interprets, and the pass-through `options`.

Internal load balancers: each cloud has its own annotation; we honour all of them so a
Service moved between clouds keeps its meaning, plus our own `cloud-lb.io/internal`.
Annotations that disagree (one says internal, another says external) are an error
naming both, never a silent pick.

Per-Service health-check overrides (integers, seconds may be written `10s`):
    cloud-lb.io/health-check-interval, cloud-lb.io/health-check-timeout,
    cloud-lb.io/health-check-healthy-threshold, cloud-lb.io/health-check-unhealthy-threshold

`options` carries every annotation (sorted) for providers to interpret, except
`kubectl.kubernetes.io/last-applied-configuration`: a copy of the whole object that
no provider reads and that would make every `kubectl apply` look like a spec change.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from cloud_lb.provider import Capabilities
from cloud_lb.translate.errors import TranslationError
from cloud_lb.translate.fields import annotation_field, require
from cloud_lb.translate.settings import TranslateSettings

INTERNAL_ANNOTATION = "cloud-lb.io/internal"
HC_INTERVAL = "cloud-lb.io/health-check-interval"
HC_TIMEOUT = "cloud-lb.io/health-check-timeout"
HC_HEALTHY = "cloud-lb.io/health-check-healthy-threshold"
HC_UNHEALTHY = "cloud-lb.io/health-check-unhealthy-threshold"
LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"

_MAX_SECONDS = 3600
_MAX_THRESHOLD = 100


def _bool(value: str, key: str) -> bool:
    lowered = value.strip().lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    raise TranslationError(f"must be \"true\" or \"false\", got {value!r}", field=annotation_field(key))


def _aws_internal(value: str, key: str) -> bool:
    # the in-tree AWS provider: "false" is external, any other non-empty value internal
    # (historically "0.0.0.0/0")
    return value.strip().lower() != "false"


def _aws_scheme(value: str, key: str) -> bool:
    lowered = value.strip().lower()
    if lowered in ("internal", "internet-facing"):
        return lowered == "internal"
    raise TranslationError(
        f"must be \"internal\" or \"internet-facing\", got {value!r}", field=annotation_field(key)
    )


def _gce_type(value: str, key: str) -> bool:
    lowered = value.strip().lower()
    if lowered in ("internal", "external"):
        return lowered == "internal"
    raise TranslationError(
        f"must be \"Internal\" or \"External\", got {value!r}", field=annotation_field(key)
    )


# annotation -> parser returning True for internal, False for explicitly external
INTERNAL_ANNOTATIONS: dict[str, Callable[[str, str], bool]] = {
    INTERNAL_ANNOTATION: _bool,
    "service.beta.kubernetes.io/openstack-internal-load-balancer": _bool,
    "service.beta.kubernetes.io/aws-load-balancer-internal": _aws_internal,
    "service.beta.kubernetes.io/aws-load-balancer-scheme": _aws_scheme,
    "networking.gke.io/load-balancer-type": _gce_type,
    "cloud.google.com/load-balancer-type": _gce_type,
}


def internal(annotations: Mapping[str, str], capabilities: Capabilities,
             provider_name: str | None) -> bool:
    votes = {
        key: parse(annotations[key], key)
        for key, parse in INTERNAL_ANNOTATIONS.items() if key in annotations
    }
    if len(set(votes.values())) > 1:
        yes = next(k for k, v in votes.items() if v)
        no = next(k for k, v in votes.items() if not v)
        raise TranslationError(
            f"asks for an internal load balancer but {no} asks for an external one; "
            "remove one of them",
            field=annotation_field(yes),
        )
    wanted = any(votes.values())
    if wanted:
        key = next(k for k, v in votes.items() if v)
        require(capabilities, "internal", what="an internal load balancer",
                field=annotation_field(key), provider_name=provider_name,
                hint="remove the annotation for an internet-facing load balancer")
    return wanted


@dataclass(frozen=True)
class HealthCheckTimings:
    interval: int
    timeout: int
    healthy_threshold: int
    unhealthy_threshold: int


_SECONDS = re.compile(r"^\s*(\d+)\s*s?\s*$")
_COUNT = re.compile(r"^\s*(\d+)\s*$")


def _number(annotations: Mapping[str, str], key: str, default: int, *, seconds: bool) -> int:
    if key not in annotations:
        return default
    value = annotations[key]
    match = (_SECONDS if seconds else _COUNT).match(value)
    upper = _MAX_SECONDS if seconds else _MAX_THRESHOLD
    if not match or not 1 <= int(match.group(1)) <= upper:
        unit = "seconds such as 10 or 10s" if seconds else "a count"
        raise TranslationError(
            f"must be {unit} between 1 and {upper}, got {value!r}", field=annotation_field(key)
        )
    return int(match.group(1))


def health_check_timings(annotations: Mapping[str, str], settings: TranslateSettings
                         ) -> HealthCheckTimings:
    if not settings.allow_health_check_overrides:
        annotations = {}
    timings = HealthCheckTimings(
        interval=_number(annotations, HC_INTERVAL, settings.health_check_interval, seconds=True),
        timeout=_number(annotations, HC_TIMEOUT, settings.health_check_timeout, seconds=True),
        healthy_threshold=_number(annotations, HC_HEALTHY, settings.healthy_threshold, seconds=False),
        unhealthy_threshold=_number(annotations, HC_UNHEALTHY, settings.unhealthy_threshold,
                                    seconds=False),
    )
    if timings.timeout > timings.interval:
        key = HC_TIMEOUT if HC_TIMEOUT in annotations else HC_INTERVAL
        raise TranslationError(
            f"the health check timeout ({timings.timeout}s) exceeds its interval "
            f"({timings.interval}s); make the timeout at most the interval",
            field=annotation_field(key),
        )
    return timings


def options(annotations: Mapping[str, str]) -> tuple[tuple[str, str], ...]:
    return tuple(sorted((k, v) for k, v in annotations.items() if k != LAST_APPLIED))
