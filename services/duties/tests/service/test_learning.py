"""Learning materials on a real PostgreSQL, over gRPC with the test
registry of duties.testing (deputies 1-4 serve street 1, 5-6 street 2, 7 no
longer): who may publish for where, what each reader sees, marking read
once, and who has read what among the deputies a material is meant for."""

from __future__ import annotations

from typing import Any

import grpc
import pytest
from sqlalchemy import func, select

from duties.scorecard_models import MaterialReadRow, MaterialRow
from kit import audit
from kit.tables import outbox_events
from liaison.common.v1 import envelope_pb2
from liaison.duties.v1 import scorecard_pb2 as pb
from liaison.duties.v1 import scorecard_pb2_grpc as pb_grpc

pytestmark = pytest.mark.postgres
DEPUTY_5 = {"sub": "deputy-5", "role": "deputy", "deputy_id": 5}
COMMITTEE_2 = {"sub": "committee-2", "role": "street_committee", "street_id": 2}
COUNTED = (MaterialRow, MaterialReadRow, outbox_events, audit.audit_entries)


def stub(api: Any, who: str | dict[str, Any] | None) -> pb_grpc.ScorecardServiceStub:
    return pb_grpc.ScorecardServiceStub(api.channel_as(who))


def count(api: Any) -> tuple[int, ...]:
    with api.db.read() as session:
        return tuple(int(session.scalar(select(func.count()).select_from(t)) or 0) for t in COUNTED)


def article(title: str, street_id: int = 0) -> pb.PublishMaterialRequest:
    return pb.PublishMaterialRequest(
        title=title, kind=pb.MATERIAL_KIND_ARTICLE, text="代表法全文", street_id=street_id
    )


@pytest.fixture(scope="module")
def materials(api: Any) -> dict[str, Any]:
    """One district article, one video for street 1, one article for street 2."""
    return {
        "district": stub(api, "standing-committee-office").PublishMaterial(article("代表法")),
        "street1": stub(api, "street-committee").PublishMaterial(
            pb.PublishMaterialRequest(
                title="街道培训录像", kind=pb.MATERIAL_KIND_VIDEO, url="https://example.org/v"
            )
        ),
        "street2": stub(api, COMMITTEE_2).PublishMaterial(article("街道通讯")),
    }


def test_publishers_publish_for_their_reach(api: Any, materials: dict[str, Any]) -> None:
    assert materials["district"].street_id == 0
    assert materials["street1"].street_id == 1  # a committee's own street, unnamed
    assert materials["street2"].street_id == 2
    with api.db.read() as session:
        types = session.scalars(select(outbox_events.c.type)).all()
    assert types.count("material_published") >= 3


@pytest.mark.parametrize(
    ("who", "request_", "code"),
    [
        ("street-committee", article("x", street_id=2), grpc.StatusCode.PERMISSION_DENIED),
        ("deputy", article("x"), grpc.StatusCode.PERMISSION_DENIED),
        ("station-staff", article("x"), grpc.StatusCode.PERMISSION_DENIED),
        ("constituent", article("x"), grpc.StatusCode.PERMISSION_DENIED),
        (None, article("x"), grpc.StatusCode.UNAUTHENTICATED),
        ("admin", pb.PublishMaterialRequest(title="x"), grpc.StatusCode.INVALID_ARGUMENT),
    ],
)
def test_publishing_beyond_ones_reach_is_refused(
    api: Any, materials: dict[str, Any], who: Any, request_: Any, code: Any
) -> None:
    before = count(api)
    api.refused(lambda: stub(api, who).PublishMaterial(request_), code)
    assert count(api) == before


def test_a_bad_material_names_every_field(api: Any) -> None:
    error = api.refused(
        lambda: stub(api, "admin").PublishMaterial(
            pb.PublishMaterialRequest(title=" ", kind=pb.MATERIAL_KIND_VIDEO, url="http://x")
        ),
        grpc.StatusCode.INVALID_ARGUMENT,
    )
    assert set(api.field_errors(error)) == {"title", "url"}


def ids(listing: Any) -> set[int]:
    return {m.id for m in listing.materials}


