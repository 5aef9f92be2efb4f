"""`LocalProvider`: real L4 load balancers on this host, behind the provider contract.

Control plane (this module) on the controller's threads, data plane (listeners,
flows, health checks) on one asyncio loop in one background thread. Each public call:
read the state file and, when this process serves the load balancer, the running
balancer; diff against the spec (`steps.diff`); apply the steps in order, each
recorded as one mutating call; persist the record. Unchanged: zero steps, zero
mutations.

Adoption: a restarted controller finds its records in the state file; the first
`ensure` per load balancer re-leases the recorded address ("adopt_address") and binds
its listeners there again. The listeners themselves die with the process that bound
them (a process cannot hand sockets to its successor without a helper daemon, which
this provider deliberately avoids); the address and identity survive. Until that
first `ensure`, `get` reports the recorded address with no listeners.

Ingress (L7): the same life cycle with HTTP/HTTPS listeners (an HTTP/1.1 reverse
proxy, `http.py`), routes and certificates as two more in-place steps; certificates
are loaded once here, on the controller's thread, before any step, so a key that does
not match its certificate is an `InvalidSpecError` and nothing changes.

Ownership: the file and its lock are per cluster; a spec or ref of another cluster,
or an entry under our id not tagged as exactly this object, raises OwnershipError and
is never written. Addresses recorded by any cluster in `stateDir` are never handed out.
"""

from __future__ import annotations

import dataclasses
import errno
import logging
import threading
import time
from collections.abc import Callable, Coroutine, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from cloud_lb.model import (
    IngressPoint,
    IPFamily,
    IPMode,
    LBRef,
    LoadBalancerSpec,
    LoadBalancerStatus,
    Protocol,
)
from cloud_lb.provider import (
    Capabilities,
    Change,
    CloudError,
    InvalidSpecError,
    OwnershipError,
    ProviderContext,
)
from providers.local import steps as st
from providers.local.addresses import AddressLease, candidates, in_pool, ports_bindable, try_lease
from providers.local.balancer import Balancer
from providers.local.config import LocalConfig
from providers.local.looping import LoopThread
from providers.local.tls import CertificateError, context_for
from providers.local.state import (
    Record,
    StateError,
    StateFile,
    addresses_in_use,
    provider_id_for,
)

log = logging.getLogger(__name__)

T = TypeVar("T")

_SERVED = (Protocol.TCP, Protocol.UDP)
_L7 = (Protocol.HTTP, Protocol.HTTPS)
_CERT_CACHE_SIZE = 256


