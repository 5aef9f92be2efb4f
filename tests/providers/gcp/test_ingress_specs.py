"""What an Ingress spec may ask of the gcp provider: refused before any cloud call when
GCE cannot serve it, and its TLS private keys never leave the certificate's insert
request (not in plans, steps, logs, errors, or what the cloud returns)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import pytest

from cloud_lb.model import Backend, IPFamily, LoadBalancerSpec, PathType
from cloud_lb.provider import CallRecorder, CloudError, InvalidSpecError
from cloud_lb.testing.fakegce import FakeGCE
from providers.gcp import ingress_diff, ingress_render
from providers.gcp.ingress_options import parse
from providers.gcp.provider import GCPProvider
from tests.providers.gcp.ingress_specs import (
    HOSTS,
    backend,
    certificate,
    fresh_certificate,
    ingress_ref,
    ingress_spec,
    replace,
    rule,
)

REFUSED: list[tuple[Callable[[LoadBalancerSpec], LoadBalancerSpec], str]] = [
    (lambda s: replace(s, internal=True), "internal"),
    (lambda s: replace(s, source_ranges=("10.0.0.0/8",)), "Cloud Armor"),
    (lambda s: replace(s, ip_families=(IPFamily.IPV6,)), "IPv6"),
    (lambda s: replace(s, static_ip="203.0.113.9"), "global-static-ip-name"),
    (
        lambda s: replace(s, rules=(rule("", "/a*", backend("x", 30001), PathType.EXACT),)),
        "literally",
    ),
    (
        lambda s: replace(s, options=(("ingress.gcp.kubernetes.io/pre-shared-cert", "c"),)),
        "spec.tls",
    ),
    (
        lambda s: replace(s, options=(("kubernetes.io/ingress.allow-http", "nope"),)),
        '"true" or "false"',
    ),
    (
        lambda s: replace(s, options=(("kubernetes.io/ingress.allow-http", "false"),)),
        "nothing would be served",
    ),
]


@pytest.mark.parametrize(("change", "message"), REFUSED)
def test_what_gce_cannot_serve_is_refused_before_any_call(
    provider: GCPProvider,
    nodes: list[Backend],
    recorder: CallRecorder,
    change: Callable[[LoadBalancerSpec], LoadBalancerSpec],
    message: str,
) -> None:
    wanted = change(ingress_spec(ingress_ref(), nodes))
    with pytest.raises(InvalidSpecError, match=message):
        provider.ensure(wanted)
    with pytest.raises(InvalidSpecError, match=message):
        provider.plan(wanted)
    assert sum(recorder.calls.values()) == 0


def _secret_parts(key_pem: str) -> list[str]:
    """Lines of the key's base64 body: any of them showing up is a leak."""
    return [line for line in key_pem.splitlines() if line and "PRIVATE KEY" not in line]


def _leaks(text: str, key_pem: str) -> list[str]:
    return [part for part in _secret_parts(key_pem) if part in text]


def test_private_keys_never_reach_plans_steps_logs_errors_or_reads(
    fake: FakeGCE,
    provider: GCPProvider,
    nodes: list[Backend],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    old, new = certificate(*HOSTS), fresh_certificate(*HOSTS)
    lb_ref = ingress_ref()
    spec = ingress_spec(lb_ref, nodes, tls=(old,))
    seen: list[Any] = [spec, old, provider.plan(spec)]
    provider.ensure(spec)
    rotated = replace(spec, tls=(new,))
    seen.append(provider.plan(rotated))
    options = parse(rotated)
    desired = ingress_render.render(rotated, options, provider.placement, [], "203.0.113.1")
    seen += [desired, ingress_diff.plan(desired, {}, "203.0.113.1")]
    # a refused insert: GCE's message comes back, the key does not
    fake.faults.error("sslCertificates.insert", status=400, reason="invalid")
    with pytest.raises(CloudError) as refused:
        provider.ensure(rotated)
    seen.append(refused.value)
    provider.ensure(rotated)
    seen.append(fake.resources())
    text = caplog.text + "".join(map(repr, seen)) + "".join(map(str, seen))
    for key in (old.key_pem, new.key_pem):
        assert _secret_parts(key) and not _leaks(text, key)
    assert all("privateKey" not in r for r in fake.resources("sslCertificates"))
