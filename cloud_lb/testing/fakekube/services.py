"""Services: the defaulting, validation and allocation the real apiserver does.

Order of work on a write, mirroring the apiserver's service REST storage:

1. on update, `drop_type_dependent_fields`: when the type changes away from one that
   needs node ports / a health-check node port / a load balancer class / an external
   traffic policy, and the user left the old value untouched, the field is cleared (and
   `status.loadBalancer` is cleared once the type is no longer LoadBalancer);
2. on update, `patch_allocated_values`: a PUT that omits an allocated value (clusterIP,
   a port's nodePort, healthCheckNodePort) keeps the old one;
3. defaulting (type ClusterIP, protocol TCP, targetPort = port, externalTrafficPolicy
   Cluster for external types, allocateLoadBalancerNodePorts true for LoadBalancer, IP
   families, sessionAffinity None);
4. validation, with messages naming the field like the real server's;
5. allocation: cluster IPs from the service CIDRs, node ports and health-check node ports
   from 30000-32767 without duplicates; an explicitly requested value that is taken or
   out of range is a 422 naming the field. Values no longer needed are released when
   the write commits, and all of them when the Service is finally removed.
"""

from __future__ import annotations

import re
from typing import Any

from cloud_lb.testing.fakekube.allocators import (
    AllocationError,
    IPAllocator,
    PortAllocator,
    Reservation,
)
from cloud_lb.testing.fakekube.errors import FieldErrors
from cloud_lb.testing.fakekube.strategies import Strategy, check_lb_status
from cloud_lb.testing.fakekube.validation import (
    check_dns,
    check_labels,
    is_cidr,
    is_ip,
    qualified_name_problem,
)

TYPES = ["ClusterIP", "ExternalName", "LoadBalancer", "NodePort"]
PROTOCOLS = ["SCTP", "TCP", "UDP"]
SOURCE_RANGES_ANNOTATION = "service.beta.kubernetes.io/load-balancer-source-ranges"
_IANA_SVC_NAME = re.compile(r"^[-a-z0-9]+$")

Spec = dict[str, Any]


def needs_cluster_ip(spec: Spec) -> bool:
    return spec.get("type", "ClusterIP") != "ExternalName"


def needs_node_ports(spec: Spec) -> bool:
    kind = spec.get("type")
    return kind == "NodePort" or (
        kind == "LoadBalancer" and spec.get("allocateLoadBalancerNodePorts") is not False)


def needs_health_check_port(spec: Spec) -> bool:
    return spec.get("type") == "LoadBalancer" and spec.get("externalTrafficPolicy") == "Local"


def externally_accessible(spec: Spec) -> bool:
    return spec.get("type") in ("NodePort", "LoadBalancer")


def _node_ports(spec: Spec) -> list[int]:
    return [p["nodePort"] for p in spec.get("ports") or []
            if isinstance(p, dict) and p.get("nodePort")]


def _all_ports(spec: Spec) -> set[int]:
    ports = set(_node_ports(spec))
    if spec.get("healthCheckNodePort"):
        ports.add(spec["healthCheckNodePort"])
    return ports


def _cluster_ips(spec: Spec) -> list[str]:
    return [ip for ip in spec.get("clusterIPs") or [] if ip and ip != "None"]


def drop_type_dependent_fields(new: dict[str, Any], old: dict[str, Any]) -> None:
    spec, before = new.setdefault("spec", {}), old.get("spec") or {}
    if needs_cluster_ip(before) and not needs_cluster_ip(spec):
        if spec.get("clusterIP") == before.get("clusterIP") and \
                spec.get("clusterIPs") == before.get("clusterIPs"):
            spec.pop("clusterIP", None)
            spec.pop("clusterIPs", None)
        for field in ("ipFamilies", "ipFamilyPolicy", "internalTrafficPolicy"):
            if spec.get(field) == before.get(field):
                spec.pop(field, None)
    if needs_node_ports(before) and not needs_node_ports(spec) and \
            _node_ports(spec) == _node_ports(before):
        for port in spec.get("ports") or []:
            if isinstance(port, dict):
                port.pop("nodePort", None)
    if needs_health_check_port(before) and not needs_health_check_port(spec) and \
            spec.get("healthCheckNodePort") == before.get("healthCheckNodePort"):
        spec.pop("healthCheckNodePort", None)
    if spec.get("type") != "LoadBalancer":
        for field in ("allocateLoadBalancerNodePorts", "loadBalancerClass"):
            if field in before and spec.get(field) == before.get(field):
                spec.pop(field, None)
        new.setdefault("status", {})["loadBalancer"] = {}
    if not externally_accessible(spec) and \
            spec.get("externalTrafficPolicy") == before.get("externalTrafficPolicy"):
        spec.pop("externalTrafficPolicy", None)


