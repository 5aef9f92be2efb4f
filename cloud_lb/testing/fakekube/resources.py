"""The resource table: every API resource the fake serves, and how it behaves.

One row per (group, version, plural). Behaviour that differs between resources in the
real apiserver is a column here rather than an `if` in the handlers: which names are
valid, whether a `status` subresource exists (then writes to the main resource ignore
status and writes to `/status` change only status), whether `metadata.generation` is
kept, whether PUT may create, whether DELETE answers the object or a Status, and which
field selectors the resource supports.

`events.k8s.io/v1` events and core `v1` events are one stored collection, as in the real
server (`storage="events"`): objects are kept in the core form and converted on the way
in and out (`conversion.py`).
"""

from __future__ import annotations

from dataclasses import dataclass

ALL_VERBS = ("create", "delete", "deletecollection", "get", "list", "patch", "update", "watch")
SUBRESOURCE_VERBS = ("get", "patch", "update")


@dataclass(frozen=True)
class ResourceType:
    group: str
    version: str
    plural: str
    singular: str
    kind: str
    namespaced: bool
    subresources: tuple[str, ...] = ()
    short_names: tuple[str, ...] = ()
    name_rule: str = "subdomain"  # see validation.NAME_RULES
    generation: bool = False  # metadata.generation kept and bumped on spec change
    create_on_update: bool = False  # PUT of a missing object creates it
    return_deleted_object: bool = False  # DELETE answers the object, not a Status
    status_on_create: str = "clear"  # "clear" | "keep": what create does with .status
    field_selectors: tuple[str, ...] = ()  # beyond metadata.name / metadata.namespace
    storage: str = ""  # shared storage key (events); default group/plural

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def list_kind(self) -> str:
        return f"{self.kind}List"

    @property
    def key(self) -> str:
        """Where objects are stored; two resource types may share it (events)."""
        return self.storage or f"{self.group}/{self.plural}"

    @property
    def has_status(self) -> bool:
        return "status" in self.subresources

    def selectable(self, field: str) -> bool:
        return field in ("metadata.name", "metadata.namespace") or field in self.field_selectors


_EVENT_FIELDS = (
    "involvedObject.kind", "involvedObject.namespace", "involvedObject.name",
    "involvedObject.uid", "involvedObject.apiVersion", "involvedObject.resourceVersion",
    "involvedObject.fieldPath", "reason", "reportingComponent", "source", "type",
)

RESOURCES: tuple[ResourceType, ...] = (
    ResourceType("", "v1", "namespaces", "namespace", "Namespace", False, ("status",),
                 ("ns",), name_rule="label", status_on_create="clear",
                 field_selectors=("status.phase",)),
    ResourceType("", "v1", "nodes", "node", "Node", False, ("status",), ("no",),
                 status_on_create="keep", field_selectors=("spec.unschedulable",)),
    ResourceType("", "v1", "services", "service", "Service", True, ("status",), ("svc",),
                 name_rule="dns1035", generation=True, return_deleted_object=True,
                 field_selectors=("spec.type", "spec.clusterIP")),
    ResourceType("", "v1", "endpoints", "endpoints", "Endpoints", True, (), ("ep",),
                 create_on_update=True),
    ResourceType("", "v1", "pods", "pod", "Pod", True, ("status",), ("po",),
                 generation=True, return_deleted_object=True,
                 field_selectors=("spec.nodeName", "spec.restartPolicy", "spec.schedulerName",
                                  "spec.serviceAccountName", "spec.hostNetwork",
                                  "status.phase", "status.podIP", "status.nominatedNodeName")),
    ResourceType("", "v1", "secrets", "secret", "Secret", True, field_selectors=("type",)),
    ResourceType("", "v1", "configmaps", "configmap", "ConfigMap", True, (), ("cm",)),
    ResourceType("", "v1", "events", "event", "Event", True, (), ("ev",),
                 create_on_update=True, field_selectors=_EVENT_FIELDS, storage="events"),
    ResourceType("events.k8s.io", "v1", "events", "event", "Event", True, (), ("ev",),
                 create_on_update=True, field_selectors=_EVENT_FIELDS, storage="events"),
    ResourceType("discovery.k8s.io", "v1", "endpointslices", "endpointslice", "EndpointSlice",
                 True),
    ResourceType("networking.k8s.io", "v1", "ingresses", "ingress", "Ingress", True,
                 ("status",), ("ing",), generation=True),
    ResourceType("networking.k8s.io", "v1", "ingressclasses", "ingressclass", "IngressClass",
                 False, generation=True),
    ResourceType("coordination.k8s.io", "v1", "leases", "lease", "Lease", True,
                 create_on_update=True),
)

_BY_PATH = {(r.group, r.version, r.plural): r for r in RESOURCES}


def lookup(group: str, version: str, plural: str) -> ResourceType | None:
    return _BY_PATH.get((group, version, plural))


def groups() -> dict[str, list[str]]:
    """group -> versions, in table order ("" is the core group)."""
    found: dict[str, list[str]] = {}
    for r in RESOURCES:
        versions = found.setdefault(r.group, [])
        if r.version not in versions:
            versions.append(r.version)
    return found


def in_group_version(group: str, version: str) -> list[ResourceType]:
    return [r for r in RESOURCES if r.group == group and r.version == version]


def namespace_resource() -> ResourceType:
    return _BY_PATH[("", "v1", "namespaces")]
