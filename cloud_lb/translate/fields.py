"""Typed reads from raw Kubernetes dicts that fail with a `TranslationError` naming the
field. Raw dicts come from the API (or a cache of it), so odd types are rare, but a
malformed object must become an event, never a crash of the reconciler.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from cloud_lb.provider import Capabilities
from cloud_lb.translate.errors import TranslationError


def mapping(value: Any, field: str, *, required: bool = False) -> Mapping[str, Any]:
    if value is None and not required:
        return {}
    if not isinstance(value, Mapping):
        raise TranslationError("must be an object", field=field)
    return value


def string(value: Any, field: str) -> str | None:
    """A string, or None when absent or empty."""
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise TranslationError(f"must be a string, got {value!r}", field=field)
    return value


def port_number(value: Any, field: str, *, optional: bool = False) -> int | None:
    """A port in 1..65535; with `optional`, None/0 mean unset."""
    if optional and value in (None, 0):
        return None
    # bool is an int in Python; a `true` port is still a type error
    if isinstance(value, bool) or not isinstance(value, int):
        raise TranslationError(f"must be a port number in 1..65535, got {value!r}", field=field)
    if not 1 <= value <= 65535:
        raise TranslationError(f"must be in 1..65535, got {value}", field=field)
    return value


def annotation_field(key: str) -> str:
    return f"metadata.annotations[{key}]"


def annotations_of(obj: Mapping[str, Any]) -> dict[str, str]:
    meta = mapping(obj.get("metadata"), "metadata")
    raw = mapping(meta.get("annotations"), "metadata.annotations")
    out: dict[str, str] = {}
    for key, value in raw.items():
        if not isinstance(key, str) or not isinstance(value, str):
            raise TranslationError(
                f"annotation {key!r} must have a string value, got {value!r}",
                field=annotation_field(str(key)),
            )
        out[key] = value
    return out


def who(provider_name: str | None) -> str:
    """'the openstack provider' or 'the configured provider', for messages."""
    return f"the {provider_name} provider" if provider_name else "the configured provider"


def require(capabilities: Capabilities, capability: str, *, what: str, field: str,
            provider_name: str | None, hint: str) -> None:
    """Raise unless the provider has `capability`, saying which feature is missing."""
    if not getattr(capabilities, capability):
        raise TranslationError(
            f"{what} is not supported by {who(provider_name)} "
            f"(capability {capability!r} is missing); {hint}",
            field=field,
        )
