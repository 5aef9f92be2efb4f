"""The `filter` query parameter of GCE list calls.

Supported, as GCE documents them:
    name = "k8s-abc"         exact match (`*` in the value is a wildcard)
    name != "k8s-abc"
    name eq "k8s-.*"         RE2 full match (the legacy syntax)
    name ne "k8s-.*"
    labels.owner = "x"       dotted paths into the resource
    (a) (b)   a AND b        conjunction;   (a) OR (b)   disjunction
Values may be quoted with " or ' or bare. Anything else is a 400, never a silent
"match all".
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from cloud_lb.testing.fakegce.errors import invalid

_TOKEN = re.compile(
    r"\s*(?:(?P<lp>\()|(?P<rp>\))|(?P<op>!=|=|\beq\b|\bne\b)|(?P<kw>\bAND\b|\bOR\b)"
    r"|\"(?P<dq>(?:[^\"\\]|\\.)*)\"|'(?P<sq>(?:[^'\\]|\\.)*)'|(?P<word>[^\s()=!\"']+))"
)

Predicate = Callable[[dict[str, Any]], bool]


def _tokens(text: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    pos = 0
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        match = _TOKEN.match(text, pos)
        if not match or match.end() == pos:
            raise invalid(f"Invalid list filter expression: {text!r}")
        kind = match.lastgroup or ""
        value = match.group(kind)
        if kind in ("dq", "sq"):
            kind, value = "str", value.replace('\\"', '"').replace("\\'", "'")
        out.append((kind, value))
        pos = match.end()
    return out


def _lookup(resource: dict[str, Any], path: str) -> Any:
    node: Any = resource
    for part in path.split("."):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


def _as_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def _term(field: str, op: str, value: str) -> Predicate:
    if op in ("eq", "ne"):
        try:
            pattern = re.compile(value)
        except re.error as exc:
            raise invalid(f"Invalid regular expression in list filter: {value!r} ({exc})") from None
        positive = op == "eq"
        return lambda r: bool(pattern.fullmatch(_as_text(_lookup(r, field)))) is positive
    wildcard = re.compile(".*".join(re.escape(p) for p in value.split("*")))
    positive = op == "="
    return lambda r: bool(wildcard.fullmatch(_as_text(_lookup(r, field)))) is positive


def parse(text: str | None) -> Predicate:
    """Compile a filter; an empty filter matches everything."""
    if not text or not text.strip():
        return lambda r: True
    tokens = _tokens(text)
    pos = 0

    def peek() -> tuple[str, str] | None:
        return tokens[pos] if pos < len(tokens) else None

    def take() -> tuple[str, str]:
        nonlocal pos
        if pos >= len(tokens):
            raise invalid(f"Invalid list filter expression (unexpected end): {text!r}")
        pos += 1
        return tokens[pos - 1]

    def disjunction() -> Predicate:
        parts = [conjunction()]
        while peek() == ("kw", "OR"):
            take()
            parts.append(conjunction())
        return parts[0] if len(parts) == 1 else (lambda r: any(p(r) for p in parts))

    def conjunction() -> Predicate:
        parts = [atom()]
        while (tok := peek()) is not None and tok[0] != "rp" and tok != ("kw", "OR"):
            if tok == ("kw", "AND"):
                take()
            parts.append(atom())
        return parts[0] if len(parts) == 1 else (lambda r: all(p(r) for p in parts))

    def atom() -> Predicate:
        kind, value = take()
        if kind == "lp":
            inner = disjunction()
            if take()[0] != "rp":
                raise invalid(f"Invalid list filter expression (unbalanced): {text!r}")
            return inner
        if kind != "word":
            raise invalid(f"Invalid list filter expression near {value!r}: {text!r}")
        op_kind, op = take()
        if op_kind != "op":
            raise invalid(f"Invalid list filter expression: expected an operator after {value!r}")
        value_kind, operand = take()
        if value_kind not in ("str", "word"):
            raise invalid(f"Invalid list filter expression: expected a value after {op!r}")
        return _term(value, op, operand)

    predicate = disjunction()
    if pos != len(tokens):
        raise invalid(f"Invalid list filter expression (trailing input): {text!r}")
    return predicate
