"""`cloud-lb status`: a table of the managed load balancers, from the cloud and from
the Events the controller wrote (last sync, last error)."""

from __future__ import annotations

import argparse
from typing import Any

from cloud_lb.commands.inventory import add_common_arguments

SYNC_REASONS = {"EnsuredLoadBalancer", "UpdatedLoadBalancer"}
COLUMNS = ("NAMESPACE/NAME", "CLASS", "LB ID", "ADDRESS", "LISTENERS", "BACKENDS",
           "LAST SYNC", "LAST ERROR")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_common_arguments(parser)


def _last_events(events: list[dict[str, Any]], uid: str) -> tuple[str, str]:
    mine = [e for e in events if (e.get("involvedObject") or {}).get("uid") == uid]
    mine.sort(key=lambda e: e.get("lastTimestamp") or "")
    last_sync = next((e.get("lastTimestamp") or "" for e in reversed(mine)
                      if e.get("reason") in SYNC_REASONS), "")
    last_error = next((f"{e.get('reason')}: {e.get('message')}" for e in reversed(mine)
                       if e.get("type") == "Warning" and (e.get("lastTimestamp") or "") > last_sync), "")
    return last_sync or "-", last_error or "-"


def render_table(rows: list[tuple[str, ...]]) -> str:
    widths = [max(len(r[i]) for r in [COLUMNS, *rows]) for i in range(len(COLUMNS))]
    widths[-1] = 0  # the error column is last and unbounded
    return "\n".join("  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip()
                     for row in [COLUMNS, *rows])


def run(args: argparse.Namespace) -> int:
    from cloud_lb.commands.inventory import read_managed
    from cloud_lb.commands.wiring import build_api, build_provider, load_config_or_exit
    from cloud_lb.kube.client import EVENTS

    config = load_config_or_exit(args.config)
    api = build_api(args.kubeconfig)
    provider = build_provider(config)
    try:
        managed = read_managed(api, config.translate_settings(), provider.capabilities,
                               config.ingress_settings())
        events, _ = api.list_all(EVENTS)
        rows = []
        for item in managed:
            lb = provider.get(item.ref)
            last_sync, last_error = _last_events(events, item.ref.uid)
            if item.error:
                last_error = f"InvalidLoadBalancerSpec: {item.error}"
            backends = "-"
            if lb is not None:
                healthy = "?" if lb.backends_healthy is None else str(lb.backends_healthy)
                backends = f"{healthy}/{lb.backends_total}"
            rows.append((
                item.key,
                (item.service.get("spec") or {}).get("loadBalancerClass") or "-",
                lb.provider_id if lb else "-",
                ",".join(p.ip or p.hostname or "" for p in lb.ingress) if lb and lb.ingress else "-",
                ",".join(lb.listeners) if lb and lb.listeners else "-",
                backends, last_sync, last_error,
            ))
        print(render_table(rows))
    finally:
        provider.close()
    return 0
