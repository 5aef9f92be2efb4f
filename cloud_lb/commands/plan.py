"""`cloud-lb plan`: what `ensure` (or delete) would change for each managed Service.
Reads only: the provider's `plan` makes no mutating call."""

from __future__ import annotations

import argparse

from cloud_lb.commands.inventory import add_common_arguments


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_common_arguments(parser)


def run(args: argparse.Namespace) -> int:
    from cloud_lb.commands.inventory import read_managed
    from cloud_lb.commands.wiring import build_api, build_provider, load_config_or_exit

    config = load_config_or_exit(args.config)
    provider = build_provider(config)
    try:
        managed = read_managed(build_api(args.kubeconfig), config.translate_settings(),
                               provider.capabilities, config.ingress_settings())
        changes_total = 0
        for item in managed:
            if item.error:
                print(f"{item.key}: invalid: {item.error}")
                continue
            if item.spec is None:
                exists = provider.get(item.ref) is not None
                print(f"{item.key}: {'- load balancer (delete)' if exists else 'nothing to delete'}")
                changes_total += int(exists)
                continue
            changes = provider.plan(item.spec)
            changes_total += len(changes)
            print(f"{item.key}: {'no changes' if not changes else f'{len(changes)} change(s)'}")
            for change in changes:
                print(f"    {change}")
        print(f"{len(managed)} service(s), {changes_total} change(s)")
    finally:
        provider.close()
    return 0
