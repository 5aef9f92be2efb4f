"""The gcp provider's Ingress half: one global external Application Load Balancer per
Ingress (`GCPProvider` hands it every spec and ref of kind Ingress).

Each verb reads what the cloud holds with one filtered list per collection (every name
starts with `k8s-<hash>-`, so stale pieces, e.g. the backend service of a removed
backend, are found too), checks ownership of everything it would touch before the first
change, syncs the shared instance groups and their named ports, renders what the spec
wants (`ingress_render.py`, `url_map.py`), diffs (`ingress_diff.py`) and applies only
the difference, each mutation awaited through its operation within the call's deadline.
An unchanged resync is nine list calls and no mutation.

A resource under our prefix whose description is not this Ingress's is never modified
or deleted: if we would need its name, `OwnershipError`; else it is left alone. A global
address named by `kubernetes.io/ingress.global-static-ip-name` is used, never created,
changed or released. Deletion goes backwards through the dependency order, tolerating
what is already gone; something still in use (GCE catching up, or a reference we do not
own) is skipped and reported as `PendingError` once the rest is gone, so the next
attempt finishes.

Private keys: a certificate's key is read from the spec only to build its insert
request; it is in no rendered body, step, plan, log line or error.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from google.api_core import exceptions as gexc

from cloud_lb.model import IngressPoint, IPMode, LBRef, LoadBalancerSpec, LoadBalancerStatus
from cloud_lb.provider import Change, InvalidSpecError, OwnershipError, PendingError
from providers.gcp import ingress_diff, ingress_render, naming
from providers.gcp.clients import Compute, error_reason
from providers.gcp.diff import differences, unresolved
from providers.gcp.errors import cloud_errors
from providers.gcp.ingress_options import IngressOptions, parse
from providers.gcp.instance_groups import InstanceGroups, desired_members
from providers.gcp.kinds import KINDS
from providers.gcp.render import Placement, fill_address

log = logging.getLogger(__name__)
Json = dict[str, Any]
Actual = dict[str, dict[str, Json]]


class IngressBalancers:
    def __init__(
        self,
        compute: Compute,
        *,
        placement: Placement,
        groups: InstanceGroups,
        deadline: Callable[[], float],
    ) -> None:
        self.compute = compute
        self.placement = placement
        self.groups = groups
        self._deadline = deadline
        # URL map name -> instance-group links last applied (update_backends' shortcut)
        self._applied_groups: dict[str, list[str]] = {}

    # -- reading ------------------------------------------------------------------------

    def _list(self, ref: LBRef) -> tuple[Actual, Actual]:
        """(ours, foreign) resources under the Ingress's prefix, by kind and name."""
        ours: Actual = {}
        foreign: Actual = {}
        for kind in ingress_render.ORDER:
            with cloud_errors(f"list {KINDS[kind].resource_name}s of {ref}"):
                items = self.compute.list_resources(kind, filter=naming.ingress_filter(ref))
            for item in items:
                owned = naming.owned_by(item.get("description"), ref)
                (ours if owned else foreign).setdefault(kind, {})[item["name"]] = item
        return ours, foreign

    def _read(
        self, spec: LoadBalancerSpec, options: IngressOptions, groups: list[str]
    ) -> tuple[Actual, ingress_render.IngressDesired, str | None]:
        """What we have, what we want, the address: OwnershipError before any change."""
        actual, foreign = self._list(spec.ref)
        ip: str | None = None
        if options.static_ip_name is not None:
            ip = self._user_address(options.static_ip_name)
        elif ours := actual.get("globalAddress", {}).get(naming.ingress_name(spec.ref, "ip")):
            ip = ours.get("address")
        desired = ingress_render.render(spec, options, self.placement, groups, ip)
        for kind, items in foreign.items():
            for name in items:
                if name in desired.resources[kind]:
                    raise OwnershipError(
                        f"{KINDS[kind].resource_name} {name} exists but is not owned by "
                        f"{spec.ref} of cluster {spec.ref.cluster!r}; not touching it"
                    )
                log.warning(
                    "gcp_foreign_resource_ignored resource=%s name=%s ingress=%s",
                    KINDS[kind].resource_name,
                    name,
                    spec.ref.key,
                )
        return actual, desired, ip

    def _user_address(self, name: str) -> str:
        with cloud_errors(f"read the global address {name}"):
            body = self.compute.get("globalAddress", name)
        if body is None or not body.get("address"):
            raise InvalidSpecError(
                f"kubernetes.io/ingress.global-static-ip-name names {name!r}, which is not a "
                f"reserved global address in project {self.placement.project}; reserve it "
                f"(gcloud compute addresses create {name} --global) or remove the annotation",
                field="metadata.annotations[kubernetes.io/ingress.global-static-ip-name]",
            )
        if body.get("addressType", "EXTERNAL") != "EXTERNAL":
            raise InvalidSpecError(
                f"the global address {name!r} is {body.get('addressType')}; an external "
                f"Application Load Balancer needs an EXTERNAL one"
            )
        return str(body["address"])

    def _options(self, spec: LoadBalancerSpec) -> IngressOptions:
        options = parse(spec)
        ingress_render.validate(spec, options)
        return options

    # -- the contract ---------------------------------------------------------------------

    def plan(self, spec: LoadBalancerSpec) -> list[Change]:
        options = self._options(spec)
        changes = self.groups.plan(spec.backends)
        changes += self.groups.plan_named_ports(spec.backends, ingress_render.node_ports(spec))
        actual, desired, ip = self._read(spec, options, self.groups.groups_for(spec.backends))
        return changes + [step.change() for step in ingress_diff.plan(desired, actual, ip)]

    def ensure(self, spec: LoadBalancerSpec) -> LoadBalancerStatus:
        options = self._options(spec)
        deadline = self._deadline()
        groups = self.groups.groups_for(spec.backends)
        actual, desired, ip = self._read(spec, options, groups)  # ownership first
        self.groups.sync(spec.backends, deadline=deadline)
        self.groups.ensure_named_ports(
            spec.backends, ingress_render.node_ports(spec), deadline=deadline
        )
        steps = ingress_diff.plan(desired, actual, ip)
        for step in steps:
            ip = self._apply(step, spec, desired, ip, deadline)
        if ip is None:
            raise PendingError(f"{spec.ref}: the address is not known yet", retry_after=2.0)
        self._applied_groups[naming.ingress_name(spec.ref, "um")] = groups
        if steps:
            log.info(
                "gcp_ingress_ensured ingress=%s lb=%s steps=%d ip=%s",
                spec.ref.key,
                naming.lb_name(spec.ref),
                len(steps),
                ip,
            )
        return self._status(spec, ip, options)

    def _apply(
        self,
        step: ingress_diff.Step,
        spec: LoadBalancerSpec,
        desired: ingress_render.IngressDesired,
        ip: str | None,
        deadline: float,
    ) -> str | None:
        body = step.body
        if body is not None and unresolved(body):
            if ip is None:
                raise AssertionError(f"{step} needs the address before it exists")
            body = fill_address(body, ip)
        what = f"{step.verb} {KINDS[step.kind].resource_name} {step.name}"
        with cloud_errors(what):
            if step.verb == "insert":
                assert body is not None
                if step.kind == "sslCertificate":
                    # the key joins the request here and nowhere else
                    body = {**body, "privateKey": desired.certificates[step.name].key_pem}
                self.compute.insert(step.kind, body, deadline=deadline)
                if step.kind == "globalAddress":
                    ip = self._address_ip(step.name)
            elif step.verb == "update":
                assert body is not None
                if step.fingerprint:
                    body = {**body, "fingerprint": step.fingerprint}
                self.compute.update(step.kind, step.name, body, deadline=deadline)
            elif step.verb == "setUrlMap":
                assert body is not None
                self.compute.set_url_map(step.kind, step.name, body["urlMap"], deadline=deadline)
            elif step.verb == "setSslCertificates":
                assert body is not None
                self.compute.set_ssl_certificates(
                    step.name, body["sslCertificates"], deadline=deadline
                )
            else:
                self.compute.delete(step.kind, step.name, deadline=deadline)
        log.info(
            "gcp_step action=%s resource=%s name=%s ingress=%s detail=%r",
            step.verb,
            KINDS[step.kind].resource_name,
            step.name,
            spec.ref.key,
            step.detail,
        )
        return ip

    def _address_ip(self, name: str) -> str:
        body = self.compute.get("globalAddress", name)
        if body is None or not body.get("address"):
            raise gexc.NotFound(f"global address {name} vanished right after its creation")
        return str(body["address"])

    def _status(
        self, spec: LoadBalancerSpec, ip: str, options: IngressOptions
    ) -> LoadBalancerStatus:
        listeners = []
        for listener in spec.listeners:
            if listener.protocol.value == "HTTP" and not options.allow_http:
                continue
            listeners.append(f"{listener.protocol}/{listener.port}")
        return LoadBalancerStatus(
            ref=spec.ref,
            provider_id=self.provider_id(spec.ref),
            ingress=(IngressPoint(ip=ip, ip_mode=IPMode.PROXY),),
            backends_total=sum(len(m) for m in desired_members(spec.backends).values()),
            listeners=tuple(listeners),
        )

    def provider_id(self, ref: LBRef) -> str:
        return f"gce://{self.placement.project}/global/{naming.ingress_name(ref, 'um')}"

    def update_backends(self, spec: LoadBalancerSpec) -> None:
        self._options(spec)
        deadline = self._deadline()
        groups = self.groups.sync(spec.backends, deadline=deadline)
        self.groups.ensure_named_ports(
            spec.backends, ingress_render.node_ports(spec), deadline=deadline
        )
        key = naming.ingress_name(spec.ref, "um")
        if self._applied_groups.get(key) == groups:
            return
        with cloud_errors(f"list backend services of {spec.ref}"):
            services = self.compute.list_resources(
                "globalBackendService", filter=naming.ingress_filter(spec.ref)
            )
        wanted = [{"group": g, "balancingMode": "UTILIZATION"} for g in sorted(groups)]
        for service in services:
            if not naming.owned_by(service.get("description"), spec.ref):
                continue
            if service["name"] == naming.ingress_backend_name(spec.ref, None):
                continue  # the 404 backend has no instances
            if not differences({"backends": wanted}, service):
                continue
            with cloud_errors(f"update backends of backend-service {service['name']}"):
                self.compute.update(
                    "globalBackendService",
                    service["name"],
                    {**service, "backends": wanted},
                    deadline=deadline,
                )
            log.info(
                "gcp_backends_updated ingress=%s backend_service=%s groups=%d",
                spec.ref.key,
                service["name"],
                len(groups),
            )
        self._applied_groups[key] = groups

    def get(self, ref: LBRef) -> LoadBalancerStatus | None:
        with cloud_errors(f"list forwarding rules of {ref}"):
            rules = self.compute.list_resources(
                "globalForwardingRule", filter=naming.ingress_filter(ref)
            )
        rules = [r for r in rules if naming.owned_by(r.get("description"), ref)]
        if not rules:
            return None
        names = {naming.ingress_name(ref, "fr"): "HTTP", naming.ingress_name(ref, "fs"): "HTTPS"}
        listeners = tuple(
            f"{names.get(r['name'], 'TCP')}/{str(r.get('portRange', '')).split('-')[0]}"
            for r in sorted(rules, key=lambda r: r["name"])
        )
        return LoadBalancerStatus(
            ref=ref,
            provider_id=self.provider_id(ref),
            ingress=(IngressPoint(ip=rules[0]["IPAddress"], ip_mode=IPMode.PROXY),),
            backends_total=self._backend_count(ref),
            listeners=listeners,
        )

    def _backend_count(self, ref: LBRef) -> int:
        """Instances in the groups our backend services use (each group counted once)."""
        with cloud_errors(f"list backend services of {ref}"):
            services = self.compute.list_resources(
                "globalBackendService", filter=naming.ingress_filter(ref)
            )
            links = {
                naming.relative(b["group"])
                for s in services
                if naming.owned_by(s.get("description"), ref)
                for b in s.get("backends", [])
            }
            total = 0
            for link in sorted(links):
                parts = link.split("/")
                group = self.compute.get("instanceGroup", parts[-1], zone=parts[3])
                total += int((group or {}).get("size", 0))
        return total

    def delete(self, ref: LBRef) -> int:
        """Delete what we own, backwards; returns how many resources went. PendingError
        when something is still in use (the rest is deleted first)."""
        deadline = self._deadline()
        ours, foreign = self._list(ref)
        for kind, items in foreign.items():
            for name in items:
                log.warning(
                    "gcp_delete_skipped_foreign resource=%s name=%s ingress=%s",
                    KINDS[kind].resource_name,
                    name,
                    ref.key,
                )
        deleted = 0
        in_use: list[str] = []
        for kind in reversed(ingress_render.ORDER):
            for name in sorted(ours.get(kind, {})):
                what = f"{KINDS[kind].resource_name} {name}"
                with cloud_errors(f"delete {what}"):
                    try:
                        deleted += self.compute.delete(kind, name, deadline=deadline)
                    except gexc.BadRequest as exc:
                        if error_reason(exc) != "resourceInUseByAnotherResource":
                            raise
                        # keep going: what does not depend on it can still go
                        in_use.append(f"{what} ({exc.message})")
        self._applied_groups.pop(naming.ingress_name(ref, "um"), None)
        if in_use:
            raise PendingError(
                f"{ref}: still in use, will retry: {'; '.join(in_use)}", retry_after=5.0
            )
        return deleted
