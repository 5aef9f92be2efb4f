"""plan and status list Ingresses next to Services."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from cloud_lb.cli import main
from tests.ingress.conftest import IngressHarness, ingress_harness, rule  # noqa: F401


@pytest.fixture
def config_file(ingress_harness: IngressHarness, tmp_path: Path) -> str:
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(ingress_harness.raw_config))
    return str(path)


def test_plan_and_status_show_an_ingress(ingress_harness: IngressHarness, config_file: str,
                                         capsys: Any) -> None:
    h = ingress_harness
    h.create_class()
    h.backend_service("coffee")
    h.create_ingress("cafe", rules=[rule("cafe.example", ("/coffee", "Prefix", "coffee"))])
    address = h.ingress_address("cafe")
    h.settle()
    kc = h.cluster.kubeconfig
    assert main(["status", "--config", config_file, "--kubeconfig", kc]) == 0
    rows = capsys.readouterr().out.splitlines()
    assert any(r.startswith("Ingress:default/cafe") and address in r for r in rows)
    assert main(["plan", "--config", config_file, "--kubeconfig", kc]) == 0
    assert "Ingress:default/cafe: no changes" in capsys.readouterr().out
