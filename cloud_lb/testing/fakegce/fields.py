"""Small field checks shared by the collections' validation (400 `invalid` on failure)."""

from __future__ import annotations

import ipaddress
import re
from typing import Any

from cloud_lb.testing.fakegce.errors import invalid_field

_PORT_RE = re.compile(r"^(\d{1,5})(?:-(\d{1,5}))?$")


def enum(
    body: dict[str, Any],
    key: str,
    allowed: tuple[str, ...],
    default: str | None = None,
    *,
    where: str = "resource",
) -> str | None:
    value = body.get(key, default)
    if value is None:
        return None
    if value not in allowed:
        raise invalid_field(f"{where}.{key}", f"'{value}'. Must be one of {list(allowed)}")
    body[key] = value
    return value


def port_spec(value: Any, field: str) -> tuple[int, int]:
    """`"80"` or `"8000-8080"` -> (low, high)."""
    match = _PORT_RE.match(str(value))
    if not match:
        raise invalid_field(field, f"'{value}'. Must be a port or a port range 'low-high'")
    low = int(match.group(1))
    high = int(match.group(2) or low)
    if not (1 <= low <= high <= 65535):
        raise invalid_field(field, f"'{value}'. Ports must be in 1..65535 with low <= high")
    return low, high


def cidr(value: Any, field: str) -> str:
    try:
        return str(ipaddress.ip_network(str(value), strict=False))
    except ValueError:
        raise invalid_field(field, f"'{value}'. Must be a CIDR range") from None


def ip(value: Any, field: str) -> str:
    try:
        return str(ipaddress.ip_address(str(value)))
    except ValueError:
        raise invalid_field(field, f"'{value}'. Must be an IP address") from None


def integer(
    body: dict[str, Any], key: str, default: int, low: int, high: int, *, where: str = "resource"
) -> int:
    raw = body.get(key, default)
    try:
        value = int(raw)
    except (TypeError, ValueError):
        raise invalid_field(f"{where}.{key}", f"'{raw}'. Must be an integer") from None
    if not low <= value <= high:
        raise invalid_field(f"{where}.{key}", f"'{value}'. Must be in {low}..{high}")
    body[key] = value
    return value


def require(body: dict[str, Any], key: str, *, where: str = "resource") -> Any:
    if body.get(key) in (None, "", [], {}):
        raise invalid_field(f"{where}.{key}", "Required field not specified")
    return body[key]


def ranges_overlap(a: list[tuple[int, int]], b: list[tuple[int, int]]) -> bool:
    return any(lo1 <= hi2 and lo2 <= hi1 for lo1, hi1 in a for lo2, hi2 in b)