def patch_allocated_values(spec: Spec, before: Spec) -> None:
    if needs_cluster_ip(before) and needs_cluster_ip(spec):
        if not spec.get("clusterIP") and before.get("clusterIP"):
            spec["clusterIP"] = before["clusterIP"]
        if not spec.get("clusterIPs") and before.get("clusterIPs"):
            spec["clusterIPs"] = list(before["clusterIPs"])
    if needs_node_ports(before) and needs_node_ports(spec):
        used = set(_node_ports(before)) & set(_node_ports(spec))
        by_name = {p.get("name", ""): p.get("nodePort") for p in before.get("ports") or []}
        for port in spec.get("ports") or []:
            if isinstance(port, dict) and not port.get("nodePort"):
                old = by_name.get(port.get("name", ""))
                if old and old not in used:
                    port["nodePort"] = old
    if needs_health_check_port(before) and needs_health_check_port(spec) and \
            not spec.get("healthCheckNodePort"):
        if before.get("healthCheckNodePort"):
            spec["healthCheckNodePort"] = before["healthCheckNodePort"]


def default_spec(spec: Spec, dual_stack: bool) -> None:
    spec.setdefault("type", "ClusterIP")
    spec.setdefault("sessionAffinity", "None")
    if spec["sessionAffinity"] == "ClientIP":
        config = spec.setdefault("sessionAffinityConfig", {}).setdefault("clientIP", {})
        config.setdefault("timeoutSeconds", 10800)
    for port in spec.get("ports") or []:
        if isinstance(port, dict):
            port.setdefault("protocol", "TCP")
            if port.get("targetPort") in (None, 0, ""):
                port["targetPort"] = port.get("port")
    if externally_accessible(spec):
        spec.setdefault("externalTrafficPolicy", "Cluster")
    if spec["type"] == "LoadBalancer":
        spec.setdefault("allocateLoadBalancerNodePorts", True)
    if not needs_cluster_ip(spec):
        return
    spec.setdefault("internalTrafficPolicy", "Cluster")
    ip, ips = spec.get("clusterIP"), spec.get("clusterIPs")
    if ip and not ips:
        spec["clusterIPs"] = [ip]
    elif ips and not ip:
        spec["clusterIP"] = ips[0]
    policy = spec.setdefault("ipFamilyPolicy", "SingleStack")
    if not spec.get("ipFamilies"):
        families = ["IPv6" if ":" in x else "IPv4" for x in _cluster_ips(spec)] or ["IPv4"]
        if policy in ("PreferDualStack", "RequireDualStack") and dual_stack and len(families) == 1:
            families.append("IPv6" if families[0] == "IPv4" else "IPv4")
        spec["ipFamilies"] = families


