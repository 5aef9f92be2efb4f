"""The renderer itself, on the cases kubectl kustomize (v5.5) was seen to produce."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.deploy.kustomize import KustomizeError, build, strategic_merge


def write(directory: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (directory / name).write_text(text)
    return directory


def test_a_generated_config_map_gets_kustomizes_hash_and_references_follow(tmp_path: Path) -> None:
    write(tmp_path, {
        "kustomization.yaml": "resources: [pod.yaml]\nconfigMapGenerator:\n"
                              "  - name: x\n    literals: [a=b]\n",
        "pod.yaml": "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\nspec:\n"
                    "  template:\n    spec:\n      containers: [{name: c, image: i}]\n"
                    "      volumes: [{name: v, configMap: {name: x}}]\n"})
    objects = build(tmp_path)
    (cm,) = [o for o in objects if o["kind"] == "ConfigMap"]
    assert cm["metadata"]["name"] == "x-4h2mbtbbt6"  # what kubectl kustomize printed
    (deployment,) = [o for o in objects if o["kind"] == "Deployment"]
    assert deployment["spec"]["template"]["spec"]["volumes"][0]["configMap"]["name"] == \
        "x-4h2mbtbbt6"


def test_merge_lists_by_key_put_new_items_first_and_replace_other_lists() -> None:
    base = {"containers": [{"name": "a", "env": [{"name": "X", "value": "1"}]}],
            "tolerations": [{"key": "k1"}]}
    patch = {"containers": [{"name": "a", "env": [{"name": "Y", "value": "2"}]},
                            {"name": "b"}],
             "tolerations": [{"key": "k2"}]}
    assert strategic_merge(base, patch) == {
        "containers": [{"name": "b"},
                       {"name": "a", "env": [{"name": "Y", "value": "2"},
                                             {"name": "X", "value": "1"}]}],
        "tolerations": [{"key": "k2"}]}


def test_a_field_the_renderer_does_not_know_is_refused(tmp_path: Path) -> None:
    write(tmp_path, {"kustomization.yaml": "resources: []\ncommonLabels: {a: b}\n"})
    with pytest.raises(KustomizeError, match="commonLabels"):
        build(tmp_path)


def test_a_patch_without_its_target_is_an_error(tmp_path: Path) -> None:
    write(tmp_path, {"kustomization.yaml": "resources: []\npatches: [{path: p.yaml}]\n",
                     "p.yaml": "apiVersion: v1\nkind: Service\nmetadata: {name: nope}\n"})
    with pytest.raises(KustomizeError, match="0 targets"):
        build(tmp_path)


def test_a_delete_patch_removes_its_object(tmp_path: Path) -> None:
    write(tmp_path, {
        "kustomization.yaml": "resources: [roles.yaml]\npatches:\n  - patch: |-\n"
                              "      $patch: delete\n"
                              "      apiVersion: rbac.authorization.k8s.io/v1\n"
                              "      kind: ClusterRole\n      metadata: {name: b}\n",
        "roles.yaml": "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\n"
                      "metadata: {name: a}\n---\napiVersion: rbac.authorization.k8s.io/v1\n"
                      "kind: ClusterRole\nmetadata: {name: b}\n"})
    assert [o["metadata"]["name"] for o in build(tmp_path)] == ["a"]
