"""The local provider's L7 load balancer on its own: call counts, the HTTP proxying
itself (bodies, keep-alive, failures) and TLS loading errors."""

from __future__ import annotations

import dataclasses
import http.client
import http.server
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from cloud_lb.model import (
    Backend,
    HealthCheck,
    HealthCheckProtocol,
    L7Backend,
    L7Rule,
    LBRef,
    Listener,
    LoadBalancerSpec,
    ObjectKind,
    PathType,
    Protocol,
    TLSCert,
)
from cloud_lb.provider import CallRecorder, InvalidSpecError, ProviderContext
from cloud_lb.testing.certs import self_signed
from cloud_lb.testing.http_probe import request
from providers.local.config import HealthCheckOverrides, LocalConfig
from providers.local.provider import LocalProvider
from providers.local.testing import private_subnet

REF = LBRef("test", ObjectKind.INGRESS, "default", "cafe", "uid-cafe")
NODE_CHECK = HealthCheck(HealthCheckProtocol.HTTP, 10256)


class Echo(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        text = (f"port={self.server.server_address[1]} method={self.command} path={self.path} "
                f"host={self.headers['Host']} proto={self.headers['X-Forwarded-Proto']} "
                f"body={body.decode()}").encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(text)))
        self.end_headers()
        self.wfile.write(text)

    do_GET = do_POST = _answer

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def echo_ports() -> Iterator[list[int]]:
    servers = [http.server.ThreadingHTTPServer(("127.0.0.1", 0), Echo) for _ in range(2)]
    threads = [threading.Thread(target=s.serve_forever, daemon=True) for s in servers]
    for t in threads:
        t.start()
    yield [s.server_address[1] for s in servers]
    for s in servers:
        s.shutdown()
        s.server_close()


@pytest.fixture
def provider(tmp_path: Path) -> Iterator[tuple[LocalProvider, CallRecorder]]:
    recorder = CallRecorder()
    p = LocalProvider(LocalConfig(address_pool=private_subnet(), state_dir=tmp_path,
                                  health_check=HealthCheckOverrides(interval_seconds=0.5)),
                      ProviderContext(cluster_name="test", recorder=recorder))
    yield p, recorder
    p.close()


def _backend(name: str, port: int) -> L7Backend:
    return L7Backend(f"default/{name}", 80, port, HealthCheck(HealthCheckProtocol.HTTP, port, "/"))


def _spec(ports: list[int], cert: TLSCert | None = None, extra_path: str = "/tea") -> LoadBalancerSpec:
    a, b = _backend("coffee", ports[0]), _backend("tea", ports[1])
    listeners = [Listener("http", Protocol.HTTP, 18080, 0, NODE_CHECK)]
    if cert is not None:
        listeners.append(Listener("https", Protocol.HTTPS, 18443, 0, NODE_CHECK))
    rules = (L7Rule("cafe.example", "/coffee", PathType.PREFIX, a),
             L7Rule("cafe.example", extra_path, PathType.PREFIX, b),
             L7Rule("shop.example", "/coffee", PathType.PREFIX, a),
             L7Rule("shop.example", "/tea", PathType.PREFIX, b))
    return LoadBalancerSpec(ref=REF, listeners=tuple(listeners),
                            backends=(Backend("node-1", "127.0.0.1"),), rules=rules,
                            tls=(cert,) if cert else ())


def _cert(hosts: list[str], name: str = "cafe-tls") -> TLSCert:
    cert, key = self_signed(hosts)
    return TLSCert(name=name, hosts=tuple(hosts), cert_pem=cert, key_pem=key)


