"""`cloud-lb fake-openstack`: serve the fake OpenStack until SIGINT or SIGTERM.

Prints a clouds.yaml snippet (and writes it with `--clouds-yaml FILE`) that points
openstacksdk, the `openstack` CLI or the openstack provider at the fake, plus the IDs of
the networks the provider config needs. `--server NAME[=IP]` (repeatable) seeds Nova
servers for cluster nodes; their providerID is `openstack:///<server-id>`.
The snippet holds the fake's generated password: it is a test credential, printed on
purpose so that a person can use the fake.
"""

from __future__ import annotations

import argparse
import logging
import signal
import threading
from pathlib import Path
from types import FrameType


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--listen", default="127.0.0.1:0", metavar="HOST:PORT",
                        help="address to bind (default 127.0.0.1:0, an OS-chosen port)")
    parser.add_argument("--clouds-yaml", metavar="FILE",
                        help="also write the clouds.yaml snippet to FILE")
    parser.add_argument("--cloud-name", default="fake-openstack",
                        help="the cloud's name in clouds.yaml (default fake-openstack)")
    parser.add_argument("--application-credential", action="store_true",
                        help="authenticate with an application credential, not a password")
    parser.add_argument("--provisioning-delay", type=float, default=2.0, metavar="SECONDS",
                        help="how long Octavia operations stay PENDING_* (default 2)")
    parser.add_argument("--server", action="append", default=[], metavar="NAME[=IP]",
                        help="seed a Nova server (repeatable)")


def _parse_listen(value: str) -> tuple[str, int]:
    host, sep, port = value.rpartition(":")
    if not sep or not port.isdigit():
        raise SystemExit(f"--listen must be HOST:PORT, got {value!r}")
    return host.strip("[]") or "127.0.0.1", int(port)


def run(args: argparse.Namespace) -> int:
    from cloud_lb.testing.fakeopenstack import FakeOpenStack

    logging.basicConfig(level=logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s %(message)s")
    host, port = _parse_listen(args.listen)
    fake = FakeOpenStack(host=host, port=port, provisioning_delay=args.provisioning_delay)
    servers = []
    for spec in args.server:
        name, _, ip = spec.partition("=")
        if not name:
            raise SystemExit(f"--server must be NAME[=IP], got {spec!r}")
        servers.append(fake.add_server(name, ip or None))
    fake.start()
    snippet = fake.clouds_yaml(args.cloud_name,
                               application_credential=args.application_credential)
    if args.clouds_yaml:
        Path(args.clouds_yaml).write_text(snippet)
    print(f"fake OpenStack at {fake.url} (Keystone {fake.auth_url})")
    print(f"# clouds.yaml{' (written to ' + args.clouds_yaml + ')' if args.clouds_yaml else ''}")
    print(snippet, end="")
    print("# openstack provider config")
    print(f"openstack:\n  cloud: {args.cloud_name}\n"
          f"  subnetId: {fake.private_subnet['id']}\n"
          f"  floatingNetworkId: {fake.public_network['id']}")
    for server in servers:
        print(f"# node {server['name']}: providerID openstack:///{server['id']}")
    print("serving until SIGINT or SIGTERM", flush=True)

    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        stop.wait()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        fake.stop()
    return 0
