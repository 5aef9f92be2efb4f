"""What `ensure` must do to one local load balancer: a pure diff, data in, data out.

`desired(spec)` reduces a spec to what the local proxy serves; `diff(observed,
desired)` lists the steps from what runs now to that. `plan` prints the steps as
`Change`s, `ensure` applies them one by one and records each as one mutating call
under its `operation` name, so an unchanged spec is an empty list and zero mutations.

Identity of a listener is (protocol, port): the bound socket. A new node port or
health check on the same socket is an in-place `update_listener` (no connection is
dropped); a new port is an unbind plus a bind.

L7 (Ingress) load balancers add two in-place steps: `set_routes` (rules, default
backend, redirect) and `set_certificates` (compared by name, hosts and fingerprint, so
a rotated Secret is one step and the address and sockets stay). Both run before any
bind, so a new HTTPS socket never accepts a handshake without its certificate.
"""

from __future__ import annotations

from dataclasses import dataclass

from cloud_lb.model import Backend, Listener, LoadBalancerSpec, Protocol, TLSCert
from cloud_lb.provider import Change
from providers.local.routing import RouteTable

CertRef = tuple[str, tuple[str, ...], str]  # (name, hosts, fingerprint): never the key


def cert_refs(certs: tuple[TLSCert, ...]) -> tuple[CertRef, ...]:
    return tuple(sorted((c.name, c.hosts, c.fingerprint) for c in certs))

ListenerKey = tuple[Protocol, int]


def listener_key(listener: Listener) -> ListenerKey:
    return (listener.protocol, listener.port)


def describe_listener(listener: Listener) -> str:
    """`TCP/80`: how status and logs name a listener."""
    return f"{listener.protocol.value}/{listener.port}"


@dataclass(frozen=True)
class Desired:
    """The part of a spec the local proxy serves, in canonical order."""

    listeners: tuple[Listener, ...]
    backends: tuple[Backend, ...]
    source_ranges: tuple[str, ...]
    static_ip: str | None
    routes: RouteTable | None = None  # None: an L4 load balancer
    certificates: tuple[TLSCert, ...] = ()


def is_l7(spec: LoadBalancerSpec) -> bool:
    return any(li.protocol in (Protocol.HTTP, Protocol.HTTPS) for li in spec.listeners)


def desired(spec: LoadBalancerSpec) -> Desired:
    l7 = is_l7(spec)
    return Desired(
        listeners=tuple(sorted(spec.listeners, key=listener_key)),
        backends=tuple(sorted(spec.backends, key=lambda b: b.node_name)),
        source_ranges=tuple(sorted(spec.effective_source_ranges)),
        static_ip=spec.static_ip,
        routes=RouteTable(spec.rules, spec.default_backend, spec.https_redirect) if l7 else None,
        certificates=tuple(sorted(spec.tls, key=lambda c: c.name)) if l7 else (),
    )


@dataclass(frozen=True)
class Observed:
    """What serves the load balancer now.

    `address` is the recorded address (None: none allocated). `serving` says whether
    the listeners on it run (in this process, or - for a read-only view - in the
    process that holds the state lock); when False, `listeners`, `backends` and
    `source_ranges` are ignored: nothing is bound, everything must be.
    """

    address: str | None
    serving: bool
    listeners: tuple[Listener, ...] = ()
    backends: tuple[Backend, ...] = ()
    source_ranges: tuple[str, ...] = ()
    routes: RouteTable | None = None
    certificates: tuple[CertRef, ...] = ()


# ---- steps ----------------------------------------------------------------------------


@dataclass(frozen=True)
class AllocateAddress:
    static_ip: str | None
    ports: tuple[ListenerKey, ...]
    operation = "allocate_address"

    def change(self, pool: str) -> Change:
        if self.static_ip:
            return Change("create", "address", self.static_ip, "loadBalancerIP")
        return Change("create", "address", "next free", f"from pool {pool}")


@dataclass(frozen=True)
class AdoptAddress:
    address: str
    ports: tuple[ListenerKey, ...]
    operation = "adopt_address"

    def change(self, pool: str) -> Change:
        return Change("create", "address", self.address, "adopt the recorded address")


@dataclass(frozen=True)
class ReleaseAddress:
    address: str
    operation = "release_address"

    def change(self, pool: str) -> Change:
        return Change("delete", "address", self.address)


@dataclass(frozen=True)
class BindListener:
    listener: Listener
    operation = "bind_listener"

    def change(self, pool: str) -> Change:
        li = self.listener
        hc = li.health_check
        return Change(
            "create", "listener", describe_listener(li),
            f"-> nodePort {li.node_port}, health {hc.protocol.value}:{hc.port}"
            + (hc.path if hc.protocol.value == "HTTP" else ""),
        )


@dataclass(frozen=True)
class UnbindListener:
    listener: Listener
    operation = "unbind_listener"

    def change(self, pool: str) -> Change:
        return Change("delete", "listener", describe_listener(self.listener))


