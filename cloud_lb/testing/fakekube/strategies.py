"""Per-resource defaulting and validation (the apiserver's "strategies").

The store owns what every resource shares (metadata, resourceVersion, conflicts,
finalizers); a `Strategy` adds what one resource type does on create, on update of the
main resource, on update of `/status`, and when an object is finally removed. Hooks run
under the store lock and report problems into a `FieldErrors`; a hook that reports an
error must leave no side effect (Services release what they allocated).

Services live in `services.py`; the smaller rules are here.
"""

from __future__ import annotations

import base64
import re
from typing import Any

from cloud_lb.testing.fakekube.conversion import to_external, validate_events_v1
from cloud_lb.testing.fakekube.errors import FieldErrors
from cloud_lb.testing.fakekube.resources import ResourceType
from cloud_lb.testing.fakekube.validation import DNS1123_SUBDOMAIN, check_dns, is_ip

_CONFIG_KEY = re.compile(r"^[-._a-zA-Z0-9]+$")


class Strategy:
    """Default behaviour: accept anything that passed the metadata checks."""

    def create(self, obj: dict[str, Any], errs: FieldErrors) -> None:
        pass

    def update(self, new: dict[str, Any], old: dict[str, Any], errs: FieldErrors) -> None:
        pass

    def update_status(self, new: dict[str, Any], old: dict[str, Any], errs: FieldErrors) -> None:
        pass

    def removed(self, obj: dict[str, Any]) -> None:
        pass


class NamespaceStrategy(Strategy):
    def create(self, obj: dict[str, Any], errs: FieldErrors) -> None:
        spec = obj.setdefault("spec", {})
        spec.setdefault("finalizers", ["kubernetes"])
        obj["status"] = {"phase": "Active"}

    def update(self, new: dict[str, Any], old: dict[str, Any], errs: FieldErrors) -> None:
        new["spec"] = old.get("spec", {})  # spec.finalizers changes only through /finalize


class PodStrategy(Strategy):
    def create(self, obj: dict[str, Any], errs: FieldErrors) -> None:
        if not (obj.get("spec") or {}).get("containers"):
            errs.required("spec.containers")
        obj["status"] = {"phase": "Pending", "qosClass": "BestEffort"}


def _check_config_keys(errs: FieldErrors, path: str, data: Any) -> None:
    if data is None:
        return
    if not isinstance(data, dict):
        errs.invalid(path, data, "must be a map")
        return
    for key in data:
        if not isinstance(key, str) or len(key) > 253 or not _CONFIG_KEY.match(key):
            errs.invalid(path, key, "a valid config key must consist of alphanumeric "
                         "characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or "
                         "'key-name', regex used for validation is '[-._a-zA-Z0-9]+')")


def _check_immutable_data(new: dict[str, Any], old: dict[str, Any], errs: FieldErrors,
                          fields: tuple[str, ...]) -> None:
    if not old.get("immutable"):
        return
    if not new.get("immutable"):
        errs.forbidden("immutable", "field is immutable when `immutable` is set")
    for field in fields:
        if new.get(field) != old.get(field):
            errs.forbidden(field, "field is immutable when `immutable` is set")


class ConfigMapStrategy(Strategy):
    def create(self, obj: dict[str, Any], errs: FieldErrors) -> None:
        _check_config_keys(errs, "data", obj.get("data"))
        _check_config_keys(errs, "binaryData", obj.get("binaryData"))

    def update(self, new: dict[str, Any], old: dict[str, Any], errs: FieldErrors) -> None:
        self.create(new, errs)
        _check_immutable_data(new, old, errs, ("data", "binaryData"))


class SecretStrategy(Strategy):
    """`stringData` is folded into `data` (base64) and never stored, as on a real server."""

    def _normalise(self, obj: dict[str, Any], errs: FieldErrors) -> None:
        string_data = obj.pop("stringData", None)
        if isinstance(string_data, dict):
            data = obj.setdefault("data", {}) or {}
            for key, value in string_data.items():
                data[key] = base64.b64encode(str(value).encode()).decode()
            obj["data"] = data
        obj.setdefault("type", "Opaque")
        _check_config_keys(errs, "data", obj.get("data"))
        for key, value in (obj.get("data") or {}).items():
            try:
                base64.b64decode(value or "", validate=True)
            except (ValueError, TypeError):
                # the value itself is secret: name the key only
                errs.invalid(f"data[{key}]", "<redacted>", "must be base64-encoded bytes")

    def create(self, obj: dict[str, Any], errs: FieldErrors) -> None:
        self._normalise(obj, errs)

    def update(self, new: dict[str, Any], old: dict[str, Any], errs: FieldErrors) -> None:
        self._normalise(new, errs)
        if new.get("type") != old.get("type"):
            errs.invalid("type", new.get("type"), "field is immutable")
        _check_immutable_data(new, old, errs, ("data",))


def check_lb_status(errs: FieldErrors, path: str, status: Any) -> None:
    """`status.loadBalancer` of a Service or an Ingress (ipMode defaulted to VIP)."""
    if not status:
        return
    ingress = status.get("ingress") if isinstance(status, dict) else None
    for i, entry in enumerate(ingress or []):
        here = f"{path}.ingress[{i}]"
        if not isinstance(entry, dict):
            errs.invalid(here, entry, "must be an object")
            continue
        ip, hostname = entry.get("ip"), entry.get("hostname")
        if ip and not is_ip(ip):
            errs.invalid(f"{here}.ip", ip, "must be a valid IP address")
        if hostname:
            if is_ip(hostname):
                errs.invalid(f"{here}.hostname", hostname, "must be a DNS name, not an IP address")
            else:
                check_dns(errs, f"{here}.hostname", hostname, "subdomain")
        if ip and not entry.get("ipMode"):
            entry["ipMode"] = "VIP"
        mode = entry.get("ipMode")
        if mode is not None:
            if not ip:
                errs.forbidden(f"{here}.ipMode", "may not be specified when `ip` is not set")
            elif mode not in ("VIP", "Proxy"):
                errs.not_supported(f"{here}.ipMode", mode, ["Proxy", "VIP"])
        for j, port in enumerate(entry.get("ports") or []):
            if not isinstance(port, dict) or not isinstance(port.get("port"), int):
                errs.required(f"{here}.ports[{j}].port")
            elif port.get("protocol") not in ("TCP", "UDP", "SCTP"):
                errs.not_supported(f"{here}.ports[{j}].protocol", port.get("protocol"),
                                   ["SCTP", "TCP", "UDP"])


