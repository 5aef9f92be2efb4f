"""A small kustomize: enough of it to render deploy/ the way `kubectl kustomize` does,
so the manifests are tested where no kubectl exists (CI).

Hand-written because no maintained Python package renders kustomizations. It covers
what deploy/ uses and refuses (KustomizeError) any other kustomization field rather
than ignoring it, so a new feature in deploy/ cannot pass untested:

- `resources`: files (multi-document YAML) and directories (nested kustomizations);
- `configMapGenerator` (`files`, `literals`; `behavior` create/replace/merge) with
  kustomize's content hash suffix, and every reference in pod templates renamed;
- `namespace` (cluster-scoped kinds untouched; RoleBinding subjects only when named
  `default`, kustomize's `defaultOnly` mode);
- `labels` (`pairs`, `includeSelectors: false`: metadata only);
- `images` (`newName`, `newTag`, `digest`);
- `patches` as strategic-merge patches from `path` or inline `patch` (lists merged by
  their Kubernetes patch merge key, new items first as kustomize does; a top-level
  `$patch: delete` removes the object), or JSON 6902 operation lists with a `target`.

The hash follows kustomize 5's: sha256 over the compact, key-sorted JSON of
{kind: ConfigMap, name: "", data}, its first ten hex digits with 0,1,3,a,e swapped for
g,h,k,m,t (api/hasher). The result was checked to be identical, object for object, to
`kubectl kustomize` (kustomize v5.5) on every kustomization in deploy/.
"""

from __future__ import annotations

import copy
import hashlib
import json
from pathlib import Path
from typing import Any

import yaml

Obj = dict[str, Any]

KNOWN_FIELDS = {"apiVersion", "kind", "resources", "configMapGenerator", "namespace", "labels",
                "images", "patches"}
CLUSTER_SCOPED = {"Namespace", "ClusterRole", "ClusterRoleBinding", "PriorityClass",
                  "CustomResourceDefinition", "StorageClass", "IngressClass",
                  "ValidatingWebhookConfiguration", "MutatingWebhookConfiguration"}
# patch merge keys of the lists deploy/ patches (k8s.io/api struct tags)
MERGE_KEYS = {"containers": "name", "initContainers": "name", "volumes": "name",
              "env": "name", "volumeMounts": "mountPath", "ports": "containerPort",
              "imagePullSecrets": "name", "tolerations": None, "envFrom": None}
POD_TEMPLATE_KINDS = {"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job"}
_GENERATED = "__generated_name__"  # marks a ConfigMap whose name takes a hash at the end


class KustomizeError(Exception):
    pass


def build(directory: str | Path) -> list[Obj]:
    """The rendered objects of the kustomization in `directory`, as kubectl would."""
    objects = _render(Path(directory))
    renames: dict[str, str] = {}
    for obj in objects:
        original = obj["metadata"].pop(_GENERATED, None)
        if original is not None:
            obj["metadata"]["name"] = f"{original}-{config_map_hash(obj)}"
            renames[original] = obj["metadata"]["name"]
    for obj in objects:
        _rename_config_maps(obj, renames)
    return objects


def _render(directory: Path) -> list[Obj]:
    path = directory / "kustomization.yaml"
    if not path.is_file():
        raise KustomizeError(f"{directory}: no kustomization.yaml")
    spec = yaml.safe_load(path.read_text()) or {}
    unknown = set(spec) - KNOWN_FIELDS
    if unknown:
        raise KustomizeError(f"{path}: fields this renderer does not implement: {sorted(unknown)}")
    objects: list[Obj] = []
    for entry in spec.get("resources") or []:
        target = (directory / entry).resolve()
        objects.extend(_render(target) if target.is_dir() else _load(target))
    for generator in spec.get("configMapGenerator") or []:
        _generate(objects, directory, generator)
    if "namespace" in spec:
        for obj in objects:
            _set_namespace(obj, spec["namespace"])
    for patch in spec.get("patches") or []:
        _patch(objects, directory, patch)
    for label in spec.get("labels") or []:
        if label.get("includeSelectors") or label.get("includeTemplates"):
            raise KustomizeError("labels: only includeSelectors/includeTemplates false "
                                 "is implemented")
        for obj in objects:
            obj["metadata"].setdefault("labels", {}).update(label["pairs"])
    for image in spec.get("images") or []:
        for obj in objects:
            for container in _containers(obj):
                _set_image(container, image)
    return objects