@dataclass(frozen=True)
class UpdateListener:
    old: Listener
    new: Listener
    operation = "update_listener"

    def change(self, pool: str) -> Change:
        parts = []
        if self.old.node_port != self.new.node_port:
            parts.append(f"nodePort {self.old.node_port}->{self.new.node_port}")
        if self.old.health_check != self.new.health_check:
            parts.append("health check")
        if self.old.name != self.new.name:
            parts.append(f"name {self.old.name}->{self.new.name}")
        return Change("update", "listener", describe_listener(self.new), ", ".join(parts))


@dataclass(frozen=True)
class SetBackends:
    backends: tuple[Backend, ...]
    added: tuple[str, ...]
    removed: tuple[str, ...]
    operation = "set_backends"

    def change(self, pool: str) -> Change:
        detail = " ".join([f"+{n}" for n in self.added] + [f"-{n}" for n in self.removed])
        return Change("update", "backends", f"{len(self.backends)} nodes", detail)


@dataclass(frozen=True)
class SetSourceRanges:
    source_ranges: tuple[str, ...]
    operation = "set_source_ranges"

    def change(self, pool: str) -> Change:
        return Change("update", "source-ranges", ",".join(self.source_ranges))


@dataclass(frozen=True)
class SetRoutes:
    routes: RouteTable
    operation = "set_routes"

    def change(self, pool: str) -> Change:
        t = self.routes
        default = t.default_backend.name if t.default_backend else "404"
        return Change("update", "routes", f"{len(t.rules)} rules",
                      f"default {default}" + (", redirect to HTTPS" if t.https_redirect else ""))


@dataclass(frozen=True)
class SetCertificates:
    certificates: tuple[TLSCert, ...]  # TLSCert's repr hides the key
    operation = "set_certificates"

    def change(self, pool: str) -> Change:
        return Change("update", "certificates", f"{len(self.certificates)} certificates",
                      ", ".join(f"{c.name}@{c.fingerprint[:8]}" for c in self.certificates))


Step = (
    AllocateAddress | AdoptAddress | ReleaseAddress | BindListener | UnbindListener
    | UpdateListener | SetBackends | SetSourceRanges | SetRoutes | SetCertificates
)


def backend_steps(observed: Observed, want: tuple[Backend, ...]) -> list[Step]:
    """The only step a node change may cause: the member set."""
    have = observed.backends if observed.serving else ()
    if observed.serving and have == want:
        return []
    have_by_name = {b.node_name: b for b in have}
    want_by_name = {b.node_name: b for b in want}
    added = tuple(n for n, b in want_by_name.items() if have_by_name.get(n) != b)
    removed = tuple(n for n in have_by_name if n not in want_by_name)
    return [SetBackends(want, added, removed)]


def diff(observed: Observed, want: Desired) -> list[Step]:
    """The steps from `observed` to `want`, in the order they must run:
    unbind (frees ports), address, source ranges and backends (before any new
    socket accepts traffic), in-place listener updates, binds."""
    unbinds: list[Step] = []
    address_steps: list[Step] = []
    serving = observed.serving
    have_listeners = observed.listeners if serving else ()
    ports = tuple(listener_key(li) for li in want.listeners)

    if observed.address is None:
        address_steps.append(AllocateAddress(want.static_ip, ports))
        serving, have_listeners = False, ()
    elif want.static_ip is not None and want.static_ip != observed.address:
        # a new loadBalancerIP moves the whole load balancer; backends and ranges move along
        unbinds = [UnbindListener(li) for li in have_listeners]
        address_steps = [ReleaseAddress(observed.address), AllocateAddress(want.static_ip, ports)]
        have_listeners = ()
    elif not serving:
        address_steps.append(AdoptAddress(observed.address, ports))

    ranges: list[Step] = []
    if not serving or observed.source_ranges != want.source_ranges:
        ranges.append(SetSourceRanges(want.source_ranges))
    members = backend_steps(Observed(observed.address, serving, (), observed.backends), want.backends)

    have_by_key = {listener_key(li): li for li in have_listeners}
    want_by_key = {listener_key(li): li for li in want.listeners}
    unbinds += [UnbindListener(li) for k, li in have_by_key.items() if k not in want_by_key]
    updates: list[Step] = [
        UpdateListener(have_by_key[k], li)
        for k, li in want_by_key.items()
        if k in have_by_key and have_by_key[k] != li
    ]
    binds: list[Step] = [BindListener(li) for k, li in want_by_key.items() if k not in have_by_key]
    l7: list[Step] = []
    if want.routes is not None and (not serving or observed.routes != want.routes):
        l7.append(SetRoutes(want.routes))
    if want.routes is not None and (
            not serving or observed.certificates != cert_refs(want.certificates)):
        if want.certificates or observed.certificates:
            l7.append(SetCertificates(want.certificates))
    return unbinds + address_steps + ranges + members + l7 + updates + binds
