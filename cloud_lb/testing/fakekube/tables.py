"""Server-side printing (`meta.k8s.io/v1` Table) for kubectl.

kubectl asks for `application/json;as=Table;g=meta.k8s.io;v=v1` and prints the columns
the server chose. Only kubectl asks for this; the official Python client never does.
The columns follow the real printers for the resources people look at (services, nodes,
namespaces, ingresses, pods, leases); every other resource gets Name and Age.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from cloud_lb.testing.fakekube.resources import ResourceType

Obj = dict[str, Any]


def wants_table(accept: str) -> bool:
    return "as=Table" in accept.replace(" ", "")


def human_age(timestamp: str | None) -> str:
    """k8s.io/apimachinery duration.HumanDuration, roughly."""
    if not timestamp:
        return "<unknown>"
    try:
        then = datetime.strptime(timestamp, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    except ValueError:
        return "<unknown>"
    seconds = max(0, int((datetime.now(UTC) - then).total_seconds()))
    if seconds < 120:
        return f"{seconds}s"
    minutes = seconds // 60
    if minutes < 10:
        return f"{minutes}m{seconds % 60}s" if seconds % 60 else f"{minutes}m"
    if minutes < 180:
        return f"{minutes}m"
    hours = minutes // 60
    if hours < 8:
        return f"{hours}h{minutes % 60}m" if minutes % 60 else f"{hours}h"
    if hours < 48:
        return f"{hours}h"
    return f"{hours // 24}d"


def _age(obj: Obj) -> str:
    return human_age(obj["metadata"].get("creationTimestamp"))


def _service_external(obj: Obj) -> str:
    spec = obj.get("spec") or {}
    if spec.get("type") == "ExternalName":
        return spec.get("externalName", "<none>")
    found = [i.get("ip") or i.get("hostname") for i in
             ((obj.get("status") or {}).get("loadBalancer") or {}).get("ingress") or []]
    found += spec.get("externalIPs") or []
    if found:
        return ",".join(x for x in found if x)
    return "<pending>" if spec.get("type") == "LoadBalancer" else "<none>"


def _service_ports(obj: Obj) -> str:
    ports = []
    for p in (obj.get("spec") or {}).get("ports") or []:
        text = str(p.get("port"))
        if p.get("nodePort"):
            text += f":{p['nodePort']}"
        ports.append(f"{text}/{p.get('protocol', 'TCP')}")
    return ",".join(ports) or "<none>"


def _node_status(obj: Obj) -> str:
    conditions = (obj.get("status") or {}).get("conditions") or []
    ready = next((c for c in conditions if c.get("type") == "Ready"), None)
    text = "Ready" if ready and ready.get("status") == "True" else (
        "NotReady" if ready else "Unknown")
    if (obj.get("spec") or {}).get("unschedulable"):
        text += ",SchedulingDisabled"
    return text


def _node_roles(obj: Obj) -> str:
    prefix = "node-role.kubernetes.io/"
    roles = [k[len(prefix):] for k in obj["metadata"].get("labels") or {} if k.startswith(prefix)]
    return ",".join(sorted(roles)) or "<none>"


def _ingress_hosts(obj: Obj) -> str:
    hosts = [r.get("host") for r in (obj.get("spec") or {}).get("rules") or [] if r.get("host")]
    return ",".join(hosts) or "*"


def _ingress_address(obj: Obj) -> str:
    found = [i.get("ip") or i.get("hostname") for i in
             ((obj.get("status") or {}).get("loadBalancer") or {}).get("ingress") or []]
    return ",".join(x for x in found if x)


Column = tuple[str, Callable[[Obj], Any]]
_NAME: Column = ("Name", lambda o: o["metadata"]["name"])
_AGE: Column = ("Age", _age)
_COLUMNS: dict[str, list[Column]] = {
    "Service": [_NAME, ("Type", lambda o: o.get("spec", {}).get("type", "")),
                ("Cluster-IP", lambda o: o.get("spec", {}).get("clusterIP", "<none>")),
                ("External-IP", _service_external), ("Port(s)", _service_ports), _AGE],
    "Node": [_NAME, ("Status", _node_status), ("Roles", _node_roles), _AGE,
             ("Version", lambda o: ((o.get("status") or {}).get("nodeInfo") or {})
              .get("kubeletVersion", ""))],
    "Namespace": [_NAME, ("Status", lambda o: (o.get("status") or {}).get("phase", "")), _AGE],
    "Ingress": [_NAME, ("Class", lambda o: (o.get("spec") or {}).get("ingressClassName")
                        or "<none>"),
                ("Hosts", _ingress_hosts), ("Address", _ingress_address),
                ("Ports", lambda o: "80, 443" if (o.get("spec") or {}).get("tls") else "80"),
                _AGE],
    "Pod": [_NAME, ("Status", lambda o: (o.get("status") or {}).get("phase", "")),
            ("Node", lambda o: (o.get("spec") or {}).get("nodeName") or "<none>"), _AGE],
    "Lease": [_NAME, ("Holder", lambda o: (o.get("spec") or {}).get("holderIdentity", "")),
              _AGE],
}


def to_table(rt: ResourceType, items: list[Obj], list_meta: dict[str, Any],
             include_object: str) -> dict[str, Any]:
    columns = _COLUMNS.get(rt.kind, [_NAME, _AGE])
    rows = []
    for obj in items:
        row: dict[str, Any] = {"cells": [fn(obj) for _, fn in columns]}
        if include_object == "Object":
            row["object"] = obj
        elif include_object != "None":
            row["object"] = {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1",
                             "metadata": obj["metadata"]}
        rows.append(row)
    return {
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": list_meta,
        "columnDefinitions": [
            {"name": name, "type": "string", "format": "name" if name == "Name" else "",
             "description": "", "priority": 0}
            for name, _ in columns
        ],
        "rows": rows,
    }