def _load(path: Path) -> list[Obj]:
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc]


def _generate(objects: list[Obj], directory: Path, generator: Obj) -> None:
    data: dict[str, str] = {}
    for item in generator.get("files") or []:
        key, _, name = item.partition("=") if "=" in item else (Path(item).name, "", item)
        data[key] = (directory / name).read_text()
    for literal in generator.get("literals") or []:
        key, _, value = literal.partition("=")
        data[key] = value
    name = generator["name"]
    behavior = generator.get("behavior", "create")
    existing = [o for o in objects if o["kind"] == "ConfigMap"
                and o["metadata"].get(_GENERATED, o["metadata"]["name"]) == name]
    if behavior == "create":
        if existing:
            raise KustomizeError(f"configMapGenerator {name}: already exists (use behavior)")
        objects.append({"apiVersion": "v1", "kind": "ConfigMap",
                        "metadata": {"name": name, _GENERATED: name}, "data": data})
        return
    if len(existing) != 1:
        raise KustomizeError(f"configMapGenerator {name}: behavior {behavior} needs "
                             f"exactly one to {behavior}")
    target = existing[0]
    target["data"] = data if behavior == "replace" else {**target.get("data", {}), **data}


def _set_namespace(obj: Obj, namespace: str) -> None:
    if obj["kind"] not in CLUSTER_SCOPED:
        obj["metadata"]["namespace"] = namespace
    if obj["kind"] in ("RoleBinding", "ClusterRoleBinding"):
        for subject in obj.get("subjects") or []:
            if subject.get("kind") == "ServiceAccount" and subject.get("name") == "default":
                subject["namespace"] = namespace


def _patch(objects: list[Obj], directory: Path, patch: Obj) -> None:
    text = (directory / patch["path"]).read_text() if "path" in patch else patch["patch"]
    body = yaml.safe_load(text)
    if isinstance(body, list):  # JSON 6902
        target = patch.get("target") or {}
        matches = [o for o in objects if _selected(o, target)]
        if not matches:
            raise KustomizeError(f"patch {patch}: no target")
        for obj in matches:
            for op in body:
                _json6902(obj, op)
        return
    matches = [o for o in objects
               if o["kind"] == body["kind"] and o["metadata"]["name"] == body["metadata"]["name"]
               and body["metadata"].get("namespace") in (None, o["metadata"].get("namespace"))]
    if len(matches) != 1:
        raise KustomizeError(f"patch {patch}: {len(matches)} targets")
    if body.get("$patch") == "delete":  # the whole object goes
        objects.remove(matches[0])
        return
    merged = strategic_merge(matches[0], body)
    matches[0].clear()
    matches[0].update(merged)


def _selected(obj: Obj, target: Obj) -> bool:
    meta = obj["metadata"]
    return all((target.get("kind") in (None, obj["kind"]),
                target.get("name") in (None, meta["name"]),
                target.get("namespace") in (None, meta.get("namespace"))))