def test_call_counts_for_two_hosts_two_paths_and_tls_then_one_path_change(
        provider: tuple[LocalProvider, CallRecorder], echo_ports: list[int]) -> None:
    p, recorder = provider
    cert = _cert(["cafe.example", "shop.example"])
    status = p.ensure(_spec(echo_ports, cert))
    address = status.ingress[0].ip
    assert address is not None
    create = {op: n for (op, mutating, _), n in recorder.calls.items() if mutating}
    assert create == {"allocate_address": 1, "set_source_ranges": 1, "set_backends": 1,
                      "set_routes": 1, "set_certificates": 1, "bind_listener": 2}
    assert recorder.count(mutating=False) == 1
    assert request(address, 18443, host="shop.example", path="/tea/x",
                   ca_pem=cert.cert_pem).body.startswith(f"port={echo_ports[1]} ")
    recorder.reset()
    p.ensure(_spec(echo_ports, cert))
    assert recorder.mutations() == 0
    p.ensure(_spec(echo_ports, cert, extra_path="/chai"))
    assert {op for (op, mutating, _) in recorder.calls if mutating} == {"set_routes"}
    assert recorder.mutations() == 1
    assert request(address, 18080, host="cafe.example", path="/chai").status == 200
    assert request(address, 18080, host="cafe.example", path="/tea").status == 404


def test_bodies_methods_and_keep_alive_pass_through(
        provider: tuple[LocalProvider, CallRecorder], echo_ports: list[int]) -> None:
    p, _ = provider
    address = p.ensure(_spec(echo_ports)).ingress[0].ip
    assert address is not None
    connection = http.client.HTTPConnection(address, 18080, timeout=3)
    try:
        for i in range(3):  # one connection, three requests
            connection.request("POST", f"/coffee/{i}?q=1", body=f"order {i}",
                               headers={"Host": "cafe.example"})
            reply = connection.getresponse()
            text = reply.read().decode()
            assert reply.status == 200
            assert f"method=POST path=/coffee/{i}?q=1 host=cafe.example proto=http" in text
            assert text.endswith(f"body=order {i}")
    finally:
        connection.close()


def test_a_backend_with_no_answering_node_is_a_502_and_others_still_work(
        provider: tuple[LocalProvider, CallRecorder], echo_ports: list[int]) -> None:
    p, _ = provider
    with socket.socket() as closed:  # a port nobody listens on
        closed.bind(("127.0.0.1", 0))
        dead_port = closed.getsockname()[1]
    address = p.ensure(_spec([echo_ports[0], dead_port])).ingress[0].ip
    assert address is not None
    assert request(address, 18080, host="cafe.example", path="/tea").status == 502
    assert request(address, 18080, host="cafe.example", path="/coffee").status == 200


def test_a_key_that_does_not_match_its_certificate_is_invalid_and_changes_nothing(
        provider: tuple[LocalProvider, CallRecorder], echo_ports: list[int]) -> None:
    p, recorder = provider
    good = _cert(["cafe.example"])
    other = _cert(["cafe.example"])
    mismatched = dataclasses.replace(good, key_pem=other.key_pem)
    with pytest.raises(InvalidSpecError) as info:
        p.ensure(_spec(echo_ports, mismatched))
    assert "cafe-tls" in str(info.value)
    assert "PRIVATE KEY" not in str(info.value) and other.key_pem not in repr(info.value)
    assert recorder.mutations() == 0
    assert p.list_owned() == []


def test_plan_shows_routes_and_certificates_without_keys(
        provider: tuple[LocalProvider, CallRecorder], echo_ports: list[int]) -> None:
    p, _ = provider
    cert = _cert(["cafe.example"])
    changes = [str(c) for c in p.plan(_spec(echo_ports, cert))]
    assert any("routes" in c and "4 rules" in c for c in changes)
    assert any("certificates" in c and "cafe-tls@" in c for c in changes)
    assert not any("PRIVATE" in c or cert.key_pem[40:60] in c for c in changes)


def test_the_state_file_keeps_routes_and_fingerprints_but_never_a_key(
        provider: tuple[LocalProvider, CallRecorder], echo_ports: list[int],
        tmp_path: Path) -> None:
    p, _ = provider
    cert = _cert(["cafe.example"])
    p.ensure(_spec(echo_ports, cert))
    text = "".join(f.read_text() for f in tmp_path.glob("*.json"))
    assert "cafe.example" in text and cert.fingerprint in text
    assert "PRIVATE KEY" not in text and "BEGIN CERTIFICATE" not in text