def _check_backend(errs: FieldErrors, path: str, backend: Any) -> None:
    if not isinstance(backend, dict):
        errs.required(path)
        return
    service, resource = backend.get("service"), backend.get("resource")
    if service and resource:
        errs.invalid(path, "", "cannot set both service and resource backends")
    elif not service and not resource:
        errs.invalid(path, "", "must specify a service or resource backend")
    elif service:
        if not service.get("name"):
            errs.required(f"{path}.service.name")
        port = service.get("port") or {}
        if bool(port.get("name")) == bool(port.get("number")):
            errs.required(f"{path}.service.port", "must specify exactly one of name or number")


class IngressStrategy(Strategy):
    def create(self, obj: dict[str, Any], errs: FieldErrors) -> None:
        obj["status"] = {"loadBalancer": {}}
        self._validate(obj, errs)

    def update(self, new: dict[str, Any], old: dict[str, Any], errs: FieldErrors) -> None:
        self._validate(new, errs)

    def update_status(self, new: dict[str, Any], old: dict[str, Any], errs: FieldErrors) -> None:
        check_lb_status(errs, "status.loadBalancer", (new.get("status") or {}).get("loadBalancer"))

    def _validate(self, obj: dict[str, Any], errs: FieldErrors) -> None:
        spec = obj.get("spec") or {}
        rules = spec.get("rules") or []
        if not rules and not spec.get("defaultBackend"):
            errs.invalid("spec", spec, "either `defaultBackend` or `rules` must be specified")
        if spec.get("defaultBackend"):
            _check_backend(errs, "spec.defaultBackend", spec["defaultBackend"])
        for i, rule in enumerate(rules):
            host = rule.get("host")
            if host:
                bare = host[2:] if host.startswith("*.") else host
                if is_ip(host) or not DNS1123_SUBDOMAIN.match(bare):
                    errs.invalid(f"spec.rules[{i}].host", host, "must be a DNS name, not an IP "
                                 "address, optionally with a leading '*.' wildcard")
            for j, path in enumerate(((rule.get("http") or {}).get("paths")) or []):
                here = f"spec.rules[{i}].http.paths[{j}]"
                kind = path.get("pathType")
                if not kind:
                    errs.required(f"{here}.pathType", "pathType must be specified")
                elif kind not in ("Exact", "Prefix", "ImplementationSpecific"):
                    errs.not_supported(f"{here}.pathType", kind,
                                       ["Exact", "ImplementationSpecific", "Prefix"])
                value = path.get("path", "")
                if kind in ("Exact", "Prefix") and not str(value).startswith("/"):
                    errs.invalid(f"{here}.path", value, "must be an absolute path")
                _check_backend(errs, f"{here}.backend", path.get("backend"))
        for i, tls in enumerate(spec.get("tls") or []):
            for j, host in enumerate(tls.get("hosts") or []):
                if is_ip(host):
                    errs.invalid(f"spec.tls[{i}].hosts[{j}]", host, "must be a DNS name")


class IngressClassStrategy(Strategy):
    def create(self, obj: dict[str, Any], errs: FieldErrors) -> None:
        controller = (obj.get("spec") or {}).get("controller")
        if not controller:
            errs.required("spec.controller")

    def update(self, new: dict[str, Any], old: dict[str, Any], errs: FieldErrors) -> None:
        self.create(new, errs)
        before = (old.get("spec") or {}).get("controller")
        after = (new.get("spec") or {}).get("controller")
        if before != after:
            errs.invalid("spec.controller", after, "field is immutable")


class EndpointSliceStrategy(Strategy):
    def create(self, obj: dict[str, Any], errs: FieldErrors) -> None:
        family = obj.get("addressType")
        if not family:
            errs.required("addressType")
        elif family not in ("IPv4", "IPv6", "FQDN"):
            errs.not_supported("addressType", family, ["FQDN", "IPv4", "IPv6"])
        for i, endpoint in enumerate(obj.get("endpoints") or []):
            addresses = endpoint.get("addresses") if isinstance(endpoint, dict) else None
            if not addresses:
                errs.required(f"endpoints[{i}].addresses", "must contain at least one address")
                continue
            for j, address in enumerate(addresses):
                if family in ("IPv4", "IPv6") and not is_ip(address):
                    errs.invalid(f"endpoints[{i}].addresses[{j}]", address,
                                 "must be a valid IP address")

    def update(self, new: dict[str, Any], old: dict[str, Any], errs: FieldErrors) -> None:
        self.create(new, errs)
        if new.get("addressType") != old.get("addressType"):
            errs.invalid("addressType", new.get("addressType"), "field is immutable")


class EventsV1Strategy(Strategy):
    def __init__(self, rt: ResourceType) -> None:
        self.rt = rt

    def create(self, obj: dict[str, Any], errs: FieldErrors) -> None:
        validate_events_v1(to_external(self.rt, obj), errs)

    def update(self, new: dict[str, Any], old: dict[str, Any], errs: FieldErrors) -> None:
        self.create(new, errs)