def strategic_merge(base: Any, patch: Any, field: str | None = None) -> Any:
    if isinstance(base, dict) and isinstance(patch, dict):
        out = copy.deepcopy(base)
        for key, value in patch.items():
            if value is None:
                out.pop(key, None)
            elif key in out:
                out[key] = strategic_merge(out[key], value, key)
            else:
                out[key] = copy.deepcopy(value)
        return out
    if isinstance(base, list) and isinstance(patch, list) and MERGE_KEYS.get(field or ""):
        key = MERGE_KEYS[field or ""]
        out = copy.deepcopy(base)
        added = []
        for item in patch:
            same = [i for i, old in enumerate(out) if old.get(key) == item.get(key)]
            if same:
                out[same[0]] = strategic_merge(out[same[0]], item, None)
            else:
                added.append(copy.deepcopy(item))
        return added + out  # kustomize puts new items first
    return copy.deepcopy(patch)


def _json6902(obj: Obj, op: Obj) -> None:
    parts = [p.replace("~1", "/").replace("~0", "~") for p in op["path"].split("/")[1:]]
    parent: Any = obj
    for part in parts[:-1]:
        parent = parent[int(part)] if isinstance(parent, list) else parent[part]
    last = parts[-1]
    if op["op"] in ("add", "replace"):
        if isinstance(parent, list):
            index = len(parent) if last == "-" else int(last)
            if op["op"] == "add":
                parent.insert(index, op["value"])
            else:
                parent[index] = op["value"]
        else:
            parent[last] = op["value"]
    elif op["op"] == "remove":
        del parent[int(last) if isinstance(parent, list) else last]
    else:
        raise KustomizeError(f"JSON patch op {op['op']} is not implemented")


def _containers(obj: Obj) -> list[Obj]:
    if obj["kind"] not in POD_TEMPLATE_KINDS:
        return []
    pod = obj["spec"]["template"]["spec"]
    return list(pod.get("containers") or []) + list(pod.get("initContainers") or [])


def _set_image(container: Obj, image: Obj) -> None:
    ref = container["image"]
    name = ref.split("@", 1)[0]
    if ":" in name.rsplit("/", 1)[-1]:
        name = name.rsplit(":", 1)[0]
    if name != image["name"]:
        return
    new = image.get("newName", name)
    if "digest" in image:
        container["image"] = f"{new}@{image['digest']}"
    elif "newTag" in image:
        container["image"] = f"{new}:{image['newTag']}"
    else:
        container["image"] = new + ref[len(name):]


def config_map_hash(obj: Obj) -> str:
    # kustomize 5 (kyaml) hashes with an empty name: checked against kubectl kustomize
    encoded: dict[str, Any] = {"kind": "ConfigMap", "name": "", "data": obj.get("data") or {}}
    if obj.get("binaryData"):
        encoded["binaryData"] = obj["binaryData"]
    text = json.dumps(encoded, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    # Go's json.Marshal escapes these; the hash is over Go's bytes
    for char, escaped in (("&", "\\u0026"), ("<", "\\u003c"), (">", "\\u003e"),
                          ("\u2028", "\\u2028"), ("\u2029", "\\u2029")):
        text = text.replace(char, escaped)
    digest = hashlib.sha256(text.encode()).hexdigest()[:10]
    return digest.translate(str.maketrans("013ae", "ghkmt"))


def _rename_config_maps(obj: Obj, renames: dict[str, str]) -> None:
    if obj["kind"] not in POD_TEMPLATE_KINDS or not renames:
        return
    pod = obj["spec"]["template"]["spec"]
    for volume in pod.get("volumes") or []:
        if "configMap" in volume:
            name = volume["configMap"]["name"]
            volume["configMap"]["name"] = renames.get(name, name)
        for source in (volume.get("projected") or {}).get("sources") or []:
            if "configMap" in source:
                name = source["configMap"]["name"]
                source["configMap"]["name"] = renames.get(name, name)
    for container in _containers(obj):
        for env_from in container.get("envFrom") or []:
            if "configMapRef" in env_from:
                name = env_from["configMapRef"]["name"]
                env_from["configMapRef"]["name"] = renames.get(name, name)
        for env in container.get("env") or []:
            ref = (env.get("valueFrom") or {}).get("configMapKeyRef")
            if ref is not None:
                ref["name"] = renames.get(ref["name"], ref["name"])
