"""Label and field selectors, parsed and matched like `k8s.io/apimachinery` does.

Label selector grammar: comma-separated requirements, each one of `key`, `!key`,
`key=v`, `key==v`, `key!=v`, `key in (a,b)`, `key notin (a,b)`, `key>N`, `key<N`.
Commas inside the parentheses of a set do not separate requirements. `!=` and `notin`
also match objects that do not carry the key, as in the real server.

Field selector grammar: comma-separated `field=v`, `field==v`, `field!=v`, with `\\`
escaping `,`, `=` and `!` in values. Only the fields a resource declares are allowed
(`ResourceType.selectable`); anything else is a 400, as on a real cluster.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from cloud_lb.testing.fakekube.errors import ApiError, bad_request
from cloud_lb.testing.fakekube.validation import LABEL_VALUE_MSG, qualified_name_problem

_LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")
_SET_REQ = re.compile(r"^(?P<key>\S+?)\s+(?P<op>in|notin)\s*\((?P<values>[^()]*)\)$")
_CMP_REQ = re.compile(r"^(?P<key>[^=!<>\s]+)\s*(?P<op>==|=|!=|>|<)\s*(?P<value>[^=!<>\s]*)$")


@dataclass(frozen=True)
class Requirement:
    key: str
    op: str  # "=", "!=", "in", "notin", "exists", "!", ">", "<"
    values: tuple[str, ...] = ()

    def matches(self, labels: dict[str, str]) -> bool:
        present = self.key in labels
        value = labels.get(self.key)
        if self.op == "exists":
            return present
        if self.op == "!":
            return not present
        if self.op in ("=", "in"):
            return present and value in self.values
        if self.op in ("!=", "notin"):
            return not present or value not in self.values
        if not present:
            return False
        try:
            number = int(value or "")
        except ValueError:
            return False
        bound = int(self.values[0])
        return number > bound if self.op == ">" else number < bound


def _split_requirements(text: str) -> list[str]:
    """Split on commas that are not inside a parenthesised value set."""
    parts, depth, current = [], 0, []
    for ch in text:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append("".join(current))
            current = []
        else:
            current.append(ch)
    parts.append("".join(current))
    return [p.strip() for p in parts]


def _check_key(key: str, text: str) -> None:
    problem = qualified_name_problem(key)
    if problem:
        raise bad_request(f'unable to parse requirement: key: Invalid value: "{key}": {problem}')


def _check_value(value: str, text: str) -> None:
    if len(value) > 63 or not _LABEL_VALUE.match(value):
        raise bad_request(
            f'unable to parse requirement: values[0][{text}]: Invalid value: "{value}": '
            f"{LABEL_VALUE_MSG}")


def _parse_requirement(text: str) -> Requirement:
    if not text:
        raise bad_request("found '', expected: identifier")
    if text.startswith("!"):
        key = text[1:].strip()
        _check_key(key, text)
        return Requirement(key, "!")
    match = _SET_REQ.match(text)
    if match:
        key = match["key"]
        _check_key(key, text)
        values = tuple(v.strip() for v in match["values"].split(",") if v.strip())
        if not values:
            raise bad_request(f"unable to parse requirement: for 'in', 'notin' operators, "
                              f"values set can't be empty ({text})")
        for value in values:
            _check_value(value, key)
        return Requirement(key, match["op"], values)
    match = _CMP_REQ.match(text)
    if match:
        key, op, value = match["key"], match["op"], match["value"]
        _check_key(key, text)
        if op in (">", "<"):
            try:
                int(value)
            except ValueError:
                raise bad_request(f"unable to parse requirement: for 'Gt', 'Lt' operators, "
                                  f"the value must be an integer ({text})") from None
        else:
            _check_value(value, key)
        return Requirement(key, "=" if op == "==" else op, (value,))
    if re.fullmatch(r"\S+", text):
        _check_key(text, text)
        return Requirement(text, "exists")
    raise bad_request(f"unable to parse requirement: found '{text}', expected: "
                      f"',', '!=', '==', '=', 'in', 'notin'")


@dataclass(frozen=True)
class LabelSelector:
    requirements: tuple[Requirement, ...]

    @classmethod
    def parse(cls, text: str | None) -> LabelSelector:
        if not text or not text.strip():
            return cls(())
        return cls(tuple(_parse_requirement(p) for p in _split_requirements(text)))

    def matches(self, obj: dict[str, Any]) -> bool:
        labels = (obj.get("metadata") or {}).get("labels") or {}
        return all(r.matches(labels) for r in self.requirements)


def _split_unescaped(text: str, sep: str) -> list[str]:
    parts, current, escaped = [], [], False
    for ch in text:
        if escaped:
            current.append("\\" + ch)
            escaped = False
        elif ch == "\\":
            escaped = True
        elif ch == sep:
            parts.append("".join(current))
            current = []
        else:
            current.append(ch)
    parts.append("".join(current))
    return parts


def _unescape(text: str) -> str:
    return re.sub(r"\\(.)", r"\1", text)


def field_value(obj: dict[str, Any], path: str) -> str:
    """The string a field selector compares against (missing fields read as "")."""
    if path == "source":  # events: `source` selects on source.component
        path = "source.component"
    node: Any = obj
    for part in path.split("."):
        if not isinstance(node, dict):
            return ""
        node = node.get(part)
    if node is None:
        return ""
    if isinstance(node, bool):
        return "true" if node else "false"
    return str(node)


@dataclass(frozen=True)
class FieldSelector:
    terms: tuple[tuple[str, str, str], ...]  # (field, "=" | "!=", value)

    @classmethod
    def parse(cls, text: str | None, allowed: Callable[[str], bool]) -> FieldSelector:
        if not text or not text.strip():
            return cls(())
        terms = []
        for raw in _split_unescaped(text, ","):
            raw = raw.strip()
            match = re.match(r"^(?P<field>[^=!\s]+)\s*(?P<op>==|=|!=)(?P<value>.*)$", raw)
            if not match:
                raise bad_request(f"invalid selector: '{text}'; can't understand '{raw}'")
            field = match["field"]
            if not allowed(field):
                raise ApiError(400, "BadRequest", f"field label not supported: {field}")
            op = "!=" if match["op"] == "!=" else "="
            terms.append((field, op, _unescape(match["value"].strip())))
        return cls(tuple(terms))

    def matches(self, obj: dict[str, Any]) -> bool:
        for field, op, value in self.terms:
            equal = field_value(obj, field) == value
            if equal != (op == "="):
                return False
        return True

    def single_value(self, field: str) -> str | None:
        """The value of an `field=value` term, used to narrow a scan (metadata.name)."""
        for f, op, value in self.terms:
            if f == field and op == "=":
                return value
        return None
