"""Structured logging: one line per event, `key=value` text or JSON.

Messages are written as `what key=value ...` (values that may hold spaces with %r).
The text formatter adds time, level and logger in front. The JSON formatter turns the
same message into one object per line: `msg` is the "what", every trailing
`key=value` becomes a field of its own (quoted values unquoted), so a log pipeline can
filter on `service` or `id` without parsing; a message that does not end in clean
pairs stays whole in `msg`.

Secrets: a filter masks every registered secret value (passwords, keys, tokens the
config holds) as a last line of defence (the first is never formatting secrets at
all). It masks the message and traceback *before* they are JSON-encoded, since
encoding may escape characters of a secret so that it no longer matches.
"""

from __future__ import annotations

import ast
import json
import logging
import re
import sys
import threading
from datetime import UTC, datetime
from typing import IO, Any

_secrets: set[str] = set()
_secrets_lock = threading.Lock()
MASK = "***"

# key=value, value bare or quoted the way %r quotes it
_PAIR = re.compile(r"""\s*([A-Za-z_][\w.\-]*)=('(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*"|\S*)""")
_FIRST_PAIR = re.compile(r"""(?:^|\s)[A-Za-z_][\w.\-]*=""")
RESERVED = frozenset({"time", "level", "logger", "msg", "thread", "exc"})


def register_secret(value: str | None) -> None:
    """Never print `value` (a password, key, token) in any log line, also not in the
    escaped forms `%r` or JSON would give it (quotes, backslashes, control characters)."""
    if value and len(value) >= 4:
        with _secrets_lock:
            _secrets.update({value, repr(value)[1:-1], json.dumps(value)[1:-1]})


def redact(text: str) -> str:
    with _secrets_lock:
        secrets = sorted(_secrets, key=len, reverse=True)  # longest first: no partial leaks
    for secret in secrets:
        if secret in text:
            text = text.replace(secret, MASK)
    return text


def split_fields(message: str) -> tuple[str, dict[str, Any]]:
    """('what', {key: value}) for a `what k=v k2='v 2'` message; (message, {}) when
    the tail is not a clean run of pairs."""
    start = _FIRST_PAIR.search(message)
    if start is None:
        return message, {}
    head, tail = message[:start.start()].rstrip(), message[start.start():]
    fields: dict[str, Any] = {}
    pos = 0
    while pos < len(tail):
        match = _PAIR.match(tail, pos)
        if match is None or match.end() == pos:
            return message, {}
        key, raw = match.group(1), match.group(2)
        if raw[:1] in ("'", '"'):
            try:
                raw = ast.literal_eval(raw)
            except (ValueError, SyntaxError):
                return message, {}
        fields[f"_{key}" if key in RESERVED else key] = raw
        pos = match.end()
        if pos < len(tail) and not tail[pos].isspace():
            return message, {}  # `a=b=c`, `a='x'y`: not pairs
        while pos < len(tail) and tail[pos].isspace():
            pos += 1
    return head, fields


class _RedactingFormatter(logging.Formatter):
    def __init__(self, json_output: bool) -> None:
        super().__init__()
        self.json_output = json_output

    def format(self, record: logging.LogRecord) -> str:
        message = redact(record.getMessage())
        exc = redact(self.formatException(record.exc_info)) if record.exc_info else None
        when = datetime.fromtimestamp(record.created, UTC)
        stamp = when.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"  # milliseconds, UTC
        level = record.levelname.lower()
        if self.json_output:
            what, fields = split_fields(message)
            out: dict[str, Any] = {"time": stamp, "level": level, "logger": record.name,
                                   "msg": what, **fields, "thread": record.threadName}
            if exc:
                out["exc"] = exc
            line = json.dumps(out, default=str)
        else:
            line = f"{stamp} {level:<7} {record.name}: {message}"
            if exc:
                line = f"{line} exc={exc!r}"
        return redact(line)


# the HTTP stacks are noisy at debug and may echo request headers (tokens): never below INFO
NOISY_LOGGERS = ("urllib3", "kubernetes.client.rest", "botocore", "keystoneauth",
                 "google.auth", "openstack")


def setup_logging(level: str = "info", fmt: str = "text", stream: IO[str] | None = None) -> None:
    """Route every logger to one handler on `stream` (stderr) in `fmt` ('text'/'json')."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(_RedactingFormatter(fmt == "json"))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
    for noisy in NOISY_LOGGERS:
        logging.getLogger(noisy).setLevel(max(logging.INFO, root.level))
