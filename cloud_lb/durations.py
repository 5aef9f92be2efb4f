"""Durations in config files: "30s", "10m", "1h30m", "250ms", or a number of seconds.

Hand-written because pydantic's own timedelta parsing takes ISO 8601 ("PT10M") and
plain seconds only, while Kubernetes users write Go-style durations ("10m", "1h30m").
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import BeforeValidator, Field, PlainSerializer

_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h|d)")


def parse_duration(value: Any) -> Any:
    """Seconds as a float; other types are left for pydantic to reject."""
    if isinstance(value, bool):
        raise ValueError("must be a duration such as 30s, 10m or 1h, not a boolean")
    if isinstance(value, (int, float)):
        return float(value)
    if not isinstance(value, str):
        return value
    text = value.strip().replace(" ", "")
    try:
        return float(text)
    except ValueError:
        pass
    pos, total = 0, 0.0
    for match in _PART.finditer(text):
        if match.start() != pos:
            break
        total += float(match.group(1)) * _UNITS[match.group(2)]
        pos = match.end()
    if pos != len(text) or not text:
        raise ValueError(f"{value!r} is not a duration; write e.g. 30s, 10m, 1h30m or 250ms")
    return total


def format_duration(seconds: float) -> str:
    """The shortest Go-style text for a number of seconds (for docs and summaries)."""
    if seconds and seconds < 1:
        return f"{seconds * 1000:g}ms"
    for unit, size in (("h", 3600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{seconds / size:g}{unit}"
    return f"{seconds:g}s"


# a positive duration in seconds; dumped to JSON/YAML in the form people write
Duration = Annotated[float, BeforeValidator(parse_duration), Field(gt=0),
                     PlainSerializer(format_duration, return_type=str, when_used="json")]
