"""The gcp provider: one regional passthrough Network Load Balancer per Service, and
one global external Application Load Balancer per Ingress (`ingress.py`, which this
class hands every spec and ref of kind Ingress).

Each verb reads what the cloud has, checks ownership of every resource carrying our
names *before* changing anything, renders what the spec wants (`render.py`,
`firewalls.py`), diffs (`diff.py`), and applies only the difference, each mutation
awaited through its operation within the call's deadline (`clients.py`,
`operations.py`). The shared per-zone instance groups are synced first
(`instance_groups.py`), since backend services reference them.

Services: deletion goes in dependency order: forwarding rules, backend service, health check,
firewalls, our address (never one the user reserved), then the shared instance groups
if no other backend service uses them. Any step that finds the cloud still catching up
(`resourceInUseByAnotherResource`, `resourceNotReady`, a slow operation) raises
`PendingError`; the next call resumes where this one stopped.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from google.api_core import exceptions as gexc

from cloud_lb.model import (
    IngressPoint,
    IPMode,
    LBRef,
    LoadBalancerSpec,
    LoadBalancerStatus,
    ObjectKind,
)
from cloud_lb.provider import (
    Capabilities,
    Change,
    InvalidSpecError,
    OwnershipError,
    ProviderContext,
)
from providers.gcp import annotations as gce_annotations
from providers.gcp import diff, inventory, naming, render
from providers.gcp.clients import Compute
from providers.gcp.config import GCPConfig
from providers.gcp.errors import cloud_errors
from providers.gcp.firewalls import firewall_rules
from providers.gcp.ingress import IngressBalancers
from providers.gcp.instance_groups import InstanceGroups, desired_members

log = logging.getLogger(__name__)
Json = dict[str, Any]
PROTOCOLS = ("TCP", "UDP")

CAPABILITIES = Capabilities(
    tcp=True,
    udp=True,
    mixed_protocols=True,
    l7=True,
    source_ranges=True,
    internal=True,
    static_ip=True,
)


class GCPProvider:
    name = "gcp"
    capabilities = CAPABILITIES

    def __init__(
        self, config: GCPConfig, context: ProviderContext, *, compute: Compute | None = None
    ) -> None:
        self.config = config
        self.cluster = context.cluster_name
        self.recorder = context.recorder
        self.compute = compute or Compute(config, context.recorder)
        network = render.network_link(config.project, config.network)
        self.placement = render.Placement(
            project=config.project,
            region=config.region,
            network=network,
            subnetwork=(
                render.Placement(config.project, config.region, network, None).subnetwork_link(
                    config.subnetwork
                )
                if config.subnetwork
                else None
            ),
            target_tags=tuple(config.node_target_tags),
            target_service_accounts=tuple(config.node_service_accounts),
            hc_interval=config.health_check.interval_seconds,
            hc_timeout=config.health_check.timeout_seconds,
            hc_healthy=config.health_check.healthy_threshold,
            hc_unhealthy=config.health_check.unhealthy_threshold,
        )
        self._zone_list: list[str] | None = list(config.zones) if config.zones else None
        self._zone_lock = threading.Lock()
        self.groups = InstanceGroups(
            self.compute,
            cluster=self.cluster,
            network=network,
            zones=self._zones,
            cache_seconds=config.instance_group_cache_seconds,
        )
        self.ingresses = IngressBalancers(
            self.compute, placement=self.placement, groups=self.groups, deadline=self._deadline
        )
        # backend service name -> instance-group links last applied, so update_backends
        # skips re-reading backend services whose zones did not change
        self._applied_groups: dict[str, list[str]] = {}

    def close(self) -> None:
        self.compute.close()

    def _zones(self) -> list[str]:
        with self._zone_lock:
            if self._zone_list is None:
                with cloud_errors(f"read region {self.config.region}"):
                    self._zone_list = self.compute.region_zones()
            return self._zone_list

    def _deadline(self) -> float:
        return time.monotonic() + self.config.operation_deadline_seconds

    def _check_ref(self, ref: LBRef) -> None:
        if ref.cluster != self.cluster:
            raise OwnershipError(f"{ref} belongs to cluster {ref.cluster!r}, not {self.cluster!r}")

    # -- reading ------------------------------------------------------------------------

    def _owned(self, kind: str, name: str, ref: LBRef) -> Json | None:
        """The resource named `name` if it exists; OwnershipError if it is not ref's."""
        with cloud_errors(f"read {kind} {name}"):
            body = self.compute.get(kind, name)
        if body is not None and not naming.owned_by(body.get("description"), ref):
            raise OwnershipError(
                f"{kind} {name} exists but is not owned by {ref} of cluster "
                f"{ref.cluster!r}; not touching it"
            )
        return body

    def _read(self, ref: LBRef) -> diff.Actual:
        lb = naming.lb_name(ref)
        rules = {}
        for proto in PROTOCOLS:
            name = naming.forwarding_rule_name(ref, proto)
            if (body := self._owned("forwardingRule", name, ref)) is not None:
                rules[name] = body
        walls = {}
        for name in (naming.firewall_name(ref), naming.health_check_firewall_name(ref)):
            if (body := self._owned("firewall", name, ref)) is not None:
                walls[name] = body
        return diff.Actual(
            address=self._owned("address", lb, ref),
            health_check=self._owned("healthCheck", lb, ref),
            backend_service=self._owned("backendService", lb, ref),
            forwarding_rules=rules,
            firewalls=walls,
        )

    def _address_choice(
        self, spec: LoadBalancerSpec, options: gce_annotations.GCPOptions, actual: diff.Actual
    ) -> tuple[Json | None, str | None]:
        """(our address body, None) or (None, the user's reserved IP) for `spec`."""
        ours = render.address(spec, options, self.placement)
        ip = spec.static_ip
        if ip is None or (actual.address is not None and actual.address.get("address") == ip):
            return ours, None
        with cloud_errors(f"find the reserved address {ip}"):
            found = self.compute.list_resources("address", filter=f'address = "{ip}"')
        for address in found:
            if address["name"] == ours["name"]:
                continue
            wanted = "INTERNAL" if options.internal else "EXTERNAL"
            if address.get("addressType", "EXTERNAL") != wanted:
                raise InvalidSpecError(
                    f"loadBalancerIP {ip} is the {address.get('addressType')} address "
                    f"{address['name']!r} but the Service asks for an {wanted.lower()} load "
                    f"balancer",
                    field="spec.loadBalancerIP",
                )
            return None, ip
        return ours, None

    def _desired(
        self,
        spec: LoadBalancerSpec,
        options: gce_annotations.GCPOptions,
        actual: diff.Actual,
        groups: list[str],
    ) -> diff.Desired:
        address, user_ip = self._address_choice(spec, options, actual)
        return diff.Desired(
            address=address,
            user_ip=user_ip,
            health_check=render.health_check(spec, options, self.placement),
            backend_service=render.backend_service(spec, options, self.placement, groups),
            forwarding_rules=render.forwarding_rules(spec, options, self.placement, None),
            firewalls=firewall_rules(spec, self.placement, None),
        )

    def _options(self, spec: LoadBalancerSpec) -> gce_annotations.GCPOptions:
        self._check_ref(spec.ref)
        options = gce_annotations.parse(spec, default_tier=self.config.network_tier)
        render.validate(spec, options, self.placement)
        return options

    # -- the contract ---------------------------------------------------------------------

    def plan(self, spec: LoadBalancerSpec) -> list[Change]:
        if _is_ingress(spec.ref):
            self._check_ref(spec.ref)
            return self.ingresses.plan(spec)
        options = self._options(spec)
        actual = self._read(spec.ref)
        changes = self.groups.plan(spec.backends)
        desired = self._desired(spec, options, actual, self.groups.groups_for(spec.backends))
        return changes + [step.change() for step in diff.plan(desired, actual)]

    def ensure(self, spec: LoadBalancerSpec) -> LoadBalancerStatus:
        if _is_ingress(spec.ref):
            self._check_ref(spec.ref)
            return self.ingresses.ensure(spec)
        options = self._options(spec)
        deadline = self._deadline()
        actual = self._read(spec.ref)  # ownership is settled before the first mutation
        groups = self.groups.sync(spec.backends, deadline=deadline)
        desired = self._desired(spec, options, actual, groups)
        steps = diff.plan(desired, actual)
        ip = desired.user_ip or (actual.address or {}).get("address")
        for step in steps:
            ip = self._apply(step, spec.ref, ip, deadline)
        if ip is None:  # only when nothing needed doing and the address is the user's
            raise AssertionError("no address after ensure")  # pragma: no cover
        self._applied_groups[naming.lb_name(spec.ref)] = groups
        if steps:
            log.info(
                "gcp_ensured service=%s lb=%s steps=%d ip=%s",
                spec.ref.key,
                naming.lb_name(spec.ref),
                len(steps),
                ip,
            )
        return self._status(spec, ip)

    def _apply(self, step: diff.Step, ref: LBRef, ip: str | None, deadline: float) -> str | None:
        body = step.body
        if diff.unresolved(body):
            if ip is None:
                raise AssertionError(
                    f"{step} needs the address before it exists"
                )  # pragma: no cover
            body = render.fill_address(body or {}, ip)
        what = f"{step.action} {diff.RESOURCE_NAMES[step.kind]} {step.name}"
        with cloud_errors(what):
            if step.action == "create":
                assert body is not None
                self.compute.insert(step.kind, body, deadline=deadline)
                if step.kind == "address":
                    ip = body.get("address") or self._address_ip(step.name)
            elif step.action == "update":
                assert body is not None
                if step.fingerprint:
                    body = {**body, "fingerprint": step.fingerprint}
                self.compute.update(step.kind, step.name, body, deadline=deadline)
            else:
                self.compute.delete(step.kind, step.name, deadline=deadline)
        log.info(
            "gcp_step action=%s resource=%s name=%s service=%s detail=%r",
            step.action,
            diff.RESOURCE_NAMES[step.kind],
            step.name,
            ref.key,
            step.detail,
        )
        return ip

    def _address_ip(self, name: str) -> str:
        body = self.compute.get("address", name)
        if body is None or not body.get("address"):
            raise gexc.NotFound(f"address {name} vanished right after its creation")
        return str(body["address"])

    def _status(self, spec: LoadBalancerSpec, ip: str) -> LoadBalancerStatus:
        return LoadBalancerStatus(
            ref=spec.ref,
            provider_id=naming.provider_id(self.config.project, self.config.region, spec.ref),
            ingress=(IngressPoint(ip=ip, ip_mode=IPMode.VIP),),
            backends_total=sum(len(m) for m in desired_members(spec.backends).values()),
            listeners=tuple(f"{li.protocol}/{li.port}" for li in spec.listeners),
        )

    def update_backends(self, spec: LoadBalancerSpec) -> None:
        if _is_ingress(spec.ref):
            self._check_ref(spec.ref)
            self.ingresses.update_backends(spec)
            return
        options = self._options(spec)
        lb = naming.lb_name(spec.ref)
        groups = self.groups.sync(spec.backends, deadline=self._deadline())
        if self._applied_groups.get(lb) == groups:
            return
        current = self._owned("backendService", lb, spec.ref)
        if current is None:
            return  # not built yet: ensure will
        wanted = render.backend_service(spec, options, self.placement, groups)["backends"]
        if diff.differences({"backends": wanted}, current):
            with cloud_errors(f"update backends of backend-service {lb}"):
                self.compute.update(
                    "backendService", lb, {**current, "backends": wanted}, deadline=self._deadline()
                )
            log.info(
                "gcp_backends_updated service=%s lb=%s groups=%d", spec.ref.key, lb, len(groups)
            )
        self._applied_groups[lb] = groups

    def get(self, ref: LBRef) -> LoadBalancerStatus | None:
        self._check_ref(ref)
        if _is_ingress(ref):
            return self.ingresses.get(ref)
        ip = None
        listeners: list[str] = []
        for proto in PROTOCOLS:
            name = naming.forwarding_rule_name(ref, proto)
            with cloud_errors(f"read forwarding-rule {name}"):
                rule = self.compute.get("forwardingRule", name)
            if rule is None or not naming.owned_by(rule.get("description"), ref):
                continue
            ip = rule.get("IPAddress")
            ports = rule.get("ports") or ([rule["portRange"]] if rule.get("portRange") else ["*"])
            listeners += [f"{proto}/{p}" for p in ports]
        if ip is None:
            return None
        return LoadBalancerStatus(
            ref=ref,
            provider_id=naming.provider_id(self.config.project, self.config.region, ref),
            ingress=(IngressPoint(ip=ip, ip_mode=IPMode.VIP),),
            backends_total=self._backend_count(ref),
            listeners=tuple(listeners),
        )

    def _backend_count(self, ref: LBRef) -> int:
        with cloud_errors(f"read backend-service {naming.lb_name(ref)}"):
            service = self.compute.get("backendService", naming.lb_name(ref))
            if service is None:
                return 0
            total = 0
            for backend in service.get("backends", []):
                parts = naming.relative(backend["group"]).split("/")
                group = self.compute.get("instanceGroup", parts[-1], zone=parts[3])
                total += int((group or {}).get("size", 0))
        return total

    def delete(self, ref: LBRef) -> None:
        self._check_ref(ref)
        deadline = self._deadline()
        if _is_ingress(ref):
            deleted = self.ingresses.delete(ref)
            self._release_groups(deadline)
            if deleted:
                log.info("gcp_deleted ingress=%s resources=%d", ref.key, deleted)
            return
        lb = naming.lb_name(ref)
        order = [("forwardingRule", naming.forwarding_rule_name(ref, p)) for p in PROTOCOLS]
        order += [
            ("backendService", lb),
            ("healthCheck", lb),
            ("firewall", naming.firewall_name(ref)),
            ("firewall", naming.health_check_firewall_name(ref)),
            ("address", lb),
        ]  # by our name: a user's reserved address is never named so
        deleted = 0
        for kind, name in order:
            with cloud_errors(f"read {kind} {name}"):
                body = self.compute.get(kind, name)
            if body is None:
                continue
            if not naming.owned_by(body.get("description"), ref):
                log.warning(
                    "gcp_delete_skipped_foreign resource=%s name=%s service=%s", kind, name, ref.key
                )
                continue
            with cloud_errors(f"delete {diff.RESOURCE_NAMES[kind]} {name}"):
                deleted += self.compute.delete(kind, name, deadline=deadline)
        self._applied_groups.pop(lb, None)
        self._release_groups(deadline)
        if deleted:
            log.info("gcp_deleted service=%s lb=%s resources=%d", ref.key, lb, deleted)

    def _release_groups(self, deadline: float) -> None:
        inventory.release_groups(
            self.compute, self.groups, self._zones(), cluster=self.cluster, deadline=deadline
        )

    def list_owned(self) -> list[LBRef]:
        return inventory.owned_refs(self.compute, cluster=self.cluster)


def _is_ingress(ref: LBRef) -> bool:
    return ref.kind is ObjectKind.INGRESS
