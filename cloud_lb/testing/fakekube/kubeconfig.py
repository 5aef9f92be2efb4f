"""A kubeconfig that points at the fake: plain HTTP and a dummy bearer token.

The official client (`kubernetes.config.load_kube_config(config_file=...)`) and kubectl
both accept it unchanged; the fake accepts any token (authentication is out of scope).
"""

from __future__ import annotations

import os
from pathlib import Path

import yaml

CONTEXT = "fake-kube"
TOKEN = "fake-kube-token"  # not a secret: the fake authenticates nobody


def kubeconfig_document(url: str, *, namespace: str = "default") -> dict[str, object]:
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": CONTEXT, "cluster": {"server": url}}],
        "users": [{"name": CONTEXT, "user": {"token": TOKEN}}],
        "contexts": [{"name": CONTEXT,
                      "context": {"cluster": CONTEXT, "user": CONTEXT, "namespace": namespace}}],
        "current-context": CONTEXT,
        "preferences": {},
    }


def write_kubeconfig(path: str | os.PathLike[str], url: str) -> Path:
    """Write the kubeconfig atomically (readers never see half a file); mode 0600."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_name(f".{target.name}.tmp-{os.getpid()}")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        yaml.safe_dump(kubeconfig_document(url), handle, sort_keys=False)
    os.replace(temporary, target)
    return target