def _check_ports(spec: Spec, errs: FieldErrors) -> None:
    ports = spec.get("ports") or []
    if not ports and spec["type"] != "ExternalName" and spec.get("clusterIP") != "None":
        errs.required("spec.ports")
    names: set[str] = set()
    seen: set[tuple[Any, Any]] = set()
    node_ports: set[tuple[Any, Any]] = set()
    for i, port in enumerate(ports):
        here = f"spec.ports[{i}]"
        if not isinstance(port, dict):
            errs.invalid(here, port, "must be an object")
            continue
        name = port.get("name", "")
        if len(ports) > 1 and not name:
            errs.required(f"{here}.name")
        elif name:
            check_dns(errs, f"{here}.name", name, "label")
            if name in names:
                errs.duplicate(f"{here}.name", name)
            names.add(name)
        number = port.get("port")
        if not isinstance(number, int) or isinstance(number, bool) or not 1 <= number <= 65535:
            errs.invalid(f"{here}.port", number, "must be between 1 and 65535, inclusive")
        protocol = port.get("protocol")
        if protocol not in PROTOCOLS:
            errs.not_supported(f"{here}.protocol", protocol, PROTOCOLS)
        if (number, protocol) in seen:
            errs.duplicate(here, {"port": number, "protocol": protocol})
        seen.add((number, protocol))
        target = port.get("targetPort")
        if isinstance(target, int) and not isinstance(target, bool):
            if not 1 <= target <= 65535:
                errs.invalid(f"{here}.targetPort", target, "must be between 1 and 65535, inclusive")
        elif not (isinstance(target, str) and len(target) <= 15 and _IANA_SVC_NAME.match(target)
                  and re.search("[a-z]", target) and "--" not in target
                  and not target.startswith("-") and not target.endswith("-")):
            errs.invalid(f"{here}.targetPort", target, "must contain only alpha-numeric "
                         "characters (a-z, 0-9), and hyphens (-), at most 15 characters")
        node_port = port.get("nodePort")
        if node_port:
            if not externally_accessible(spec):
                errs.forbidden(f"{here}.nodePort",
                               f"may not be used when `type` is '{spec['type']}'")
            elif not isinstance(node_port, int) or isinstance(node_port, bool):
                errs.invalid(f"{here}.nodePort", node_port, "must be an integer")
            elif (node_port, protocol) in node_ports:
                errs.duplicate(f"{here}.nodePort", node_port)
            node_ports.add((node_port, protocol))


def _check_ips(spec: Spec, old: Spec | None, errs: FieldErrors) -> None:
    kind = spec["type"]
    if kind == "ExternalName":
        name = spec.get("externalName")
        if not name:
            errs.required("spec.externalName")
        else:
            check_dns(errs, "spec.externalName", name.rstrip("."), "subdomain")
        if spec.get("clusterIP") or spec.get("clusterIPs"):
            errs.forbidden("spec.clusterIPs", "may not be set for ExternalName services")
        return
    policy = spec.get("ipFamilyPolicy")
    if policy not in ("SingleStack", "PreferDualStack", "RequireDualStack"):
        errs.not_supported("spec.ipFamilyPolicy", policy,
                           ["PreferDualStack", "RequireDualStack", "SingleStack"])
    families = spec.get("ipFamilies") or []
    for i, family in enumerate(families):
        if family not in ("IPv4", "IPv6"):
            errs.not_supported(f"spec.ipFamilies[{i}]", family, ["IPv4", "IPv6"])
        elif family in families[:i]:
            errs.duplicate(f"spec.ipFamilies[{i}]", family)
    if len(families) > 2 or (policy == "SingleStack" and len(families) > 1):
        errs.invalid("spec.ipFamilies", families,
                     "when spec.ipFamilyPolicy is SingleStack, only one family may be specified"
                     if policy == "SingleStack" else "may specify no more than one IP per family")
    if policy == "RequireDualStack" and len(families) != 2:
        errs.invalid("spec.ipFamilies", families, "this cluster is not configured for dual-stack")
    ips = spec.get("clusterIPs") or []
    if spec.get("clusterIP") and ips and spec["clusterIP"] != ips[0]:
        errs.invalid("spec.clusterIPs[0]", ips[0], "must be same as clusterIP")
    for i, ip in enumerate(ips):
        here = f"spec.clusterIPs[{i}]"
        if ip == "None":
            if i > 0 or kind != "ClusterIP":
                errs.invalid(here, ip, f"may not be set to 'None' for {kind} services")
        elif not is_ip(ip):
            errs.invalid(here, ip, "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)")
        elif i < len(families) and ("IPv6" if ":" in ip else "IPv4") != families[i]:
            errs.invalid(here, ip, f"expected an {families[i]} value as indicated by "
                                   f"`ipFamilies[{i}]`")
    if old is not None and needs_cluster_ip(old):
        before = old.get("clusterIPs") or []
        for i, ip in enumerate(before):
            if i < len(ips) and ips[i] != ip:
                errs.invalid(f"spec.clusterIPs[{i}]", ips[i], "may not change once set")
    for i, ip in enumerate(spec.get("externalIPs") or []):
        if not is_ip(ip):
            errs.invalid(f"spec.externalIPs[{i}]", ip, "must be a valid IP address")


