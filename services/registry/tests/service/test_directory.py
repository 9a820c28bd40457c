"""StreamDirectory: the public directory as of one version, for the edge."""

from __future__ import annotations

import json
import threading
from typing import Any

import grpc
import pytest
from google.protobuf import field_mask_pb2
from sqlalchemy import event, select

from kit.tables import outbox_events
from liaison.registry.v1 import registry_pb2 as pb
from registry.testing import Town

pytestmark = pytest.mark.postgres


def snapshot(stub: Any, chunk_size: int = 0) -> tuple[int, dict[str, list[Any]], int]:
    """(version, records by kind, number of chunks) of one streamed snapshot."""
    chunks = list(stub.StreamDirectory(pb.StreamDirectoryRequest(chunk_size=chunk_size)))
    assert chunks[-1].last and not any(c.last for c in chunks[:-1])
    assert len({c.version for c in chunks}) == 1, "every chunk is of one version"
    kinds = (
        "streets",
        "areas",
        "communities",
        "venues",
        "stations",
        "deputies",
        "station_heads",
        "deputy_heads",
    )
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
    assert {h.role for h in found["station_heads"]} == {pb.POSITION_ROLE_STATION_HEAD}
    assert all(h.deputy_id for h in found["station_heads"])
    # Every station has one or two deputy heads, who need not be deputies.
    assert {h.role for h in found["deputy_heads"]} == {pb.POSITION_ROLE_STATION_DEPUTY_HEAD}
    assert {h.station_id for h in found["deputy_heads"]} == heads
    assert len(found["deputy_heads"]) >= 40


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


def test_the_version_is_the_last_event_the_snapshot_includes(api: Any) -> None:
    """Renames commit while snapshots are taken: every snapshot shows the name
    of the newest street_changed event numbered at most its version, so a
    reader that applies the events after `version` misses none and applies
    none twice."""
    town = Town(api.stub)
    mark = api.outbox_mark()
    errors: list[BaseException] = []
    done = threading.Event()

    def rename() -> None:
        try:
            for i in range(25):
                api.stub.UpdateStreet(
                    pb.UpdateStreetRequest(
                        street=pb.Street(id=town.street.id, name=f"改名{i}街道"),
                        update_mask=field_mask_pb2.FieldMask(paths=["name"]),
                    )
                )
        except BaseException as exc:
            errors.append(exc)
        finally:
            done.set()

    taken: list[tuple[int, str]] = []
    writer = threading.Thread(target=rename)
    writer.start()
    while not done.is_set() or len(taken) < 3:
        version, found, _ = snapshot(api.anonymous)
        (street,) = [s for s in found["streets"] if s.id == town.street.id]
        taken.append((version, street.name))
    writer.join(60)
    assert errors == []

    names = {}  # sequence -> the name its event carries
    with api.db.read() as session:
        rows = session.execute(
            select(outbox_events.c.sequence, outbox_events.c.type, outbox_events.c.body)
            .where(outbox_events.c.sequence > mark)
            .order_by(outbox_events.c.sequence)
        ).all()
    assert [r.sequence for r in rows] == list(range(mark + 1, mark + 1 + len(rows)))
    for row in rows:
        street = json.loads(row.body)["payload"].get("street", {})
        if row.type == "street_changed" and street.get("id") == str(town.street.id):
            names[row.sequence] = street["name"]
    assert len(names) == 25
    for version, name in taken:
        assert version >= mark
        expected = [n for s, n in names.items() if s <= version]
        assert name == (expected[-1] if expected else town.street.name), (version, name)
    assert len({v for v, _ in taken}) > 1, "snapshots were taken between the renames"


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
