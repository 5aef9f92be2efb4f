"""Every rendered object is valid Kubernetes (strict OpenAPI schemas of a pinned
minor, offline), the pieces fit together (config, mounts, probes, ports, selectors,
service account, secrets), and the Deployment runs as the issue asks: two replicas with
leader election, probes, resources, non-root, read-only root, no escalation, a PDB."""

from __future__ import annotations

from pathlib import Path

import kubernetes_validate
import pytest
import yaml

from cloud_lb import __version__
from cloud_lb.config import parse_config
from tests.deploy.conftest import DEPLOY, K8S_VERSION, OVERLAYS, Rendering

NAMESPACE = "cloud-lb-system"


def test_every_object_validates_against_the_schemas(rendering: Rendering) -> None:
    assert rendering.objects
    for obj in rendering.objects:
        try:
            kubernetes_validate.validate(obj, K8S_VERSION, strict=True)
        except kubernetes_validate.ValidationError as exc:
            pytest.fail(f"{rendering.name}: {obj['kind']}/{obj['metadata']['name']}: {exc.message}")


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_credential_templates_validate_and_name_what_the_deployment_mounts(overlay: str) -> None:
    directory = DEPLOY / "overlays" / overlay
    templates = [d for d in yaml.safe_load_all((directory / "credentials.example.yaml").read_text())
                 if d]
    for secret in templates:
        kubernetes_validate.validate(secret, K8S_VERSION, strict=True)
        assert secret["metadata"]["namespace"] == NAMESPACE
    kustomization = (directory / "kustomization.yaml").read_text()
    assert "credentials.example.yaml" not in yaml.safe_load(kustomization)["resources"], \
        "applying the overlay would overwrite the real Secret with the template"
    names = {s["metadata"]["name"] for s in templates}
    assert names == {f"cloud-lb-{overlay}"}


def test_all_in_the_namespace_and_every_secret_reference_has_a_template(
        rendering: Rendering) -> None:
    for obj in rendering.objects:
        if obj["kind"] not in ("Namespace", "ClusterRole", "ClusterRoleBinding"):
            assert obj["metadata"]["namespace"] == NAMESPACE, obj["metadata"]
    secrets = {v["secret"]["secretName"] for v in rendering.pod.get("volumes", []) if "secret" in v}
    secrets |= {e["secretRef"]["name"] for e in rendering.container.get("envFrom", [])
                if "secretRef" in e}
    if rendering.name == "base":
        assert not secrets
        return
    overlay = rendering.name.split("+")[0]
    path = DEPLOY / "overlays" / overlay / "credentials.example.yaml"
    template = yaml.safe_load(path.read_text())
    assert secrets <= {template["metadata"]["name"]}


def test_the_config_is_valid_and_agrees_with_the_manifests(rendering: Rendering) -> None:
    config = parse_config(rendering.config_text(), filename=f"{rendering.name} config.yaml")
    expected_provider = "local" if rendering.name == "base" else rendering.name.split("+")[0]
    assert config.provider == expected_provider
    # leader election on, on the Lease the Role grants, in this namespace
    le = config.leader_election
    assert le.enabled and le.lease_namespace == NAMESPACE
    role = rendering.one("Role")
    assert role["metadata"]["namespace"] == NAMESPACE
    named = [r for r in role["rules"] if r.get("resourceNames")]
    assert all(r["resourceNames"] == [le.lease_name] for r in named) and named
    # the config file is where --config says, from the generated ConfigMap
    container, pod = rendering.container, rendering.pod
    (config_arg,) = [a for a in container["args"] if a.startswith("--config=")]
    config_path = Path(config_arg.removeprefix("--config="))
    (mount,) = [m for m in container["volumeMounts"] if m["mountPath"] == str(config_path.parent)]
    (volume,) = [v for v in pod["volumes"] if v["name"] == mount["name"]]
    (cm,) = rendering.all("ConfigMap")
    assert volume["configMap"]["name"] == cm["metadata"]["name"]
    assert cm["metadata"]["name"].startswith("cloud-lb-config-")  # hashed: edits roll pods
    assert config_path.name in cm["data"]
    # metrics and probes on the port the config listens on, reachable from the kubelet
    assert config.metrics.enabled and config.metrics.host == "0.0.0.0"
    (port,) = [p for p in container["ports"] if p["name"] == "metrics"]
    assert port["containerPort"] == config.metrics.port
    assert container["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "metrics"}
    assert container["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "metrics"}
    # the local provider's state file lives on a writable volume
    if config.provider == "local":
        state_dir = config.provider_settings().resolved_state_dir()  # type: ignore[attr-defined]
        (state_mount,) = [m for m in container["volumeMounts"]
                          if str(state_dir).startswith(m["mountPath"])]
        (state_volume,) = [v for v in pod["volumes"] if v["name"] == state_mount["name"]]
        assert "emptyDir" in state_volume and not state_mount.get("readOnly")


def test_the_deployment_is_highly_available_and_locked_down(rendering: Rendering) -> None:
    deployment, pod, container = rendering.deployment, rendering.pod, rendering.container
    assert deployment["spec"]["replicas"] == 2
    assert deployment["spec"]["strategy"]["rollingUpdate"]["maxUnavailable"] == 0
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    selector = deployment["spec"]["selector"]["matchLabels"]
    assert selector.items() <= labels.items()
    pdb = rendering.one("PodDisruptionBudget")
    assert pdb["spec"]["minAvailable"] == 1
    assert pdb["spec"]["selector"]["matchLabels"].items() <= labels.items()
    service = rendering.one("Service", "cloud-lb-metrics")
    assert service["spec"]["selector"].items() <= labels.items()
    # resources: requests and limits for both cpu and memory
    for kind in ("requests", "limits"):
        assert set(container["resources"][kind]) == {"cpu", "memory"}
    # non-root, read-only root, no escalation, no capabilities, default seccomp
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] != 0
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    security = container["securityContext"]
    assert security["readOnlyRootFilesystem"] is True
    assert security["allowPrivilegeEscalation"] is False
    assert security["capabilities"]["drop"] == ["ALL"]
    assert not security["capabilities"].get("add")
    # a graceful stop (20 s for reconciles in flight) fits the grace period
    assert pod["terminationGracePeriodSeconds"] > 20
    # the bindings name the service account the pods run as
    account = pod["serviceAccountName"]
    assert rendering.one("ServiceAccount", account)
    for binding in rendering.all("ClusterRoleBinding") + rendering.all("RoleBinding"):
        assert binding["subjects"] == [{"kind": "ServiceAccount", "name": account,
                                        "namespace": NAMESPACE}]
    namespace = rendering.one("Namespace", NAMESPACE)
    assert namespace["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"


def test_the_image_is_the_dockerfiles(rendering: Rendering) -> None:
    dockerfile = (DEPLOY.parent / "Dockerfile").read_text()
    user = [line.split()[1] for line in dockerfile.splitlines() if line.startswith("USER ")][-1]
    assert user.split(":")[0] == str(rendering.pod["securityContext"]["runAsUser"])
    assert rendering.container["image"] == f"cloud-lb:{__version__}"  # the release's tag
