"""`cloud-lb check-config FILE`: validate a config file without touching anything.

Exit 0 with a summary (secrets masked) when the file is usable, 1 with one line per
problem, each naming the field, when it is not.
"""

from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", metavar="FILE", help="the config file (YAML)")
    parser.add_argument("--show", action="store_true",
                        help="also print the whole effective config, defaults filled in (secrets masked)")


def summary(config: object) -> list[str]:
    """The lines an operator checks first: what runs where, and for which Services."""
    from cloud_lb.config import Config
    from cloud_lb.durations import format_duration

    assert isinstance(config, Config)
    c = config.controller
    klass = c.load_balancer_class or "(none)"
    unclassed = "yes" if c.manage_unclassed else "no"
    selector = ",".join(f"{k}={v}" for k, v in sorted(c.node_selector.items())) or "(all nodes)"
    hc = c.health_check
    lines = [
        f"cluster:             {config.cluster_name}",
        f"provider:            {config.provider}",
        f"workers:             {c.workers}",
        f"loadBalancerClass:   {klass} (unclassed Services managed: {unclassed})",
        f"nodes:               {selector}, {c.address_type}, excluding label {c.exclude_label}",
        f"health checks:       {c.cluster_health_check} for Cluster policy; every "
        f"{hc.interval}s, timeout {hc.timeout}s, {hc.healthy_threshold} up / {hc.unhealthy_threshold} down",
        f"periods:             resync {format_duration(c.resync_period)}, node sync "
        f"{format_duration(c.node_sync_period)} (debounce {format_duration(c.node_sync_debounce)})",
        f"rate limit:          {config.rate_limit.qps:g}/s, burst {config.rate_limit.burst}, backoff "
        f"{format_duration(config.rate_limit.backoff_base)}..{format_duration(config.rate_limit.backoff_max)}",
        f"logging:             {config.logging.level} {config.logging.format}",
        f"metrics:             {config.metrics.address if config.metrics.enabled else 'off'}",
        f"leader election:     " + (f"Lease {config.leader_election.lease_namespace}/"
                                    f"{config.leader_election.lease_name}"
                                    if config.leader_election.enabled else "off"),
        f"orphan GC:           " + (f"every {format_duration(config.gc.period)}"
                                    if config.gc.enabled else "off"),
    ]
    return lines


def run(args: argparse.Namespace) -> int:
    import yaml

    from cloud_lb.config import ConfigError, dump_yaml, load_config

    try:
        config = load_config(args.file)
        section = config.provider_settings().model_dump(mode="json", by_alias=True)
    except ConfigError as exc:
        print(f"{args.file}: invalid config")
        for path, message in exc.problems:
            print(f"  {path}: {message}")
        return 1
    print(f"{args.file}: OK")
    for line in summary(config):
        print(f"  {line}")
    print(f"  {config.provider} settings (secrets masked):")
    for line in yaml.safe_dump(section, sort_keys=False).splitlines():
        print(f"    {line}")
    if args.show:
        print("effective config:")
        print(dump_yaml(config), end="")
    return 0
