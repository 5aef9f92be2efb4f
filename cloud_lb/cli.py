"""`cloud-lb` command line: a thin dispatcher over `cloud_lb.commands.<name>` modules.

Each command lives in its own module so that importing the CLI does not import every
cloud SDK: a command module is only imported when that command runs.
"""

from __future__ import annotations

import argparse
import importlib
import sys

# command name -> (module under cloud_lb.commands, one-line help)
COMMANDS: dict[str, tuple[str, str]] = {
    "run": ("run", "run the controller"),
    "plan": ("plan", "show what the controller would change, without changing it"),
    "status": ("status", "show the managed load balancers"),
    "gc": ("gc", "find (and with --apply delete) load balancers whose object is gone"),
    "check-config": ("check_config", "validate a config file"),
    "demo": ("demo", "run a self-contained demo: fake cluster, controller, local load balancer"),
    "fake-kube": ("fake_kube", "serve a fake Kubernetes API server"),
    "fake-cluster": ("fake_cluster", "serve a fake cluster: API server, nodes and a kube-proxy simulator"),
    "fake-gce": ("fake_gce", "serve a fake Google Compute Engine API (for the gcp provider)"),
    "fake-openstack": ("fake_openstack", "serve a fake OpenStack: Keystone, Octavia, Neutron, Nova"),
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="cloud-lb", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, (module_name, help_text) in COMMANDS.items():
        try:
            module = importlib.import_module(f"cloud_lb.commands.{module_name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"cloud_lb.commands.{module_name}":
                raise
            continue  # command not built yet
        cmd = sub.add_parser(name, help=help_text, description=help_text)
        module.add_arguments(cmd)
        cmd.set_defaults(_module=module)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args._module.run(args) or 0)
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
