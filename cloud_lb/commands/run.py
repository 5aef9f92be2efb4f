"""`cloud-lb run`: the controller, until SIGTERM or SIGINT (graceful stop).

With leader election on, every replica fills its caches and serves probes; only the
Lease holder starts workers. A leader that loses the Lease stops its workers (waiting
at most the margin `leaseDuration - renewDeadline` for reconciles in flight, the time
left before another replica may start) and exits 1, as client-go controllers do; the
Deployment restarts it as a standby.

On SIGTERM the order matters: workers finish their reconciles and the provider closes
while the elector keeps renewing (so no one else starts meanwhile); only then is the
Lease released, so the standby takes over at once instead of waiting for it to expire.
A second signal exits at once.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import socket
import threading

log = logging.getLogger("cloud_lb.run")

GRACEFUL_STOP_SECONDS = 20.0  # keep below the pod's terminationGracePeriodSeconds (30)
CACHE_SYNC_SECONDS = 60.0


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", required=True, help="the cloud-lb config file (YAML)")
    parser.add_argument("--kubeconfig", help="kubeconfig file; in-cluster config when omitted")
    parser.add_argument("--log-level", help="override logging.level from the config")
    parser.add_argument("--log-format", choices=("text", "json"),
                        help="override logging.format from the config")
    parser.add_argument("--leader-elect", choices=("true", "false"),
                        help="override leaderElection.enabled from the config")
    parser.add_argument("--metrics-address",
                        help="override metrics.address (host:port, port 0 = any free port; "
                             "'off' disables the endpoint)")


def run(args: argparse.Namespace) -> int:
    from cloud_lb.commands.wiring import (
        build_api,
        build_controller,
        build_provider,
        load_config_or_exit,
    )
    from cloud_lb.logs import setup_logging
    from cloud_lb.observability.metrics import ControllerMetrics
    from cloud_lb.observability.server import ObservabilityServer, controller_probes
    from cloud_lb.provider import CallRecorder

    config = load_config_or_exit(args.config)  # exits 2 naming every bad field
    setup_logging(args.log_level or config.logging.level, args.log_format or config.logging.format)
    stop = threading.Event()
    lost = threading.Event()  # leadership lost (not a signal): exit non-zero

    def on_signal(signum: int, _frame: object) -> None:
        if stop.is_set():
            log.warning("second signal, exiting now signal=%s", signal.Signals(signum).name)
            os._exit(1)
        log.info("stopping signal=%s", signal.Signals(signum).name)
        stop.set()

    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, on_signal)

    recorder = CallRecorder()
    if os.environ.get("CLOUD_LB_TEST_CRASH_AFTER_MUTATION") or os.environ.get(
            "CLOUD_LB_TEST_MUTATION_LOG"):
        from cloud_lb.testing import crashpoints  # test-only: the reliability suite's kills
        crashpoints.install(recorder)
    provider = build_provider(config, recorder)
    api = build_api(args.kubeconfig)
    controller = build_controller(config, api=api, provider=provider)
    metrics = ControllerMetrics(provider_name=provider.name, process_metrics=True)
    metrics.watch_cloud_calls(recorder)
    from cloud_lb.controller.ingresses import is_ingress_key
    controller.observer = metrics.observe_reconcile(
        lambda key: "Ingress" if is_ingress_key(key) else "Service")

    elect = (config.leader_election.enabled if args.leader_elect is None
             else args.leader_elect == "true")
    elector = None
    le = config.leader_election
    if elect:
        from cloud_lb.kube.leader import LeaderElector
        identity = le.identity or f"{socket.gethostname()}_{os.getpid()}"
        elector = LeaderElector(api.api_client, name=le.lease_name, namespace=le.lease_namespace,
                                identity=identity, lease_duration=le.lease_duration,
                                renew_deadline=le.renew_deadline, retry_period=le.retry_period)
    metrics.watch_controller(controller, (lambda: elector.is_leader) if elector else None)

    server = None
    address = _metrics_address(args.metrics_address, config)
    if address:
        healthy, ready = controller_probes(
            controller, is_leader=(lambda: elector.is_leader) if elector else None)
        server = ObservabilityServer(address, registry=metrics.registry, healthy=healthy,
                                     ready=ready).start()
        print(f"metrics listening on {server.url}", flush=True)

    def started_leading() -> None:
        if not stop.is_set():  # elected while shutting down: do not start anything
            controller.start_workers()

    def stopped_leading() -> None:
        if not stop.is_set():
            lost.set()
            stop.set()

    log.info("starting provider=%s cluster=%s leader_election=%s identity=%s",
             provider.name, config.cluster_name, elect, elector.identity if elector else "-")
    try:
        try:
            controller.start_informers(sync_timeout=CACHE_SYNC_SECONDS)
        except TimeoutError as exc:
            log.error("cannot start error=%r", str(exc))
            return 1
        if elector is None:
            controller.start_workers()
        elif not stop.is_set():
            threading.Thread(target=elector.run, name="leader-election", daemon=True,
                             kwargs={"on_started_leading": started_leading,
                                     "on_stopped_leading": stopped_leading}).start()
        stop.wait()
    finally:
        # A replica that lost the lease may only use the margin before the lease can
        # expire for others; reconciles still running then die with the process.
        margin = le.lease_duration - le.renew_deadline
        controller.stop(timeout=margin if lost.is_set() else GRACEFUL_STOP_SECONDS)
        provider.close()  # every cloud call of ours is over before a successor starts
        if elector is not None:
            if lost.is_set():
                elector.stop()
            else:
                elector.release()  # hand over now rather than at expiry
        if server is not None:
            server.stop()
        log.info("stopped lost_leadership=%s", lost.is_set())
    return 1 if lost.is_set() else 0


def _metrics_address(flag: str | None, config: object) -> str | None:
    if flag is not None:
        return None if flag.lower() in ("off", "false", "") else flag
    metrics = config.metrics  # type: ignore[attr-defined]
    return metrics.address if metrics.enabled else None
