"""Config errors a person can act on: each names the field, says what is wrong, and
where YAML knows it, the line.

Pydantic's messages are rephrased ("Input should be greater than or equal to 1" →
"must be >= 1"), an unknown key gets a "did you mean" from the keys allowed there, and
the input value is never echoed: it may be a credential. YAML syntax errors keep
PyYAML's problem and position but not its snippet of the file, for the same reason.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

Path = tuple[str | int, ...]

_DNS_LABEL_HINT = ("must be a DNS label: lowercase letters, digits and '-', starting and "
                   "ending with a letter or digit, at most 63 characters")
_QUALIFIED_HINT = "must be a Kubernetes qualified name such as example.com/name"


class ConfigError(Exception):
    """A config file that cannot be used. `problems` is a list of (field path, message)."""

    def __init__(self, problems: Iterable[tuple[str, str]], *, filename: str | None = None) -> None:
        self.problems: list[tuple[str, str]] = list(problems) or [("(config)", "invalid")]
        self.filename = filename
        super().__init__(self.render())

    @property
    def errors(self) -> list[tuple[str, str]]:
        return self.problems

    def render(self) -> str:
        return "\n".join(f"{path}: {message}" for path, message in self.problems)

    def __str__(self) -> str:
        return self.render()


def format_path(path: Sequence[str | int]) -> str:
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out or "(top level)"


def yaml_error(exc: yaml.YAMLError) -> tuple[str, str]:
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or "invalid YAML"
    context = getattr(exc, "context", None)
    text = f"{context}: {problem}" if context else problem
    if mark is None:
        return ("(yaml)", f"invalid YAML ({text})")
    return (f"line {mark.line + 1}, column {mark.column + 1}", f"invalid YAML ({text})")


def yaml_lines(text: str) -> dict[Path, int]:
    """The 1-based line of every key and list item, by path."""
    lines: dict[Path, int] = {}
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        return lines

    def walk(node: yaml.Node | None, path: Path) -> None:
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                sub = (*path, str(key.value))
                lines[sub] = key.start_mark.line + 1
                walk(value, sub)
        elif isinstance(node, yaml.SequenceNode):
            for i, item in enumerate(node.value):
                sub = (*path, i)
                lines[sub] = item.start_mark.line + 1
                walk(item, sub)

    walk(root, ())
    return lines


def _line(path: Path, lines: Mapping[Path, int]) -> int | None:
    for end in range(len(path), 0, -1):
        if path[:end] in lines:
            return lines[path[:end]]
    return None


def _model_at(model: type[BaseModel] | None, path: Path) -> type[BaseModel] | None:
    """The nested model class that holds the key at `path` (for 'did you mean')."""
    for part in path:
        if model is None:
            return None
        field = next((f for n, f in model.model_fields.items() if part in (n, f.alias)), None)
        annotation = getattr(field, "annotation", None)
        model = annotation if isinstance(annotation, type) and issubclass(annotation, BaseModel) else None
    return model


def _keys(model: type[BaseModel] | None) -> list[str]:
    if model is None:
        return []
    return [f.alias or n for n, f in model.model_fields.items()]


def _message(err: Mapping[str, Any], model: type[BaseModel] | None, path: Path,
             extra_names: Sequence[str]) -> str:
    kind = err["type"]
    ctx = err.get("ctx") or {}
    if kind == "missing":
        return "is required"
    if kind == "extra_forbidden":
        known = _keys(_model_at(model, path[:-1]))
        if len(path) == 1:
            known += list(extra_names)
        close = difflib.get_close_matches(str(path[-1]), known, n=1)
        if close:
            return f"unknown key; did you mean {close[0]!r}?"
        return f"unknown key; allowed here: {', '.join(sorted(known))}" if known else "unknown key"
    bounds = {"greater_than_equal": ">=", "greater_than": ">", "less_than_equal": "<=", "less_than": "<"}
    if kind in bounds:
        limit = next(iter(ctx.values()), "?")
        return f"must be {bounds[kind]} {limit}"
    if kind == "string_pattern_mismatch":
        pattern = str(ctx.get("pattern", ""))
        return _DNS_LABEL_HINT if "{0,61}" in pattern else _QUALIFIED_HINT
    msg = str(err["msg"])
    for prefix in ("Value error, ", "Assertion failed, "):
        msg = msg.removeprefix(prefix)
    return msg.replace("Input should be", "must be").replace("Input", "value")


def validation_problems(exc: ValidationError, *, model: type[BaseModel] | None = None,
                        prefix: Path = (), extra_names: Sequence[str] = (),
                        lines: Mapping[Path, int] | None = None) -> list[tuple[str, str]]:
    problems: list[tuple[str, str]] = []
    for err in exc.errors(include_url=False, include_input=False):
        loc: Path = tuple(err["loc"])
        path = (*prefix, *loc)
        message = _message(err, model, loc, extra_names)
        line = _line(path, lines or {})
        if line is not None:
            message += f" (line {line})"
        problems.append((format_path(path), message))
    return problems
