"""Pod targets from EndpointSlices, for Services without node ports
(`spec.allocateLoadBalancerNodePorts: false`) on clouds that can target pods.

A slice belongs to the Service by the `kubernetes.io/service-name` label (and the
namespace). A Service port matches the slice port of the same name and protocol (an
unnamed Service port matches the unnamed slice port). An endpoint counts when its
`conditions.ready` is not false (the API says unset means ready). FQDN slices and
addresses of a family the load balancer does not serve are skipped. EndpointSlices are
written by the cluster, not the user, so malformed entries are skipped, not reported.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping
from typing import Any

from cloud_lb.model import IPFamily, PodTarget
from cloud_lb.translate.ports import ServicePort

SERVICE_NAME_LABEL = "kubernetes.io/service-name"


def _m(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _l(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _slices_of(namespace: str, name: str, slices: Iterable[Mapping[str, Any]]
               ) -> list[Mapping[str, Any]]:
    out = []
    for s in slices:
        meta = _m(_m(s).get("metadata"))
        if _m(meta.get("labels")).get(SERVICE_NAME_LABEL) != name:
            continue
        if meta.get("namespace", namespace) != namespace:
            continue
        out.append(s)
    return out


def _slice_port(slice_: Mapping[str, Any], port: ServicePort) -> int | None:
    for entry in _l(slice_.get("ports")):
        entry = _m(entry)
        if (entry.get("name") or "") != port.port_name:
            continue
        if (entry.get("protocol") or "TCP") != port.protocol.value:
            continue
        number = entry.get("port")
        if isinstance(number, int) and not isinstance(number, bool) and 1 <= number <= 65535:
            return number
    return None


def pod_targets(*, namespace: str, name: str, ports: list[ServicePort],
                slices: Iterable[Mapping[str, Any]], families: tuple[IPFamily, ...]
                ) -> tuple[PodTarget, ...]:
    wanted_families = {f.value for f in families}
    found: set[tuple[str, str, int]] = set()
    for slice_ in _slices_of(namespace, name, slices):
        if slice_.get("addressType") not in wanted_families:
            continue
        for port in ports:
            number = _slice_port(slice_, port)
            if number is None:
                continue
            for endpoint in _l(slice_.get("endpoints")):
                endpoint = _m(endpoint)
                if _m(endpoint.get("conditions")).get("ready") is False:
                    continue
                for address in _l(endpoint.get("addresses")):
                    try:
                        ip = ipaddress.ip_address(address)
                    except (TypeError, ValueError):
                        continue
                    if f"IPv{ip.version}" in wanted_families:
                        found.add((port.name, str(ip), number))
    return tuple(
        PodTarget(address=addr, port=number, listener=listener)
        for listener, addr, number in sorted(found)
    )
