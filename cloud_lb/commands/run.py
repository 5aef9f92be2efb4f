"""`cloud-lb run`: the controller, until SIGTERM or SIGINT (graceful stop).

With leader election on, every replica fills its caches and serves probes; only the
Lease holder starts workers. A leader that loses the Lease stops its workers and exits
non-zero (the Deployment restarts it as a standby), as client-go controllers do. A clean
shutdown releases the Lease so the standby takes over at once.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import socket
import threading

log = logging.getLogger("cloud_lb.run")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", required=True, help="the cloud-lb config file (YAML)")
    parser.add_argument("--kubeconfig", help="kubeconfig file; in-cluster config when omitted")
    parser.add_argument("--log-level", help="override logging.level from the config")
    parser.add_argument("--leader-elect", choices=("true", "false"),
                        help="override leaderElection.enabled from the config")
    parser.add_argument("--metrics-address",
                        help="override metrics.address (host:port, port 0 = any free port)")


def run(args: argparse.Namespace) -> int:
    from cloud_lb.commands.wiring import build_api, build_controller, build_provider
    from cloud_lb.config import ConfigError, load_config
    from cloud_lb.logs import setup_logging
    from cloud_lb.observability.metrics import ControllerMetrics
    from cloud_lb.observability.server import ObservabilityServer, controller_probes
    from cloud_lb.provider import CallRecorder

    try:
        config = load_config(args.config)
    except ConfigError as exc:
        print(f"invalid config {args.config}:\n{exc}")
        return 2
    setup_logging(args.log_level or config.logging.level, config.logging.format)
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())

    recorder = CallRecorder()
    provider = build_provider(config, recorder)
    api = build_api(args.kubeconfig)
    controller = build_controller(config, api=api, provider=provider)
    metrics = ControllerMetrics(provider_name=provider.name)
    metrics.watch_cloud_calls(recorder)
    controller.observer = metrics.observe_reconcile("Service")

    elect = config.leader_election.enabled if args.leader_elect is None else args.leader_elect == "true"
    elector = None
    if elect:
        from cloud_lb.kube.leader import LeaderElector
        le = config.leader_election
        identity = le.identity or f"{socket.gethostname()}_{os.getpid()}"
        elector = LeaderElector(api.api_client, name=le.lease_name, namespace=le.lease_namespace,
                                identity=identity, lease_duration=le.lease_duration,
                                renew_deadline=le.renew_deadline, retry_period=le.retry_period)
    metrics.watch_controller(controller, (lambda: elector.is_leader) if elector else None)

    server = None
    address = args.metrics_address or (config.metrics.address if config.metrics.enabled else None)
    if address:
        healthy, ready = controller_probes(controller)
        server = ObservabilityServer(address, registry=metrics.registry, healthy=healthy,
                                     ready=ready).start()
        print(f"metrics listening on {server.url}", flush=True)

    lost = threading.Event()  # leadership lost (not a signal): exit non-zero

    def stopped_leading() -> None:
        if not stop.is_set():
            lost.set()
            stop.set()

    try:
        controller.start_informers()
        if elector is None:
            controller.start_workers()
        else:
            threading.Thread(target=elector.run, name="leader-election", daemon=True,
                             kwargs={"on_started_leading": controller.start_workers,
                                     "on_stopped_leading": stopped_leading}).start()
        stop.wait()
        log.info("stopping lost_leadership=%s", lost.is_set())
    finally:
        was_leading = controller.working
        controller.stop()  # workers are done before the lease is given up: no overlap
        if elector is not None:
            elector.stop()
            if was_leading and not lost.is_set():
                elector.release()
        provider.close()
        if server is not None:
            server.stop()
    return 1 if lost.is_set() else 0
