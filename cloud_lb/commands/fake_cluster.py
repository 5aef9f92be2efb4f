"""`cloud-lb fake-cluster`: serve a fake cluster until SIGINT or SIGTERM.

The fake API server, N Ready nodes on loopback addresses (127.0.1.1, 127.0.1.2, ... by
default) and the kube-proxy simulator answering on every node port of every Service.
It writes a kubeconfig for `kubectl` / `cloud-lb run --kubeconfig` (kept after exit when
given with `--kubeconfig`), and prints that path and the node addresses. Linux only:
other systems route only 127.0.0.1 to the loopback interface.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from typing import Any, TextIO

DEFAULT_LISTEN = "127.0.0.1:0"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--nodes", type=int, default=3, help="number of Ready nodes (default 3)")
    parser.add_argument(
        "--kubeconfig",
        metavar="FILE",
        help="write the kubeconfig here (default: a temporary file, removed on exit)",
    )
    parser.add_argument(
        "--listen",
        metavar="HOST:PORT",
        default=DEFAULT_LISTEN,
        help=f"API server address (default {DEFAULT_LISTEN}: any free port)",
    )
    parser.add_argument(
        "--node-subnet",
        metavar="CIDR",
        default="127.0.1.0/24",
        help="a /24 in 127.0.0.0/8 for the node addresses (default 127.0.1.0/24); "
        "'auto' picks one no other fake cluster on this host uses",
    )
    parser.add_argument("--log-level", default="warning", help="debug, info, warning (default)")


def parse_listen(value: str) -> tuple[str, int]:
    host, sep, port = value.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise ValueError(f"--listen {value!r}: expected HOST:PORT such as {DEFAULT_LISTEN}")
    return host.strip("[]"), int(port)


def run(args: argparse.Namespace) -> int:
    from cloud_lb.logs import setup_logging
    from cloud_lb.testing.fakecluster import FakeCluster, SubnetUnavailableError

    setup_logging(args.log_level)
    try:
        host, port = parse_listen(args.listen)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.nodes < 0 or args.nodes > 254:
        print("error: --nodes must be between 0 and 254", file=sys.stderr)
        return 2
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    subnet = None if args.node_subnet == "auto" else args.node_subnet
    kubeconfig = os.path.abspath(args.kubeconfig) if args.kubeconfig else None
    cluster = FakeCluster(
        nodes=args.nodes, node_subnet=subnet, host=host, port=port, kubeconfig_path=kubeconfig
    )
    try:
        cluster.start()
    except (SubnetUnavailableError, OSError) as exc:
        print(f"error: cannot start the fake cluster: {exc}", file=sys.stderr)
        return 1
    try:
        describe(cluster, cluster.kubeconfig, sys.stdout)
        stop.wait()
        print("stopping the fake cluster", flush=True)
    finally:
        cluster.stop()
    return 0


def describe(cluster: Any, kubeconfig: str, out: TextIO) -> None:
    lines = [
        "fake cluster is up",
        f"  API server:  {cluster.kube.url}",
        f"  kubeconfig:  {kubeconfig}",
        f"  node subnet: {cluster.subnet}",
        "  nodes:",
        *(f"    {node.name:<12} {node.ip}" for node in cluster.nodes),
        f"try: kubectl --kubeconfig {kubeconfig} get nodes -o wide",
        "Ctrl-C (or SIGTERM) stops it.",
    ]
    out.write("\n".join(lines) + "\n")
    out.flush()
