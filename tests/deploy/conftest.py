"""deploy/ rendered with tests/deploy/kustomize.py: the base, each overlay, and each
overlay with its opt-in patches switched on the way its kustomization.yaml comments
tell a user to (uncommenting lines), in a copy under tmp_path."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.deploy.kustomize import build

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy"
K8S_VERSION = "1.33.0"  # a Kubernetes minor kubernetes-validate ships schemas for
OVERLAYS = ("openstack", "aws", "gcp")

# overlay -> (commented line, uncommented line) pairs that switch its options on
OPT_INS: dict[str, list[tuple[str, str]]] = {
    "aws": [("  # - path: serviceaccount-irsa.yaml", "  - path: serviceaccount-irsa.yaml")],
    "gcp": [("  # - path: serviceaccount-workload-identity.yaml",
             "  - path: serviceaccount-workload-identity.yaml"),
            ("  # - path: deployment-key-file.yaml", "  - path: deployment-key-file.yaml")],
}

Obj = dict[str, Any]


@dataclass
class Rendering:
    name: str
    directory: Path
    objects: list[Obj]

    def one(self, kind: str, name: str | None = None) -> Obj:
        found = [o for o in self.objects
                 if o["kind"] == kind and (name is None or o["metadata"]["name"] == name)]
        assert len(found) == 1, f"{self.name}: {len(found)} {kind} {name or ''}"
        return found[0]

    def all(self, kind: str) -> list[Obj]:
        return [o for o in self.objects if o["kind"] == kind]

    @property
    def deployment(self) -> Obj:
        return self.one("Deployment", "cloud-lb")

    @property
    def pod(self) -> Obj:
        return self.deployment["spec"]["template"]["spec"]

    @property
    def container(self) -> Obj:
        (container,) = [c for c in self.pod["containers"] if c["name"] == "cloud-lb"]
        return container

    def config_text(self) -> str:
        (cm,) = self.all("ConfigMap")
        return cm["data"]["config.yaml"]

    def config(self) -> Obj:
        return yaml.safe_load(self.config_text())


def render_all(tmp: Path) -> list[Rendering]:
    out = [Rendering("base", DEPLOY / "base", build(DEPLOY / "base"))]
    for overlay in OVERLAYS:
        directory = DEPLOY / "overlays" / overlay
        out.append(Rendering(overlay, directory, build(directory)))
    copy = tmp / "deploy"
    shutil.copytree(DEPLOY, copy)
    for overlay, switches in OPT_INS.items():
        path = copy / "overlays" / overlay / "kustomization.yaml"
        text = path.read_text()
        for commented, active in switches:
            assert commented in text, f"{overlay}: the opt-in line {commented!r} is gone"
            text = text.replace(commented, active)
        path.write_text(text)
        out.append(Rendering(f"{overlay}+options", path.parent, build(path.parent)))
    return out


@pytest.fixture(scope="module")
def renderings(tmp_path_factory: pytest.TempPathFactory) -> list[Rendering]:
    return render_all(tmp_path_factory.mktemp("render"))


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    # one test per rendering, named after it
    if "rendering_name" in metafunc.fixturenames:
        names = ["base", *OVERLAYS, *(f"{o}+options" for o in OPT_INS)]
        metafunc.parametrize("rendering_name", names)


@pytest.fixture
def rendering(renderings: list[Rendering], rendering_name: str) -> Rendering:
    (found,) = [r for r in renderings if r.name == rendering_name]
    return found