def test_each_reader_lists_what_is_meant_for_them(api: Any, materials: dict[str, Any]) -> None:
    d, s1, s2 = (materials[k].id for k in ("district", "street1", "street2"))
    everything = pb.ListMaterialsRequest()
    assert {d, s1, s2} <= ids(stub(api, "working-body").ListMaterials(everything))
    assert ids(stub(api, "deputy").ListMaterials(everything)) == {d, s1}
    assert ids(stub(api, DEPUTY_5).ListMaterials(everything)) == {d, s2}
    assert ids(stub(api, "station-staff").ListMaterials(everything)) == {d, s1}
    only2 = pb.ListMaterialsRequest(street_id=2)
    assert ids(stub(api, "admin").ListMaterials(only2)) == {s2}
    api.refused(
        lambda: stub(api, "street-committee").ListMaterials(only2),
        grpc.StatusCode.PERMISSION_DENIED,
    )
    paged = stub(api, "deputy").ListMaterials(
        pb.ListMaterialsRequest(page=envelope_pb2.PageRequest(page_size=1))
    )
    assert len(paged.materials) == 1 and paged.page.next_page_token


def test_a_material_of_another_street_is_refused(api: Any, materials: dict[str, Any]) -> None:
    other = materials["street2"].id
    for who in ("deputy", "street-committee"):
        api.refused(
            lambda who=who: stub(api, who).GetMaterial(pb.GetMaterialRequest(id=other)),
            grpc.StatusCode.PERMISSION_DENIED,
        )
    api.refused(
        lambda: stub(api, "deputy").GetMaterial(pb.GetMaterialRequest(id=10**9)),
        grpc.StatusCode.NOT_FOUND,
    )


def test_a_deputy_marks_a_material_read_once(api: Any, materials: dict[str, Any]) -> None:
    d = materials["district"].id
    deputy = stub(api, "deputy")
    first = deputy.MarkMaterialRead(pb.MarkMaterialReadRequest(id=d))
    assert first.HasField("read_at")
    before = count(api)
    again = deputy.MarkMaterialRead(pb.MarkMaterialReadRequest(id=d))
    assert again.read_at == first.read_at
    assert count(api) == before  # no second read, event or audit entry
    assert deputy.GetMaterial(pb.GetMaterialRequest(id=d)).read_at == first.read_at
    unread = ids(deputy.ListMaterials(pb.ListMaterialsRequest(unread_only=True)))
    assert d not in unread and materials["street1"].id in unread


@pytest.mark.parametrize("who", ["admin", "street-committee", "constituent"])
def test_only_a_deputy_marks_read(api: Any, materials: dict[str, Any], who: str) -> None:
    before = count(api)
    api.refused(
        lambda: stub(api, who).MarkMaterialRead(
            pb.MarkMaterialReadRequest(id=materials["district"].id)
        ),
        grpc.StatusCode.PERMISSION_DENIED,
    )
    assert count(api) == before


def test_a_deputy_cannot_mark_another_streets_material(api: Any, materials: dict[str, Any]) -> None:
    before = count(api)
    api.refused(
        lambda: stub(api, "deputy").MarkMaterialRead(
            pb.MarkMaterialReadRequest(id=materials["street2"].id)
        ),
        grpc.StatusCode.PERMISSION_DENIED,
    )
    assert count(api) == before


def readers(readership: Any) -> tuple[list[int], list[int]]:
    return [r.deputy_id for r in readership.read], [r.deputy_id for r in readership.not_read]


def test_staff_see_who_has_read_among_those_meant(api: Any, materials: dict[str, Any]) -> None:
    d = materials["district"].id
    stub(api, DEPUTY_5).MarkMaterialRead(pb.MarkMaterialReadRequest(id=d))
    stub(api, "deputy").MarkMaterialRead(pb.MarkMaterialReadRequest(id=d))
    whole = stub(api, "standing-committee-office").GetMaterialReadership(
        pb.GetMaterialReadershipRequest(id=d)
    )
    # Deputy 7 no longer serves: not among those meant.
    assert readers(whole) == ([1, 5], [2, 3, 4, 6])
    assert whole.read[0].name == "陈代表" and whole.read[0].HasField("read_at")
    street = stub(api, "station-staff").GetMaterialReadership(pb.GetMaterialReadershipRequest(id=d))
    assert readers(street) == ([1], [2, 3, 4])
    one_street = stub(api, "admin").GetMaterialReadership(
        pb.GetMaterialReadershipRequest(id=materials["street2"].id)
    )
    assert readers(one_street) == ([], [5, 6])
    api.refused(
        lambda: stub(api, "street-committee").GetMaterialReadership(
            pb.GetMaterialReadershipRequest(id=d, street_id=2)
        ),
        grpc.StatusCode.PERMISSION_DENIED,
    )
    api.refused(
        lambda: stub(api, "deputy").GetMaterialReadership(pb.GetMaterialReadershipRequest(id=d)),
        grpc.StatusCode.PERMISSION_DENIED,
    )