def _check_load_balancer(spec: Spec, old: Spec | None, meta: dict[str, Any],
                         errs: FieldErrors) -> None:
    is_lb = spec["type"] == "LoadBalancer"
    ranges = spec.get("loadBalancerSourceRanges")
    if ranges:
        if not is_lb:
            errs.forbidden("spec.loadBalancerSourceRanges",
                           "may only be used when `type` is 'LoadBalancer'")
        for i, cidr in enumerate(ranges):
            if not is_cidr(cidr):
                errs.invalid(f"spec.loadBalancerSourceRanges[{i}]", cidr,
                             "must be a valid CIDR, (e.g. 10.9.8.0/24 or 2001:db8::/64)")
    annotation = (meta.get("annotations") or {}).get(SOURCE_RANGES_ANNOTATION)
    if is_lb and annotation is not None and annotation.strip():
        if not all(is_cidr(c.strip()) for c in annotation.split(",")):
            errs.invalid(f"metadata.annotations[{SOURCE_RANGES_ANNOTATION}]", annotation,
                         "must be a list of IP ranges. For example, 10.240.0.0/24,10.250.0.0/24 ")
    if "allocateLoadBalancerNodePorts" in spec and not is_lb:
        errs.forbidden("spec.allocateLoadBalancerNodePorts",
                       "may only be used when `type` is 'LoadBalancer'")
    lb_class = spec.get("loadBalancerClass")
    if lb_class is not None:
        if not is_lb:
            errs.forbidden("spec.loadBalancerClass",
                           "may only be used when `type` is 'LoadBalancer'")
        else:
            problem = (qualified_name_problem(lb_class) if isinstance(lb_class, str)
                       else "must be a string")
            if problem:
                errs.invalid("spec.loadBalancerClass", lb_class, problem)
    if old is not None and is_lb and old.get("type") == "LoadBalancer" and \
            old.get("loadBalancerClass") != lb_class:
        errs.invalid("spec.loadBalancerClass", lb_class, "may not change once set")
    if spec.get("loadBalancerIP") and not is_ip(spec["loadBalancerIP"]):
        errs.invalid("spec.loadBalancerIP", spec["loadBalancerIP"], "must be a valid IP address")
    hcnp = spec.get("healthCheckNodePort")
    if hcnp and not needs_health_check_port(spec):
        errs.invalid("spec.healthCheckNodePort", hcnp, "may only be set when `type` is "
                     "'LoadBalancer' and `externalTrafficPolicy` is 'Local'")
    etp = spec.get("externalTrafficPolicy")
    if etp is not None:
        if etp not in ("Cluster", "Local"):
            errs.not_supported("spec.externalTrafficPolicy", etp, ["Cluster", "Local"])
        elif not externally_accessible(spec):
            errs.invalid("spec.externalTrafficPolicy", etp,
                         "may only be set for externally-accessible services")


def validate_spec(spec: Spec, old: Spec | None, meta: dict[str, Any], errs: FieldErrors) -> None:
    if spec["type"] not in TYPES:
        errs.not_supported("spec.type", spec["type"], TYPES)
        return
    _check_ports(spec, errs)
    _check_ips(spec, old, errs)
    _check_load_balancer(spec, old, meta, errs)
    if spec.get("sessionAffinity") not in ("None", "ClientIP"):
        errs.not_supported("spec.sessionAffinity", spec.get("sessionAffinity"),
                           ["ClientIP", "None"])
    if spec.get("internalTrafficPolicy") not in (None, "Cluster", "Local"):
        errs.not_supported("spec.internalTrafficPolicy", spec["internalTrafficPolicy"],
                           ["Cluster", "Local"])
    check_labels(errs, "spec.selector", spec.get("selector"))