class LocalProvider:
    name = "local"
    capabilities = Capabilities(
        tcp=True, udp=True, mixed_protocols=True, source_ranges=True,
        internal=True,  # accepted, and a no-op: every local address is private to the host
        static_ip=True,  # an address inside the pool
        l7=True,  # Ingress: an HTTP/1.1 reverse proxy with TLS termination
    )

    def __init__(self, config: LocalConfig, context: ProviderContext) -> None:
        self._config = config
        self._cluster = context.cluster_name
        self._recorder = context.recorder
        self._state = StateFile(config.resolved_state_dir(), self._cluster)
        self._loop = LoopThread(f"cloud-lb-local-{self._cluster}")
        self._balancers: dict[str, Balancer] = {}
        self._leases: dict[str, AddressLease] = {}
        self._lock = threading.RLock()  # one call at a time: local calls are quick
        self._closed = False
        self._certs_checked: dict[str, str | None] = {}  # fingerprint -> error, or None

    def __repr__(self) -> str:
        return f"LocalProvider(cluster={self._cluster!r}, state={str(self._state.path)!r})"

    # ---- the contract -------------------------------------------------------------

    def get(self, ref: LBRef) -> LoadBalancerStatus | None:
        with self._lock, self._call("get", mutating=False):
            if ref.cluster != self._cluster:
                return None
            record, _ = self._state_record(ref)
            if record is None or not record.owned_by(ref):
                return None
            return self._status(ref, record)

    def plan(self, spec: LoadBalancerSpec) -> list[Change]:
        with self._lock, self._call("get", mutating=False):
            self._validate(spec)
            record = self._own_record(spec.ref)
            steps = st.diff(self._observe(record), st.desired(spec))
        return [step.change(str(self._config.address_pool)) for step in steps]

    def ensure(self, spec: LoadBalancerSpec) -> LoadBalancerStatus:
        with self._lock:
            self._validate(spec)
            want = st.desired(spec)
            with self._call("get", mutating=False):
                record = self._own_record(spec.ref)
                steps = st.diff(self._observe(record), want)
            if steps:
                self._become_writer("ensure")
                record = self._own_record(spec.ref)  # re-read: now nobody else writes
                steps = st.diff(self._observe(record), want)
                record = self._apply(spec.ref, record, steps)
                log.info("event=lb_ensured lb=%s ref=%s address=%s steps=%d",
                         provider_id_for(spec.ref), spec.ref, record.address, len(steps))
            assert record is not None
            return self._status(spec.ref, record)

    def update_backends(self, spec: LoadBalancerSpec) -> None:
        with self._lock:
            self._validate(spec)
            want = st.desired(spec).backends
            with self._call("get", mutating=False):
                record = self._own_record(spec.ref)
            if record is None:
                raise CloudError(f"no local load balancer for {spec.ref}; ensure creates it",
                                 operation="update_backends")
            balancer = self._balancers.get(record.provider_id)
            if balancer is None and record.backends == want:
                return
            if balancer is not None and not st.backend_steps(self._observe(record), want):
                return
            self._become_writer("update_backends")
            with self._call("set_backends", mutating=True):
                if balancer is not None:
                    self._on_loop(balancer.set_backends, want)
                self._persist(dataclasses.replace(record, backends=want))

    def delete(self, ref: LBRef) -> None:
        with self._lock:
            self._check_open("delete")
            if ref.cluster != self._cluster:
                raise OwnershipError(f"{ref} belongs to cluster {ref.cluster!r}, not {self._cluster!r}")
            with self._call("get", mutating=False):
                record, exists = self._state_record(ref)
            pid = provider_id_for(ref)
            if not exists:
                return  # gone is success
            if record is None or not record.owned_by(ref):
                raise OwnershipError(f"state entry {pid} is not tagged as {ref} of cluster "
                                     f"{self._cluster!r}; left untouched")
            self._become_writer("delete")
            balancer = self._balancers.pop(pid, None)
            if balancer is not None:
                for listener in self._run(_read(balancer.bound_listeners)):
                    with self._call("unbind_listener", mutating=True):
                        self._run(balancer.unbind(listener))
                self._run(balancer.close())
            with self._call("release_address", mutating=True):
                lease = self._leases.pop(pid, None)
                if lease is not None:
                    lease.release()
                self._state_write(lambda: self._state.remove(pid))
            log.info("event=lb_deleted lb=%s ref=%s address=%s", pid, ref, record.address)

    def list_owned(self) -> list[LBRef]:
        with self._lock, self._call("list", mutating=False):
            refs = []
            for record in self._state_records():
                ref = record.ref()
                if (ref is not None and ref.cluster == self._cluster
                        and record.provider_id == provider_id_for(ref)):
                    refs.append(ref)
            return refs

    def close(self) -> None:
        with self._lock:
            if self._closed:
                return
            self._closed = True
            try:
                for pid, balancer in list(self._balancers.items()):
                    try:
                        self._loop.run(balancer.close(), timeout=30)
                    except Exception:
                        log.exception("event=balancer_close_failed lb=%s", pid)
                self._balancers.clear()
            finally:
                self._loop.stop()
                for lease in self._leases.values():
                    lease.release()
                self._leases.clear()
                self._state.release_writer()
            log.info("event=provider_closed cluster=%s", self._cluster)

    # ---- applying steps -----------------------------------------------------------

    def _apply(self, ref: LBRef, record: Record | None, steps: list[st.Step]) -> Record:
        pid = provider_id_for(ref)
        balancer = self._balancers.get(pid)
        try:
            for step in steps:
                log.info("event=lb_step lb=%s op=%s change=%r", pid, step.operation,
                         str(step.change(str(self._config.address_pool))))
                with self._call(step.operation, mutating=True):
                    match step:
                        case st.AllocateAddress() | st.AdoptAddress():
                            address = self._take_address(pid, step)
                            record = self._address_moved(ref, record, address)
                            balancer = self._serve(pid, address, balancer)
                            self._persist(record)
                        case st.ReleaseAddress():
                            lease = self._leases.pop(pid, None)
                            if lease is not None:
                                lease.release()
                        case st.UnbindListener():
                            self._run(_need(balancer).unbind(step.listener))
                        case st.BindListener():
                            self._bind(_need(balancer), step)
                        case st.UpdateListener():
                            self._on_loop(_need(balancer).update, step.new)
                        case st.SetBackends():
                            self._on_loop(_need(balancer).set_backends, step.backends)
                        case st.SetSourceRanges():
                            self._on_loop(_need(balancer).set_source_ranges, step.source_ranges)
                        case st.SetRoutes():
                            self._on_loop(_need(balancer).set_routes, step.routes)
                        case st.SetCertificates():
                            self._on_loop(_need(balancer).set_certificates, step.certificates)
        finally:
            if record is not None and balancer is not None:
                record = self._persist_running(record, balancer)
        assert record is not None
        return record

    def _take_address(self, pid: str, step: st.AllocateAddress | st.AdoptAddress) -> str:
        if isinstance(step, st.AdoptAddress):
            lease = try_lease(step.address)
            if lease is not None:
                self._leases[pid] = lease
                return step.address
            # another cloud-lb process (another stateDir) took it while we were down
            log.warning("event=adopt_failed lb=%s address=%s reason=held_elsewhere", pid, step.address)
            step = st.AllocateAddress(None, step.ports)
        address, lease = self._allocate(pid, step)
        self._leases[pid] = lease
        return address

    def _allocate(self, pid: str, step: st.AllocateAddress) -> tuple[str, AddressLease]:
        pool = self._config.address_pool
        try:
            taken = addresses_in_use(self._state.directory)
        except OSError as exc:
            raise CloudError(f"reading {self._state.directory}: {exc}", operation="allocate_address") from exc
        if step.static_ip is not None:
            holder = taken.get(step.static_ip)
            if holder is not None and holder != f"{self._cluster}/{pid}":
                if not holder.startswith(f"{self._cluster}/"):
                    raise OwnershipError(f"address {step.static_ip} is recorded for {holder} "
                                         "of another cluster")
                raise CloudError(f"address {step.static_ip} is used by load balancer {holder}",
                                 operation="allocate_address", retryable=False)
            lease = try_lease(step.static_ip)
            if lease is None:
                raise CloudError(f"address {step.static_ip} is held by another cloud-lb process",
                                 operation="allocate_address")
            error = ports_bindable(step.static_ip, step.ports)
            if error is not None:
                lease.release()
                raise _bind_error(step.static_ip, error, "allocate_address")
            return step.static_ip, lease
        failures = 0
        for address in candidates(pool, taken):
            lease = try_lease(address)
            if lease is None:
                continue  # leased by another cloud-lb process on this host
            error = ports_bindable(address, step.ports)
            if error is None:
                return address, lease
            lease.release()
            if error.errno != errno.EADDRINUSE:
                raise _bind_error(address, error, "allocate_address")
            failures += 1
            log.info("event=address_skipped lb=%s address=%s reason=port_in_use", pid, address)
            if failures >= self._config.max_address_attempts:
                break
        raise CloudError(
            f"no usable address in pool {pool}: every free address tried had a listener port "
            f"in use ({failures} tried); free the ports or widen addressPool",
            operation="allocate_address",
        )

    def _address_moved(self, ref: LBRef, record: Record | None, address: str) -> Record:
        if record is None:
            return Record.for_ref(ref, address)
        return dataclasses.replace(record, address=address)

    def _serve(self, pid: str, address: str, balancer: Balancer | None) -> Balancer:
        if balancer is not None:  # re-addressed: its listeners were unbound just before
            balancer.address = address
            return balancer
        balancer = Balancer(
            provider_id=pid, address=address, overrides=self._config.health_check,
            connect_timeout=self._config.connect_timeout_seconds,
            udp_idle_timeout=self._config.udp_idle_timeout_seconds,
        )
        self._balancers[pid] = balancer
        return balancer

    def _bind(self, balancer: Balancer, step: st.BindListener) -> None:
        try:
            self._run(balancer.bind(step.listener))
        except OSError as exc:
            raise _bind_error(balancer.address, exc, "bind_listener",
                              what=st.describe_listener(step.listener)) from exc

    # ---- reading ------------------------------------------------------------------

    def _observe(self, record: Record | None) -> st.Observed:
        if record is None:
            return st.Observed(None, serving=False)
        balancer = self._balancers.get(record.provider_id)
        if balancer is not None:
            return self._run(_read(lambda: st.Observed(
                balancer.address, True, balancer.bound_listeners(), balancer.backends,
                balancer.source_ranges, balancer.routes if balancer.l7 else None,
                st.cert_refs(balancer.tls.certs),
            )))
        if self._writer_elsewhere():  # a read-only view (plan/status) of a running controller
            return st.Observed(record.address, True, record.listeners, record.backends,
                               record.source_ranges, record.routes, record.certificates)
        return st.Observed(record.address, serving=False)

    def _status(self, ref: LBRef, record: Record) -> LoadBalancerStatus:
        balancer = self._balancers.get(record.provider_id)
        healthy: int | None = None
        listeners: tuple[Any, ...] = ()
        backends_total = len(record.backends)
        if balancer is not None:
            listeners, backends_total, healthy = self._run(_read(lambda: (
                balancer.bound_listeners(), len(balancer.backends), balancer.healthy_count())))
        elif self._writer_elsewhere():
            listeners = record.listeners
        return LoadBalancerStatus(
            ref=ref,
            provider_id=record.provider_id,
            ingress=(IngressPoint(ip=record.address, ip_mode=IPMode.PROXY),),
            backends_total=backends_total,
            backends_healthy=healthy,
            listeners=tuple(st.describe_listener(li) for li in listeners),
        )

    def _own_record(self, ref: LBRef) -> Record | None:
        record, exists = self._state_record(ref)
        if exists and (record is None or not record.owned_by(ref)):
            raise OwnershipError(
                f"state entry {provider_id_for(ref)} in {self._state.path} is not tagged as "
                f"{ref} of cluster {self._cluster!r}; it is never modified"
            )
        return record

    def _check_open(self, operation: str) -> None:
        if self._closed:  # a closed provider must not start a new loop thread
            raise CloudError("the local provider is closed", operation=operation, retryable=False)

    def _validate(self, spec: LoadBalancerSpec) -> None:
        self._check_open("ensure")
        if spec.ref.cluster != self._cluster:
            raise OwnershipError(f"{spec.ref} belongs to cluster {spec.ref.cluster!r}, "
                                 f"this provider serves {self._cluster!r}")
        if st.is_l7(spec):
            self._validate_l7(spec)
        elif spec.is_l7:
            raise InvalidSpecError("Ingress rules need HTTP listeners, not TCP/UDP ones",
                                   field="spec.rules")
        else:
            self._validate_l4(spec)
        if IPFamily.IPV4 not in spec.ip_families:
            raise InvalidSpecError("the local provider serves IPv4 only: include IPv4 in ipFamilies",
                                   field="spec.ipFamilies")
        if spec.static_ip is not None and not in_pool(self._config.address_pool, spec.static_ip):
            raise InvalidSpecError(
                f"loadBalancerIP {spec.static_ip} is outside the local address pool "
                f"{self._config.address_pool}: pick an address inside it or unset it",
                field="spec.loadBalancerIP")

    def _validate_l7(self, spec: LoadBalancerSpec) -> None:
        if any(li.protocol not in _L7 for li in spec.listeners):
            raise InvalidSpecError("an Ingress load balancer serves HTTP and HTTPS listeners "
                                   "only, not TCP or UDP ones", field="spec.listeners")
        if any(li.protocol is Protocol.HTTPS for li in spec.listeners) and not spec.tls:
            raise InvalidSpecError("an HTTPS listener needs at least one certificate",
                                   field="spec.tls")
        for cert in spec.tls:
            fingerprint = cert.fingerprint
            if fingerprint not in self._certs_checked:
                if len(self._certs_checked) >= _CERT_CACHE_SIZE:
                    self._certs_checked.clear()
                try:
                    context_for(cert)
                    self._certs_checked[fingerprint] = None
                except CertificateError as exc:
                    self._certs_checked[fingerprint] = str(exc)
            error = self._certs_checked[fingerprint]
            if error is not None:
                raise InvalidSpecError(f"TLS Secret {spec.ref.namespace}/{cert.name}: {error}",
                                       field="spec.tls")

    def _validate_l4(self, spec: LoadBalancerSpec) -> None:
        for i, listener in enumerate(spec.listeners):
            if listener.protocol not in _SERVED:
                raise InvalidSpecError(
                    f"the local provider serves TCP and UDP, not {listener.protocol.value}: "
                    f"change port {listener.port} to TCP or UDP", field=f"spec.ports[{i}].protocol")
            if listener.node_port == 0:
                raise InvalidSpecError(
                    f"port {listener.port} has no nodePort; the local provider forwards to node "
                    "ports: set allocateLoadBalancerNodePorts to true",
                    field=f"spec.ports[{i}].nodePort")
        if spec.pod_targets:
            raise InvalidSpecError("the local provider cannot target pods directly; use node ports",
                                   field="spec.allocateLoadBalancerNodePorts")

    # ---- plumbing -----------------------------------------------------------------

    @contextmanager
    def _call(self, operation: str, *, mutating: bool) -> Iterator[None]:
        started, result = time.monotonic(), "ok"
        try:
            yield
        except BaseException:
            result = "error"
            raise
        finally:
            self._recorder.record(operation, mutating=mutating, result=result,
                                  seconds=time.monotonic() - started)

    def _run(self, coro: Coroutine[Any, Any, T]) -> T:
        try:
            return self._loop.run(coro)
        except TimeoutError as exc:
            raise CloudError("the local load balancer loop did not answer in time",
                             operation="loop") from exc

    def _on_loop(self, fn: Callable[..., Any], *args: Any) -> Any:
        return self._run(_read(lambda: fn(*args)))

    def _become_writer(self, operation: str) -> None:
        try:
            self._state.acquire_writer()
        except StateError as exc:
            raise CloudError(str(exc), operation=operation) from exc

    def _writer_elsewhere(self) -> bool:
        return self._state.writer_elsewhere()

    def _state_record(self, ref: LBRef) -> tuple[Record | None, bool]:
        try:
            return self._state.record(provider_id_for(ref))
        except StateError as exc:
            raise CloudError(str(exc), operation="read_state") from exc

    def _state_records(self) -> list[Record]:
        try:
            return self._state.records()
        except StateError as exc:
            raise CloudError(str(exc), operation="read_state") from exc

    def _state_write(self, write: Callable[[], None]) -> None:
        try:
            write()
        except (StateError, OSError) as exc:
            raise CloudError(f"writing {self._state.path}: {exc}", operation="write_state") from exc

    def _persist(self, record: Record) -> None:
        self._state_write(lambda: self._state.put(record))

    def _persist_running(self, record: Record, balancer: Balancer) -> Record:
        listeners, backends, ranges, address, routes, certs = self._run(_read(lambda: (
            balancer.bound_listeners(), balancer.backends, balancer.source_ranges,
            balancer.address, balancer.routes if balancer.l7 else None,
            st.cert_refs(balancer.tls.certs))))
        updated = dataclasses.replace(record, address=address, listeners=listeners,
                                      backends=backends, source_ranges=ranges, routes=routes,
                                      certificates=certs)
        self._persist(updated)
        return updated


async def _read(fn: Callable[[], T]) -> T:
    """Run `fn` on the loop thread: balancer state is only touched there."""
    return fn()


def _need(balancer: Balancer | None) -> Balancer:
    if balancer is None:  # diff never yields listener steps before an address step
        raise CloudError("internal: listener step without a balancer", operation="apply")
    return balancer


def _bind_error(address: str, exc: OSError, operation: str, *, what: str = "listener ports") -> CloudError:
    hint = ""
    if exc.errno == errno.EACCES:
        hint = ("; ports below 1024 need CAP_NET_BIND_SERVICE or a lower "
                "net.ipv4.ip_unprivileged_port_start")
    elif exc.errno == errno.EADDRNOTAVAIL:
        hint = "; the address is not on this host: set addressPool to local addresses"
    return CloudError(
        f"binding {what} on {address}: {exc.strerror or exc}{hint}",
        operation=operation,
        retryable=exc.errno not in (errno.EACCES, errno.EADDRNOTAVAIL),
    )
