"""`python -m benchmarks`: options, the run, the output.

    python -m benchmarks --quick                      # N=50, CI smoke size, < 3 min
    python -m benchmarks --json out.json --chart out.png
    python -m benchmarks --scenario cold-start --n 200 --mode cloud-lb
    python -m benchmarks --provider openstack --mode cloud-lb --n 100

Exit status: 0 when every scenario converged and every count target held; 1 otherwise
(wall-clock targets are printed, not enforced: they depend on the machine).
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import yaml

from benchmarks.clouds import PROVIDERS
from benchmarks.runner import MODES, SCENARIOS, Bench, BenchOptions
from benchmarks.simcloud import CloudSettings

QUICK = {"n": 50, "n_sequential": 5, "scale_services": 1_000, "scale_nodes": 100,
         "scale_load_balancers": 50, "timeout": 120.0}
COUNT_TARGETS = ("restart: 0 mutating", "unchanged resync", "node churn")


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m benchmarks",
                                description="cloud-lb benchmarks on a fake cluster and a "
                                            "simulated (or fake) cloud")
    p.add_argument("--quick", action="store_true",
                   help="N=50, sequential on 5, scale 1,000 Services/100 nodes (CI smoke)")
    p.add_argument("--scenario", action="append", choices=SCENARIOS, metavar="NAME",
                   help=f"run only these (repeatable): {', '.join(SCENARIOS)}; the cold "
                        "start always runs first, it builds what the others need")
    p.add_argument("--n", type=int, help="LoadBalancer Services (default 1000)")
    p.add_argument("--n-sequential", type=int,
                   help="Services for the sequential model (default 20; extrapolated to N)")
    p.add_argument("--nodes", type=int, default=3, help="nodes of the cluster (default 3)")
    p.add_argument("--provider", choices=PROVIDERS, default="sim")
    p.add_argument("--mode", choices=(*MODES, "both"), default="both")
    p.add_argument("--workers", type=int, default=4,
                   help="cloud-lb worker threads (default 4, the controller's default)")
    p.add_argument("--json", type=Path, help="write one record per scenario here")
    p.add_argument("--chart", type=Path, help="write the time-to-address chart (PNG) here")
    cloud = p.add_argument_group("the simulated cloud")
    defaults = CloudSettings()
    for flag, attr, unit in (("--read-latency", "read_latency", "s"),
                             ("--write-latency", "write_latency", "s"),
                             ("--provision-time", "provision_seconds", "s"),
                             ("--update-time", "update_seconds", "s"),
                             ("--delete-time", "delete_seconds", "s"),
                             ("--rate", "rate", "mutating calls/s")):
        cloud.add_argument(flag, type=float, dest=attr, default=getattr(defaults, attr),
                           help=f"default {getattr(defaults, attr):g} {unit}")
    cloud.add_argument("--burst", type=int, default=defaults.burst,
                       help=f"default {defaults.burst}")
    scale = p.add_argument_group("the scale scenario")
    scale.add_argument("--scale-services", type=int, help="default 10000")
    scale.add_argument("--scale-nodes", type=int, help="default 1000")
    scale.add_argument("--scale-lb", type=int, dest="scale_load_balancers",
                       help="LoadBalancer Services among them (default 1000)")
    p.add_argument("--provider-config", action="append", default=[], metavar="KEY=VALUE",
                   help="override a key of the provider's config section (camelCase, value "
                        "parsed as YAML), e.g. inlineWaitSeconds=0 (repeatable)")
    p.add_argument("--timeout", type=float, help="per scenario step (default 900 s)")
    p.add_argument("--experiment", action="append", default=[], metavar="NAME",
                   help="apply an opt-in controller change in the controller process "
                        "(see benchmarks/experiments.py)")
    p.add_argument("--from-json", type=Path, metavar="FILE",
                   help="run nothing: print the table of a saved run (and --chart it)")
    p.add_argument("--log-level", default="warning", help="the controller's log level")
    p.add_argument("--logs", type=Path, help="keep the controller logs in this directory")
    return p


def options_from(args: argparse.Namespace) -> BenchOptions:
    values: dict[str, object] = dict(QUICK) if args.quick else {}
    for name in ("n", "n_sequential", "scale_services", "scale_nodes",
                 "scale_load_balancers", "timeout"):
        if getattr(args, name) is not None:
            values[name] = getattr(args, name)
    if "n" in values and "n_sequential" not in values:
        values["n_sequential"] = min(int(values["n"]), 20)  # type: ignore[call-overload]
    cloud = CloudSettings(read_latency=args.read_latency, write_latency=args.write_latency,
                          provision_seconds=args.provision_seconds,
                          update_seconds=args.update_seconds,
                          delete_seconds=args.delete_seconds, rate=args.rate, burst=args.burst)
    if args.logs is not None:
        args.logs.mkdir(parents=True, exist_ok=True)
    overrides = {}
    for item in args.provider_config:
        key, sep, raw = item.partition("=")
        if not sep or not key:
            raise SystemExit(f"--provider-config wants KEY=VALUE, got {item!r}")
        overrides[key] = yaml.safe_load(raw)
    return BenchOptions(
        nodes=args.nodes, provider=args.provider,
        modes=MODES if args.mode == "both" else (args.mode,),
        scenarios=tuple(args.scenario) if args.scenario else SCENARIOS,
        workers=args.workers, cloud=cloud, experiments=tuple(args.experiment),
        log_level=args.log_level, workdir=args.logs, provider_overrides=overrides,
        **values)  # type: ignore[arg-type]


def main(argv: Sequence[str] | None = None) -> int:
    from benchmarks import report, targets

    args = parser().parse_args(argv)
    options = options_from(args)
    started = time.monotonic()
    if args.from_json:
        results, saved = report.load_json(args.from_json)
        options = dataclasses.replace(options, provider=saved.get("provider", "sim"),
                                      cloud=CloudSettings(**saved.get("cloud", {})))
        args.json = None
    else:
        results = Bench(options, say=lambda text: print(text, flush=True)).run()
    print()
    print(report.table(results))
    compared = report.comparison_table(report.comparison(results))
    if compared:
        print()
        print(compared)
    checks = targets.check(results)
    print("\ntargets:")
    print(targets.render(checks))
    if args.json:
        report.write_json(args.json, results, options=_jsonable(options))
        print(f"\nwrote {args.json}")
    bound = options.cloud if options.provider == "sim" else None
    if args.chart and report.chart(args.chart, results, bound):
        print(f"wrote {args.chart}")
    print(f"total {time.monotonic() - started:.0f} s")
    counts_ok = all(c.met is not False for c in checks
                    if any(c.target.startswith(t) for t in COUNT_TARGETS))
    return 0 if counts_ok and all(r.converged for r in results) else 1


def _jsonable(options: BenchOptions) -> dict[str, object]:
    out = dataclasses.asdict(options)
    out.pop("workdir")  # a local path: not part of the record
    return out


if __name__ == "__main__":
    sys.exit(main())
