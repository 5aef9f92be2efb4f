"""A fresh fake API server per test, and the official clients pointed at it."""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from kubernetes import client as k8s
from kubernetes.client.rest import ApiException

from cloud_lb.testing.fakekube import FakeKubeServer, running_fake_kube

FULL = os.environ.get("CLOUD_LB_FULL") == "1"


@pytest.fixture
def kube() -> Iterator[FakeKubeServer]:
    # short bookmark interval so bookmark tests see one quickly
    with running_fake_kube(bookmark_interval=0.2) as server:
        yield server


@pytest.fixture
def api_client(kube: FakeKubeServer) -> Iterator[k8s.ApiClient]:
    client = kube.api_client(pool_size=32)
    yield client
    client.close()


@pytest.fixture
def core(api_client: k8s.ApiClient) -> k8s.CoreV1Api:
    return k8s.CoreV1Api(api_client)


@pytest.fixture
def ns(core: k8s.CoreV1Api) -> str:
    """A fresh namespace, so a test sees only its own objects."""
    name = f"t-{uuid.uuid4().hex[:8]}"
    core.create_namespace({"metadata": {"name": name}})
    return name


def status_of(exc: ApiException) -> dict[str, Any]:
    """The Kubernetes Status object carried by an ApiException."""
    body = json.loads(exc.body)
    assert body["kind"] == "Status" and body["apiVersion"] == "v1"
    assert body["status"] == "Failure" and body["code"] == exc.status
    return body


def expect_api_error(status: int, call: Callable[[], Any]) -> dict[str, Any]:
    with pytest.raises(ApiException) as info:
        call()
    assert info.value.status == status, info.value.body
    return status_of(info.value)


def service_body(name: str, *, type_: str = "ClusterIP", ports: list[dict[str, Any]] | None = None,
                 **spec: Any) -> dict[str, Any]:
    return {"metadata": {"name": name},
            "spec": {"type": type_, "ports": ports or [{"port": 80}], **spec}}
