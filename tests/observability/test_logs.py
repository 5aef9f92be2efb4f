"""Structured logs: text and JSON lines, fields split out of `what key=value`
messages, and registered secrets masked wherever they would appear."""

from __future__ import annotations

import io
import json
import logging

import pytest

from cloud_lb.logs import MASK, register_secret, setup_logging, split_fields


@pytest.mark.parametrize(("message", "what", "fields"), [
    ("load balancer ensured service=default/web id=local-1 address=127.240.0.1",
     "load balancer ensured", {"service": "default/web", "id": "local-1",
                               "address": "127.240.0.1"}),
    ("event object=Service/ns/x reason=Bad message='it\\'s \"bad\"'",
     "event", {"object": "Service/ns/x", "reason": "Bad", "message": "it's \"bad\""}),
    ("no pairs here", "no pairs here", {}),
    ("ratio is 3=3 today", "ratio is 3=3 today", {}),  # `3=3` is no key
    ("what a=b=c", "what", {"a": "b=c"}),
    ("what a='x'y", "what a='x'y", {}),  # not a clean pair: the message stays whole
    ("what msg=shadow level=x", "what", {"_msg": "shadow", "_level": "x"}),
    ("empty value= next=1", "empty", {"value": "", "next": "1"}),
])
def test_messages_split_into_what_and_fields(message: str, what: str,
                                             fields: dict[str, str]) -> None:
    assert split_fields(message) == (what, fields)


def test_json_lines_carry_fields(log_stream: io.StringIO) -> None:
    setup_logging("info", "json", stream=log_stream)
    logging.getLogger("cloud_lb.test").info("load balancer ensured service=%s id=%s",
                                            "default/web", "lb-1")
    logging.getLogger("cloud_lb.test").debug("not shown")
    lines = log_stream.getvalue().splitlines()
    assert len(lines) == 1
    line = json.loads(lines[0])
    assert line["msg"] == "load balancer ensured"
    assert (line["service"], line["id"], line["level"], line["logger"]) == \
        ("default/web", "lb-1", "info", "cloud_lb.test")
    assert line["time"].endswith("Z")


def test_text_lines_keep_the_message(log_stream: io.StringIO) -> None:
    setup_logging("debug", "text", stream=log_stream)
    logging.getLogger("cloud_lb.test").debug("queued key=%s", "ns/a")
    assert log_stream.getvalue().rstrip().endswith("debug   cloud_lb.test: queued key=ns/a")


@pytest.mark.parametrize("fmt", ["text", "json"])
@pytest.mark.parametrize("secret", ['pl41n-s3cret', 'quo"te\\back-slash', "tab\tand'quote"])
def test_registered_secrets_never_print(log_stream: io.StringIO, fmt: str, secret: str) -> None:
    register_secret(secret)
    setup_logging("info", fmt, stream=log_stream)
    log = logging.getLogger("cloud_lb.test")
    log.warning("auth failed password=%s", secret)
    log.warning("auth failed body=%r", {"password": secret})
    try:
        raise RuntimeError(f"server said: bad credential {secret}")
    except RuntimeError:
        log.exception("call failed")
    out = log_stream.getvalue()
    for form in (secret, json.dumps(secret)[1:-1], repr(secret)[1:-1]):
        assert form not in out, f"{form!r} leaked:\n{out}"
    assert out.count(MASK) >= 3
    if fmt == "json":
        assert all(json.loads(line) for line in out.splitlines())
