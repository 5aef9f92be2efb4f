"""`cloud-lb run`: the controller, until SIGTERM or SIGINT (graceful stop)."""

from __future__ import annotations

import argparse
import logging
import signal
import threading

log = logging.getLogger("cloud_lb.run")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", required=True, help="the cloud-lb config file (YAML)")
    parser.add_argument("--kubeconfig", help="kubeconfig file; in-cluster config when omitted")
    parser.add_argument("--log-level", help="override logging.level from the config")


def run(args: argparse.Namespace) -> int:
    from cloud_lb.commands.wiring import build_api, build_controller, build_provider
    from cloud_lb.config import ConfigError, load_config
    from cloud_lb.logs import setup_logging

    try:
        config = load_config(args.config)
    except ConfigError as exc:
        print(f"invalid config {args.config}:\n{exc}")
        return 2
    setup_logging(args.log_level or config.logging.level, config.logging.format)
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    provider = build_provider(config)
    controller = build_controller(config, api=build_api(args.kubeconfig), provider=provider)
    try:
        controller.start()
        stop.wait()
        log.info("signal received, stopping")
    finally:
        controller.stop()
        provider.close()
    return 0