class ServiceStrategy(Strategy):
    def __init__(self, ports: PortAllocator, ips: dict[str, IPAllocator]) -> None:
        self.ports = ports
        self.ips = ips

    @property
    def dual_stack(self) -> bool:
        return "IPv6" in self.ips and "IPv4" in self.ips

    def create(self, obj: dict[str, Any], errs: FieldErrors) -> None:
        spec = obj.setdefault("spec", {})
        default_spec(spec, self.dual_stack)
        validate_spec(spec, None, obj["metadata"], errs)
        obj["status"] = {"loadBalancer": {}}
        if not errs:
            self._allocate(spec, {}, errs)

    def update(self, new: dict[str, Any], old: dict[str, Any], errs: FieldErrors) -> None:
        before = old.get("spec") or {}
        drop_type_dependent_fields(new, old)
        spec = new.setdefault("spec", {})
        patch_allocated_values(spec, before)
        default_spec(spec, self.dual_stack)
        validate_spec(spec, before, new["metadata"], errs)
        if not errs:
            self._allocate(spec, before, errs)

    def update_status(self, new: dict[str, Any], old: dict[str, Any], errs: FieldErrors) -> None:
        status = new.get("status") or {}
        check_lb_status(errs, "status.loadBalancer", status.get("loadBalancer"))
        for i, cond in enumerate(status.get("conditions") or []):
            for field in ("type", "status", "reason", "lastTransitionTime"):
                if not isinstance(cond, dict) or not cond.get(field):
                    errs.required(f"status.conditions[{i}].{field}")

    def removed(self, obj: dict[str, Any]) -> None:
        spec = obj.get("spec") or {}
        for port in _all_ports(spec):
            self.ports.release(port)
        for ip in _cluster_ips(spec):
            self.ips["IPv6" if ":" in ip else "IPv4"].release(ip)

    def _allocate(self, spec: Spec, before: Spec, errs: FieldErrors) -> None:
        """Take what `spec` needs beyond `before`, give back what it no longer holds."""
        held_ports, held_ips = _all_ports(before), set(_cluster_ips(before))
        txn = Reservation(self.ports, self.ips)
        try:
            self._take_ips(spec, held_ips, txn)
            self._take_ports(spec, held_ports, txn)
        except _FieldAllocationError as exc:
            txn.rollback()
            errs.invalid(exc.path, exc.value, str(exc))
            return
        for port in held_ports - _all_ports(spec):
            self.ports.release(port)
        for ip in held_ips - set(_cluster_ips(spec)):
            self.ips["IPv6" if ":" in ip else "IPv4"].release(ip)

    def _take_ips(self, spec: Spec, held: set[str], txn: Reservation) -> None:
        if not needs_cluster_ip(spec) or spec.get("clusterIP") == "None":
            return
        ips = list(spec.get("clusterIPs") or [])
        for i, family in enumerate(spec.get("ipFamilies") or []):
            if family not in self.ips:
                raise _FieldAllocationError(f"spec.ipFamilies[{i}]", family,
                                            "this cluster has no service CIDR for this family")
            requested = ips[i] if i < len(ips) else None
            if requested and requested in held:
                continue
            try:
                ip = txn.ip(family, requested)
            except AllocationError as exc:
                raise _FieldAllocationError(f"spec.clusterIPs[{i}]", requested, str(exc)) from None
            if i < len(ips):
                ips[i] = ip
            else:
                ips.append(ip)
        spec["clusterIPs"], spec["clusterIP"] = ips, ips[0]

    def _take_ports(self, spec: Spec, held: set[int], txn: Reservation) -> None:
        taken_here: set[int] = set()

        def take(path: str, requested: int | None) -> int:
            if requested and (requested in held or requested in taken_here):
                return requested
            try:
                port = txn.port(requested)
            except AllocationError as exc:
                raise _FieldAllocationError(path, requested, str(exc)) from None
            taken_here.add(port)
            return port

        want_all = needs_node_ports(spec)
        for i, port in enumerate(spec.get("ports") or []):
            if port.get("nodePort") or want_all:
                port["nodePort"] = take(f"spec.ports[{i}].nodePort", port.get("nodePort"))
        if needs_health_check_port(spec):
            spec["healthCheckNodePort"] = take("spec.healthCheckNodePort",
                                               spec.get("healthCheckNodePort"))


class _FieldAllocationError(Exception):
    def __init__(self, path: str, value: Any, message: str) -> None:
        super().__init__(message)
        self.path = path
        self.value = value
