"""The Compute call budget of an Ingress: create (2 hosts x 2 paths, TLS, redirect), an
unchanged resync, one changed path, a certificate rotation, deletion. Asserted, so a
regression fails; the numbers are the ones docs/providers/gcp.md quotes."""

from __future__ import annotations

import dataclasses
from collections import Counter

from cloud_lb.model import Backend
from cloud_lb.provider import CallRecorder
from providers.gcp.provider import GCPProvider
from tests.providers.gcp.conftest import ProviderFactory, ref, spec
from tests.providers.gcp.ingress_specs import (
    HOSTS,
    certificate,
    fresh_certificate,
    ingress_ref,
    ingress_spec,
    replace,
)


def by_verb(recorder: CallRecorder, *, mutating: bool | None = None) -> Counter[str]:
    out: Counter[str] = Counter()
    for (op, is_mutating, _), n in recorder.calls.items():
        if mutating is None or is_mutating == mutating:
            out[op.removeprefix("compute.")] += n
    return out


def test_creating_2_hosts_x_2_paths_with_tls_once_the_groups_exist(
    make_provider: ProviderFactory, nodes: list[Backend], recorder: CallRecorder
) -> None:
    provider = make_provider(instanceGroupCacheSeconds=3600)
    provider.ensure(spec(ref("service"), nodes))  # the cluster's groups exist already
    recorder.reset()
    lb = ingress_spec(ingress_ref(), nodes, tls=(certificate(*HOSTS),))
    provider.ensure(lb)
    assert by_verb(recorder, mutating=True) == {
        "globalAddresses.insert": 1,
        "healthChecks.insert": 4,
        "backendServices.insert": 5,  # 4 backends + the 404 backend
        "sslCertificates.insert": 1,
        "urlMaps.insert": 1,
        "targetHttpProxies.insert": 1,
        "targetHttpsProxies.insert": 1,
        "globalForwardingRules.insert": 2,
        "firewalls.insert": 1,
        "instanceGroups.setNamedPorts": 3,  # one per zone, all four ports at once
    }
    reads = by_verb(recorder, mutating=False)
    assert reads["globalOperations.wait"] == 17 and reads["zoneOperations.wait"] == 3
    # 9 lists, 3 group reads for named ports, 1 read of the new address
    assert sum(reads.values()) - 20 == 13
    assert sum(recorder.calls.values()) == 53


def test_an_unchanged_resync_and_a_changed_path(
    provider: GCPProvider, nodes: list[Backend], recorder: CallRecorder
) -> None:
    lb = ingress_spec(ingress_ref(), nodes, tls=(certificate(*HOSTS),))
    provider.ensure(lb)
    recorder.reset()
    provider.ensure(lb)
    assert recorder.mutations() == 0 and sum(recorder.calls.values()) == 9
    rules = list(lb.rules)
    rules[1] = dataclasses.replace(rules[1], path="/static")
    recorder.reset()
    provider.ensure(replace(lb, rules=tuple(rules)))
    assert by_verb(recorder, mutating=True) == {"urlMaps.update": 1}
    assert sum(recorder.calls.values()) == 11  # 9 lists, the update, its wait


def test_a_certificate_rotation_and_a_deletion(
    provider: GCPProvider, nodes: list[Backend], recorder: CallRecorder
) -> None:
    lb_ref = ingress_ref()
    lb = ingress_spec(lb_ref, nodes, tls=(certificate(*HOSTS),), redirect=True)
    provider.ensure(lb)
    recorder.reset()
    provider.ensure(replace(lb, tls=(fresh_certificate(*HOSTS),)))
    assert sum(recorder.calls.values()) == 9 + 3 * 2
    recorder.reset()
    provider.delete(lb_ref)
    mutations = by_verb(recorder, mutating=True)
    assert sum(mutations.values()) == 18 + 3  # our 18 resources, the 3 unused groups
    # 9 lists, 21 waits, 2 lists of backend services, 3 group reads before release
    assert sum(recorder.calls.values()) == 21 + 9 + 21 + 2 + 3
