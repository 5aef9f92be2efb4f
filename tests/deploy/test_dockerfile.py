"""The Dockerfile, read (no image builder in CI): multi-stage, slim, non-root,
`cloud-lb run` as entrypoint, and a build context that holds what it copies."""

from __future__ import annotations

import json
import re

from tests.deploy.conftest import REPO

DOCKERFILE = (REPO / "Dockerfile").read_text()
INSTRUCTIONS = [line for line in DOCKERFILE.splitlines()
                if line and not line.startswith(("#", " "))]


def stages() -> list[str]:
    return [line for line in INSTRUCTIONS if line.startswith("FROM ")]


def test_multi_stage_on_slim_python() -> None:
    assert len(stages()) >= 2
    assert all(re.match(r"FROM python:\$\{PYTHON_VERSION\}-slim AS \w+", s) for s in stages())
    final = DOCKERFILE[DOCKERFILE.rindex("\nFROM "):]
    assert "COPY --from=build /opt/cloud-lb /opt/cloud-lb" in final
    assert "pip install" not in final  # build tools stay in the build stage


def test_runs_as_a_numeric_non_root_user() -> None:
    users = [line.split()[1] for line in INSTRUCTIONS if line.startswith("USER ")]
    uid, _, gid = users[-1].partition(":")
    # numeric, so the kubelet can verify runAsNonRoot without reading /etc/passwd
    assert uid.isdigit() and int(uid) != 0 and gid.isdigit() and int(gid) != 0


def test_entrypoint_is_cloud_lb_run_with_the_deployments_config_path() -> None:
    (entrypoint,) = [line for line in INSTRUCTIONS if line.startswith("ENTRYPOINT ")]
    assert json.loads(entrypoint.removeprefix("ENTRYPOINT ")) == ["cloud-lb", "run"]
    (cmd,) = [line for line in INSTRUCTIONS if line.startswith("CMD ")]
    assert json.loads(cmd.removeprefix("CMD ")) == ["--config", "/etc/cloud-lb/config/config.yaml"]


def test_the_build_context_holds_every_copied_path() -> None:
    ignore = (REPO / ".dockerignore").read_text().splitlines()
    allowed = {line[1:].rstrip("/") for line in ignore if line.startswith("!")}
    copied = []
    for line in INSTRUCTIONS:
        if line.startswith("COPY ") and "--from=" not in line:
            copied.extend(line.split()[1:-1])
    assert copied and set(copied) <= allowed
    for path in copied:
        assert (REPO / path).exists(), path
