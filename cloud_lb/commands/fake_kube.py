"""`cloud-lb fake-kube`: serve the fake Kubernetes API server until SIGINT or SIGTERM.

It writes a kubeconfig (plain HTTP, a dummy token) that kubectl and the official client
accept, prints the URL and the kubeconfig path, and serves. No nodes, no kube-proxy
simulator: for those, `cloud-lb fake-cluster`.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading

DEFAULT_LISTEN = "127.0.0.1:0"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--listen", metavar="HOST:PORT", default=DEFAULT_LISTEN,
        help=f"address to serve on (default {DEFAULT_LISTEN}: any free port on loopback)",
    )
    parser.add_argument(
        "--kubeconfig", metavar="FILE",
        help="write the kubeconfig here (default: a temporary file removed on exit)",
    )
    parser.add_argument("--history", type=int, default=10_000, metavar="N",
                        help="watch history window in events (default 10000); older "
                        "resourceVersions get 410 Gone")
    parser.add_argument("--bookmark-interval", type=float, default=10.0, metavar="SECONDS",
                        help="seconds between BOOKMARK events on watches that allow them "
                        "(default 10)")
    parser.add_argument("--log-level", default="warning",
                        help="debug (one line per request), info, warning (default)")


def parse_listen(value: str) -> tuple[str, int]:
    host, sep, port = value.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise ValueError(f"--listen {value!r}: expected HOST:PORT such as {DEFAULT_LISTEN}")
    return host.strip("[]"), int(port)


def run(args: argparse.Namespace) -> int:
    import logging

    from cloud_lb.testing.fakekube import FakeKubeServer

    logging.basicConfig(level=args.log_level.upper(), stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s %(message)s")
    try:
        host, port = parse_listen(args.listen)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.history < 1 or args.bookmark_interval <= 0:
        print("error: --history must be >= 1 and --bookmark-interval > 0", file=sys.stderr)
        return 2
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    server = FakeKubeServer(
        host, port,
        kubeconfig_path=os.path.abspath(args.kubeconfig) if args.kubeconfig else None,
        history_size=args.history, bookmark_interval=args.bookmark_interval,
    )
    try:
        server.start()
    except OSError as exc:
        print(f"error: cannot listen on {args.listen}: {exc}", file=sys.stderr)
        return 1
    try:
        print("fake Kubernetes API server is up", flush=True)
        print(f"  URL:        {server.url}", flush=True)
        print(f"  kubeconfig: {server.kubeconfig}", flush=True)
        print(f"try: kubectl --kubeconfig {server.kubeconfig} get nodes,svc -A", flush=True)
        print("Ctrl-C (or SIGTERM) stops it.", flush=True)
        stop.wait()
        print("stopping the fake API server", flush=True)
    finally:
        server.stop()
    return 0
