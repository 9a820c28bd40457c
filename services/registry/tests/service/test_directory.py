"""StreamDirectory: the public directory as of one version, for the edge."""

from __future__ import annotations

from typing import Any

import grpc
import pytest
from sqlalchemy import event

from liaison.registry.v1 import registry_pb2 as pb
from registry.testing import Town

pytestmark = pytest.mark.postgres


def snapshot(stub: Any, chunk_size: int = 0) -> tuple[int, dict[str, list[Any]], int]:
    """(version, records by kind, number of chunks) of one streamed snapshot."""
    chunks = list(stub.StreamDirectory(pb.StreamDirectoryRequest(chunk_size=chunk_size)))
    assert chunks[-1].last and not any(c.last for c in chunks[:-1])
    assert len({c.version for c in chunks}) == 1, "every chunk is of one version"
    kinds = ("streets", "areas", "communities", "venues", "stations", "deputies", "station_heads")
    found = {k: [r for c in chunks for r in getattr(c, k)] for k in kinds}
    return chunks[0].version, found, len(chunks)


def test_anyone_gets_the_public_directory_of_the_district(api: Any) -> None:
    version, found, _ = snapshot(api.anonymous)
    assert version == api.outbox_mark()
    counts = {kind: len(records) for kind, records in found.items()}
    district = api.district
    assert counts["streets"] >= len(district.streets)
    assert counts["stations"] >= len(district.stations)
    assert counts["deputies"] >= 350
    assert counts["station_heads"] >= 40
    heads = {h.station_id for h in found["station_heads"]}
    assert heads <= {s.id for s in found["stations"]}


def test_chunks_hold_at_most_the_size_asked(api: Any) -> None:
    _, whole, _ = snapshot(api.anonymous)
    version, chunked, count = snapshot(api.anonymous, chunk_size=50)
    assert chunked == whole
    assert count > 10
    with pytest.raises(grpc.RpcError) as refused:
        snapshot(api.anonymous, chunk_size=-1)
    assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT  # type: ignore[attr-defined]


def test_a_change_moves_the_version_and_deactivated_records_leave(api: Any) -> None:
    town = Town(api.stub)
    before, found, _ = snapshot(api.anonymous)
    assert town.station.id in {s.id for s in found["stations"]}
    api.stub.DeactivateStation(pb.DeactivateRequest(id=town.station.id, reason="合并"))
    after, found, _ = snapshot(api.anonymous)
    assert after > before
    assert town.station.id not in {s.id for s in found["stations"]}


def test_a_snapshot_reads_in_a_few_queries_whatever_the_number_of_deputies(api: Any) -> None:
    # Each deputy's profile names its street and station: read from the
    # session, not a query per deputy (350 deputies made over a thousand).
    statements: list[str] = []

    def count(conn: Any, cursor: Any, statement: str, *_: Any) -> None:
        statements.append(statement)

    event.listen(api.db.engine, "before_cursor_execute", count)
    try:
        chunks = api.registry.directory()
    finally:
        event.remove(api.db.engine, "before_cursor_execute", count)
    assert sum(len(c.deputies) for c in chunks) >= 350
    assert len(statements) < 40, len(statements)
