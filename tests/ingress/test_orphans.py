"""Orphan collection over both kinds: an Ingress load balancer whose Ingress vanished
behind the finalizer's back is collected; live Services and Ingresses are kept."""

from __future__ import annotations

import subprocess
import sys

import yaml

from tests.controller.conftest import cluster  # noqa: F401 - the fixture
from tests.ingress.conftest import IngressHarness, rule, wait_until


def test_an_ingress_removed_while_the_controller_was_down_is_collected(
        ingress_harness: IngressHarness, tmp_path) -> None:
    h = ingress_harness
    h.create_class()
    h.backend_service("coffee")
    h.create_service("svc")
    h.create_ingress("keep", [rule(None, ("/", "Prefix", "coffee"))])
    h.create_ingress("lost", [rule(None, ("/", "Prefix", "coffee"))])
    for name in ("keep", "lost"):
        h.ingress_address(name)
    h.address("svc")
    h.settle()
    h.stop()
    h.patch_ingress("lost", {"metadata": {"finalizers": None}})
    h.net.delete_namespaced_ingress("lost", "default")
    wait_until(lambda: h.ingress("lost") is None, message="the Ingress gone")
    # the offline command sees it too (a dry run: nothing deleted)
    config = tmp_path / "config.yaml"
    config.write_text(yaml.safe_dump(h.raw_config))
    dry = subprocess.run([sys.executable, "-m", "cloud_lb.cli", "gc", "--config", str(config),
                          "--kubeconfig", h.cluster.kubeconfig],
                         capture_output=True, text=True, timeout=60)
    assert dry.returncode == 0, dry.stdout + dry.stderr
    assert "orphan: Ingress/default/lost" in dry.stdout and "keep" not in dry.stdout
    controller = h.start()
    orphans = controller.collect_orphans()
    assert [(r.kind.value, r.name) for r in orphans] == [("Ingress", "lost")]
    assert sorted(r.name for r in h.provider.list_owned()) == ["keep", "svc"]
