"""Structured logging: one line per event, `key=value` text or JSON.

Messages are already written as `what key=value ...`; the formatter adds time, level
and logger. A filter masks any registered secret value wherever it would appear, as a
last line of defence (the first is never formatting secrets at all).
"""

from __future__ import annotations

import json
import logging
import sys
import threading
from datetime import UTC, datetime

_secrets: set[str] = set()
_secrets_lock = threading.Lock()
MASK = "***"


def register_secret(value: str | None) -> None:
    """Never print `value` (a password, key, token) in any log line."""
    if value and len(value) >= 4:
        with _secrets_lock:
            _secrets.add(value)


def redact(text: str) -> str:
    with _secrets_lock:
        secrets = list(_secrets)
    for secret in secrets:
        if secret in text:
            text = text.replace(secret, MASK)
    return text


class _RedactingFormatter(logging.Formatter):
    def __init__(self, json_output: bool) -> None:
        super().__init__()
        self.json_output = json_output

    def format(self, record: logging.LogRecord) -> str:
        message = record.getMessage()
        if record.exc_info:
            message = f"{message} exc={self.formatException(record.exc_info)!r}"
        stamp = datetime.fromtimestamp(record.created, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")[:-4] + "Z"
        if self.json_output:
            line = json.dumps({"time": stamp, "level": record.levelname.lower(),
                               "logger": record.name, "msg": message,
                               "thread": record.threadName})
        else:
            line = f"{stamp} {record.levelname.lower():<7} {record.name}: {message}"
        return redact(line)


def setup_logging(level: str = "info", fmt: str = "text", stream=None) -> None:
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(_RedactingFormatter(fmt == "json"))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
    # the HTTP stacks are noisy at debug and may echo request headers (tokens)
    for noisy in ("urllib3", "kubernetes.client.rest", "botocore", "keystoneauth",
                  "google.auth", "openstack"):
        logging.getLogger(noisy).setLevel(max(logging.INFO, root.level))
