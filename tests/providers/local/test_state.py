"""The state file: round trip, atomic rewrite, foreign entries kept, one writer."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cloud_lb.model import (
    Backend,
    HealthCheck,
    HealthCheckProtocol,
    LBRef,
    Listener,
    ObjectKind,
    Protocol,
)
from providers.local.state import (
    Record,
    StateError,
    StateFile,
    WriterBusyError,
    addresses_in_use,
    provider_id_for,
    record_from_json,
    record_to_json,
    state_file_name,
)

REF = LBRef("c1", ObjectKind.SERVICE, "ns", "web", "uid-1")


def _record() -> Record:
    listener = Listener("http", Protocol.TCP, 80, 30080,
                        HealthCheck(HealthCheckProtocol.TCP, 30080, interval_seconds=7))
    return Record(
        provider_id=provider_id_for(REF), address="127.240.0.3",
        tags=Record.for_ref(REF, "127.240.0.3").tags, listeners=(listener,),
        backends=(Backend("n1", "10.0.0.1", "local://n1", "z1"),), source_ranges=("10.0.0.0/8",),
    )


def test_record_round_trips_through_json() -> None:
    record = _record()
    assert record_from_json(json.loads(json.dumps(record_to_json(record)))) == record
    assert record.ref() == REF and record.owned_by(REF)


def test_put_keeps_foreign_entries_and_writes_atomically(tmp_path: Path) -> None:
    state = StateFile(tmp_path, "c1")
    state.acquire_writer()
    state.put(_record())
    raw = json.loads(state.path.read_text())
    raw["loadBalancers"]["handmade"] = {"whatever": [1, 2]}  # not ours, not even a record
    state.path.write_text(json.dumps(raw))
    state.put(_record())
    state.remove(provider_id_for(REF))
    assert state.entries() == {"handmade": {"whatever": [1, 2]}}
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []
    state.release_writer()


def test_unsafe_cluster_names_get_a_digest_file_name() -> None:
    assert state_file_name("prod-eu.1") == "prod-eu.1.json"
    assert state_file_name("../etc/passwd").startswith("cluster-")


def test_a_file_of_another_cluster_or_broken_json_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "c1.json").write_text(json.dumps({"cluster": "c2", "loadBalancers": {}}))
    with pytest.raises(StateError, match="belongs to cluster 'c2'"):
        StateFile(tmp_path, "c1").entries()
    (tmp_path / "c1.json").write_text("{not json")
    with pytest.raises(StateError, match="not valid JSON"):
        StateFile(tmp_path, "c1").entries()


def test_only_one_writer_per_cluster(tmp_path: Path) -> None:
    first, second = StateFile(tmp_path, "c1"), StateFile(tmp_path, "c1")
    first.acquire_writer()
    assert second.writer_elsewhere()
    with pytest.raises(WriterBusyError):
        second.acquire_writer()
    with pytest.raises(StateError):
        second.put(_record())  # no lock, no write
    first.release_writer()
    assert not second.writer_elsewhere()
    second.acquire_writer()
    second.release_writer()


def test_addresses_in_use_spans_every_cluster(tmp_path: Path) -> None:
    for cluster, address in (("c1", "127.240.0.1"), ("c2", "127.240.0.2")):
        state = StateFile(tmp_path, cluster)
        state.acquire_writer()
        state.put(Record.for_ref(LBRef(cluster, ObjectKind.SERVICE, "ns", "n", "u"), address))
        state.release_writer()
    (tmp_path / "junk.json").write_text("[")
    used = addresses_in_use(tmp_path)
    assert set(used) == {"127.240.0.1", "127.240.0.2"}
    assert used["127.240.0.2"].startswith("c2/")
