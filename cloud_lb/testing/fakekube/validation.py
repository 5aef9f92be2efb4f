"""Validation shared by every resource: object names, labels, annotations, finalizers.

The regular expressions and messages are the apiserver's (`k8s.io/apimachinery/pkg/util/
validation`), so a name the fake accepts is a name a real cluster accepts and the error a
user sees reads the same.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Any

from cloud_lb.testing.fakekube.errors import FieldErrors

_LABEL = r"[a-z0-9]([-a-z0-9]*[a-z0-9])?"
DNS1123_LABEL = re.compile(rf"^{_LABEL}$")
DNS1123_SUBDOMAIN = re.compile(rf"^{_LABEL}(\.{_LABEL})*$")
DNS1035_LABEL = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")
_QUALIFIED_NAME_PART = re.compile(r"^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$")
_LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")

DNS1123_LABEL_MSG = (
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', "
    "and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', "
    "regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')"
)
DNS1123_SUBDOMAIN_MSG = (
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' "
    "or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex "
    "used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
)
DNS1035_LABEL_MSG = (
    "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an "
    "alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or "
    "'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')"
)
QUALIFIED_NAME_MSG = (
    "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and "
    "end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex "
    "used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"
)
LABEL_VALUE_MSG = (
    "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or "
    "'.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or "
    "'my_value',  or '12345', regex used for validation is "
    "'(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"
)

# how each resource's names are checked (the apiserver's NameIsDNS* functions)
NAME_RULES = {
    "label": (DNS1123_LABEL, 63, DNS1123_LABEL_MSG),
    "subdomain": (DNS1123_SUBDOMAIN, 253, DNS1123_SUBDOMAIN_MSG),
    "dns1035": (DNS1035_LABEL, 63, DNS1035_LABEL_MSG),
}


def check_dns(errs: FieldErrors, path: str, value: str, rule: str) -> None:
    pattern, limit, message = NAME_RULES[rule]
    if len(value) > limit:
        errs.invalid(path, value, f"must be no more than {limit} characters")
    elif not pattern.match(value):
        errs.invalid(path, value, message)


def qualified_name_problem(value: str) -> str | None:
    """Why `value` is not a qualified name (`[prefix/]name`, like label keys), or None."""
    prefix, slash, name = value.rpartition("/")
    if slash and not prefix:
        return "prefix part must be non-empty"
    if prefix and (len(prefix) > 253 or not DNS1123_SUBDOMAIN.match(prefix)):
        return "prefix part " + DNS1123_SUBDOMAIN_MSG
    if not name:
        return "name part must be non-empty"
    if len(name) > 63:
        return "name part must be no more than 63 characters"
    if not _QUALIFIED_NAME_PART.match(name):
        return QUALIFIED_NAME_MSG
    return None


def check_qualified_name(errs: FieldErrors, path: str, value: Any) -> None:
    if not isinstance(value, str):
        errs.invalid(path, value, "must be a string")
        return
    problem = qualified_name_problem(value)
    if problem:
        errs.invalid(path, value, problem)


def check_labels(errs: FieldErrors, path: str, labels: Any) -> None:
    if labels is None:
        return
    if not isinstance(labels, dict):
        errs.invalid(path, labels, "must be a map of string keys to string values")
        return
    for key, value in labels.items():
        check_qualified_name(errs, path, key)
        if not isinstance(value, str):
            errs.invalid(f"{path}", value, "label values must be strings")
        elif len(value) > 63:
            errs.invalid(path, value, "must be no more than 63 characters")
        elif not _LABEL_VALUE.match(value):
            errs.invalid(path, value, LABEL_VALUE_MSG)


def check_annotations(errs: FieldErrors, path: str, annotations: Any) -> None:
    if annotations is None:
        return
    if not isinstance(annotations, dict):
        errs.invalid(path, annotations, "must be a map of string keys to string values")
        return
    total = 0
    for key, value in annotations.items():
        check_qualified_name(errs, path, key.lower() if isinstance(key, str) else key)
        if not isinstance(value, str):
            errs.invalid(path, value, "annotation values must be strings")
        else:
            total += len(key) + len(value)
    if total > 256 * 1024:
        errs.too_long(path, 256 * 1024)


def check_metadata(errs: FieldErrors, meta: dict[str, Any], name_rule: str) -> None:
    name = meta.get("name")
    if not name:
        errs.required("metadata.name", "name or generateName is required")
    elif not isinstance(name, str):
        errs.invalid("metadata.name", name, "must be a string")
    else:
        check_dns(errs, "metadata.name", name, name_rule)
    check_labels(errs, "metadata.labels", meta.get("labels"))
    check_annotations(errs, "metadata.annotations", meta.get("annotations"))
    finalizers = meta.get("finalizers")
    if finalizers is not None:
        if not isinstance(finalizers, list):
            errs.invalid("metadata.finalizers", finalizers, "must be a list of strings")
        else:
            for i, finalizer in enumerate(finalizers):
                check_qualified_name(errs, f"metadata.finalizers[{i}]", finalizer)


def is_ip(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True


def is_cidr(value: Any) -> bool:
    if not isinstance(value, str) or "/" not in value:
        return False
    try:
        ipaddress.ip_network(value, strict=False)
    except ValueError:
        return False
    return True
