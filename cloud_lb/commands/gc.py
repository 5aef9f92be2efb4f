"""`cloud-lb gc`: load balancers tagged as this cluster's whose Service (or Ingress,
when Ingress support is on and the provider serves L7) is gone. Dry run by default;
`--apply` deletes them (the provider checks ownership again)."""

from __future__ import annotations

import argparse

from cloud_lb.commands.inventory import add_common_arguments


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_common_arguments(parser)
    parser.add_argument("--apply", action="store_true", help="delete the orphans found")


def run(args: argparse.Namespace) -> int:
    from cloud_lb.commands.inventory import live_ingress_uids, live_uids
    from cloud_lb.commands.wiring import build_api, build_provider, load_config_or_exit
    from cloud_lb.controller.orphans import collect_orphans
    from cloud_lb.model import ObjectKind

    config = load_config_or_exit(args.config)
    provider = build_provider(config)
    try:
        api = build_api(args.kubeconfig)
        ingresses = config.ingress_settings().enabled and provider.capabilities.l7
        kinds = frozenset({ObjectKind.SERVICE, *([ObjectKind.INGRESS] if ingresses else [])})
        orphans = collect_orphans(
            provider, lambda: live_uids(api) | (live_ingress_uids(api) if ingresses else set()),
            apply=args.apply, kinds=kinds)
        for ref in orphans:
            print(f"{'deleted' if args.apply else 'orphan'}: {ref} uid={ref.uid}")
        if not orphans:
            print("no orphaned load balancers")
        elif args.apply:
            print(f"deleted {len(orphans)} orphaned load balancer(s)")
        else:
            print(f"{len(orphans)} orphan(s); run with --apply to delete them")
    finally:
        provider.close()
    return 0
