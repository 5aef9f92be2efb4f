"""`cloud-lb fake-gce`: serve the fake Compute Engine API until interrupted.

Point `google-cloud-compute` (or the gcp provider's `apiEndpoint`) at the printed URL
with anonymous credentials. Instances for cluster nodes can be seeded with
`--instance ZONE/NAME[=IP]` (repeatable); their providerID is
`gce://<project>/<zone>/<name>`.
"""

from __future__ import annotations

import argparse
import logging
import threading


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--listen",
        default="127.0.0.1:0",
        metavar="HOST:PORT",
        help="address to bind (default 127.0.0.1:0, an OS-chosen port)",
    )
    parser.add_argument("--project", default="fake-project")
    parser.add_argument("--region", default="us-central1")
    parser.add_argument(
        "--zones", default="", help="comma-separated zones of the region (default <region>-a,-b,-c)"
    )
    parser.add_argument(
        "--instance",
        action="append",
        default=[],
        metavar="ZONE/NAME[=IP]",
        help="seed an instance (repeatable)",
    )
    parser.add_argument(
        "--operation-seconds",
        type=float,
        default=0.0,
        help="how long each operation stays RUNNING (default 0)",
    )


def _parse_listen(value: str) -> tuple[str, int]:
    host, sep, port = value.rpartition(":")
    if not sep or not port.isdigit():
        raise SystemExit(f"--listen must be HOST:PORT, got {value!r}")
    return host.strip("[]") or "127.0.0.1", int(port)


def run(args: argparse.Namespace) -> int:
    from cloud_lb.testing.fakegce import FakeGCE

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    host, port = _parse_listen(args.listen)
    zones = tuple(z for z in args.zones.split(",") if z) or tuple(
        f"{args.region}-{s}" for s in "abc"
    )
    fake = FakeGCE(project=args.project, regions={args.region: zones}, host=host, port=port)
    fake.operations.set_timing(running_seconds=args.operation_seconds)
    for spec in args.instance:
        where, _, ip = spec.partition("=")
        zone, _, name = where.partition("/")
        if zone not in zones or not name:
            raise SystemExit(
                f"--instance must be ZONE/NAME[=IP] with ZONE in {zones}, got {spec!r}"
            )
        fake.add_instance(zone, name, ip=ip or None)
    fake.start()
    print(
        f"fake Compute API for project {args.project} region {args.region} at {fake.url}",
        flush=True,
    )
    stop = threading.Event()
    try:
        stop.wait()
    except KeyboardInterrupt:
        pass
    finally:
        fake.stop()
    return 0
