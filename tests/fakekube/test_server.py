"""The server's lifecycle and HTTP behaviour: kubeconfig, keep-alive, chunked watches,
and a stop that ends every watch and leaves no thread behind."""

from __future__ import annotations

import http.client
import json
import os
import threading
import time
from urllib.parse import urlsplit

from kubernetes import client as k8s
from kubernetes import config, watch

from cloud_lb.testing.fakekube import FakeKubeServer, running_fake_kube


def _fakekube_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("fakekube")]


def test_kubeconfig_works_with_load_kube_config_and_is_removed_on_exit() -> None:
    with running_fake_kube() as kube:
        assert kube.url.startswith("http://127.0.0.1:")
        api_client = config.new_client_from_config(config_file=kube.kubeconfig)
        names = [n.metadata.name for n in k8s.CoreV1Api(api_client).list_namespace().items]
        assert "default" in names
        api_client.close()
        path = kube.kubeconfig
        assert os.stat(path).st_mode & 0o777 == 0o600
    assert not os.path.exists(path)


def test_stop_ends_open_watches_and_joins_every_thread() -> None:
    before = set(_fakekube_threads())  # another test's leak must not fail this one
    kube = FakeKubeServer().start()
    api_client = kube.api_client()
    core = k8s.CoreV1Api(api_client)
    core.list_namespace()  # leaves an idle keep-alive connection in the pool
    ended = threading.Event()

    def watch_forever() -> None:
        try:
            # no timeout: only the server going away ends this (the client's reconnect
            # then fails, which is the point)
            for _ in watch.Watch().stream(core.list_namespaced_config_map, "default"):
                pass
        except Exception:  # noqa: BLE001
            pass
        finally:
            ended.set()

    thread = threading.Thread(target=watch_forever)
    thread.start()
    while kube.request_count(verb="watch") == 0:
        assert thread.is_alive()
        time.sleep(0.01)
    assert set(_fakekube_threads()) - before
    kube.stop()
    assert set(_fakekube_threads()) - before == set()
    thread.join(30)
    assert ended.is_set()
    api_client.close()
    kube.stop()  # idempotent


def test_keep_alive_and_chunked_watches_share_one_connection(kube: FakeKubeServer) -> None:
    address = urlsplit(kube.url)
    conn = http.client.HTTPConnection(address.hostname, address.port, timeout=10)
    conn.request("GET", "/api/v1/namespaces")
    first = conn.getresponse()
    body = json.loads(first.read())
    assert first.status == 200 and body["kind"] == "NamespaceList"
    assert first.getheader("Content-Length") is not None
    sock = conn.sock
    conn.request("GET", f"/api/v1/namespaces/default/services?watch=1&timeoutSeconds=1"
                        f"&resourceVersion={body['metadata']['resourceVersion']}")
    streamed = conn.getresponse()
    assert streamed.getheader("Transfer-Encoding") == "chunked"
    assert streamed.read() == b""  # no events, ended cleanly by timeoutSeconds
    conn.request("GET", "/version")
    third = conn.getresponse()
    assert third.status == 200 and json.loads(third.read())["major"] == "1"
    assert conn.sock is sock  # the same TCP connection served all three
    conn.close()


def test_two_servers_run_side_by_side() -> None:
    with running_fake_kube() as one, running_fake_kube() as two:
        assert one.url != two.url
        a = one.api_client()
        b = two.api_client()
        k8s.CoreV1Api(a).create_namespace({"metadata": {"name": "only-in-one"}})
        names = [n.metadata.name for n in k8s.CoreV1Api(b).list_namespace().items]
        assert "only-in-one" not in names
        a.close()
        b.close()
