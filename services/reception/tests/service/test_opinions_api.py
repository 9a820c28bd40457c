"""Opinions, reception records and figures over gRPC on PostgreSQL: tracking
codes unique and gapless under concurrent recording, each transition and its
event, illegal transitions, who sees who raised an opinion (and that no
event carries it), the deputies suggested by expertise, and the figures of
a seeded street."""

from __future__ import annotations

import itertools
import json
import re
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

import grpc
import pytest
from google.protobuf.timestamp_pb2 import Timestamp
from grpc_status import rpc_status
from sqlalchemy import select

from kit.errors import violations_from_status
from kit.tables import outbox_events
from liaison.reception.v1 import opinions_pb2 as opb
from liaison.registry.v1 import registry_pb2 as rpb
from reception import domain, models
from reception.opinions import next_code
from reception.readmodel import put_community, put_deputy, put_station
from reception.testing import DEPUTY_A1, DEPUTY_A2, STATION_A1, STREET_A, STREET_B

pytestmark = pytest.mark.postgres

NAME, PHONE = "黄秀英", "13800138000"
_days = itertools.count(1)
# A third street, whose figures only these tests make.
STREET_C, STATION_C1, COMMUNITY_C = 3, 31, 531
DEPUTY_C1, DEPUTY_C2 = 3101, 3102


@pytest.fixture(scope="module", autouse=True)
def more_district(api: Any) -> None:
    """Deputies of street 1 with expertise to rank, and street 3."""
    with api.db.unit_of_work() as uow:
        put_community(
            uow.session,
            rpb.Community(id=COMMUNITY_C, name="社区C", street_id=STREET_C, active=True),
            2,
        )
        put_station(uow.session, rpb.Station(id=STATION_C1, name="员村街联络站", street_id=STREET_C,
                                             community_ids=[COMMUNITY_C], active=True), 2)  # fmt: skip
        for deputy_id, street, station, tags, active in (
            (1101, STREET_A, STATION_A1, ["物业管理", "住房保障"], True),
            (1102, STREET_A, 12, ["物业管理"], True),
            (1103, STREET_A, STATION_A1, ["教育"], True),
            (1104, STREET_A, STATION_A1, ["物业管理"], False),  # left office
            (2101, STREET_B, 21, ["物业管理"], True),  # another street
            (DEPUTY_C1, STREET_C, STATION_C1, ["交通"], True),
            (DEPUTY_C2, STREET_C, STATION_C1, ["教育"], True),
        ):
            put_deputy(uow.session, rpb.DeputyProfile(id=deputy_id, name=f"代表{deputy_id}",
                       street_id=street, station_id=station, expertise=tags), 2, active)  # fmt: skip


def held(api: Any, station_id: int = STATION_A1, *, days_ago: int | None = None,
         rota: tuple[int, ...] = (DEPUTY_A1,), cancelled: bool = False,
         kind: str = domain.EXTRA) -> int:  # fmt: skip
    """A session held `days_ago` (negative: to come), its rota."""
    day = domain.today() - timedelta(days=next(_days) if days_ago is None else days_ago)
    with api.db.unit_of_work() as uow:
        row = models.ReceptionSession(
            station_id=station_id, kind=kind, key_date=day, session_date=day,
            status=domain.CANCELLED if cancelled else domain.SCHEDULED, reason="测试",
        )  # fmt: skip
        uow.session.add(row)
        uow.session.flush()
        for deputy_id in rota:
            uow.session.add(models.RotaAssignment(session_id=row.id, deputy_id=deputy_id))
        return int(row.id)


def deputy(api: Any, deputy_id: int) -> Any:
    return api.as_({"sub": f"test:deputy-{deputy_id}", "role": "deputy", "deputy_id": deputy_id})


def street(api: Any, role: str, street_id: int) -> Any:
    return api.as_({"sub": f"test:{role}-{street_id}", "role": role, "street_id": street_id})


def online(api: Any, stub: Any = None, **fields: Any) -> opb.Opinion:
    values: dict[str, Any] = {
        "source": opb.OPINION_SOURCE_ONLINE,
        "category": opb.OPINION_CATEGORY_PROPERTY,
        "content": "小区电梯经常停运，物业不理会",
        "community_id": 501,
        "raiser_name": NAME,
        "raiser_phone": PHONE,
    } | fields
    return (stub or api.anonymous).RecordOpinion(opb.RecordOpinionRequest(**values))  # type: ignore[no-any-return]


def order(api: Any, **fields: Any) -> opb.Opinion:
    values: dict[str, Any] = {
        "source": opb.OPINION_SOURCE_ORDER,
        "category": opb.OPINION_CATEGORY_PROPERTY,
        "content": "社区居委会：老旧小区加装电梯协调难",
        "community_id": 501,
        "raiser_name": "林和社区居委会",
    } | fields
    return street(api, "street_committee", STREET_A).RecordOpinion(  # type: ignore[no-any-return]
        opb.RecordOpinionRequest(**values)
    )


def events(api: Any, kind: str | None = None) -> list[tuple[str, dict[str, Any]]]:
    with api.db.read() as session:
        rows = session.execute(
            select(outbox_events.c.type, outbox_events.c.body).order_by(outbox_events.c.sequence)
        ).all()
    found = [(t, json.loads(b)["payload"]) for t, b in rows]
    return [e for e in found if kind is None or e[0] == kind]


def refused(call: Any) -> grpc.RpcError:
    with pytest.raises(grpc.RpcError) as error:
        call()
    return error.value


def fields(error: grpc.RpcError) -> set[str]:
    """The fields an INVALID_ARGUMENT names (google.rpc.BadRequest)."""
    status = rpc_status.from_call(error)  # type: ignore[arg-type]
    assert status is not None
    return {v.field for v in violations_from_status(status)}


def number(code: str) -> int:
    return int(code.rsplit("-", 1)[1])


# ---------------------------------------------------------------- recording and tracking


def test_an_online_opinion_gets_a_tracking_code_anyone_can_follow(api: Any) -> None:
    sent = online(api)
    assert re.fullmatch(rf"TH-{domain.today().year}-\d{{6}}", sent.tracking_code)
    assert sent.status == opb.OPINION_STATUS_RECORDED
    assert sent.station_id == STATION_A1 and sent.street_id == STREET_A
    assert not sent.HasField("raiser") and sent.raiser_hidden  # an anonymous caller
    track = api.anonymous.TrackOpinion(opb.TrackOpinionRequest(tracking_code=sent.tracking_code))
    assert (
        track.category == opb.OPINION_CATEGORY_PROPERTY and track.category_name == "物业管理与住房"
    )
    assert track.station_name == "林和街第一联络站"
    assert [e.kind for e in track.timeline] == ["recorded"]
    assert NAME not in str(track) and PHONE not in str(track) and "电梯" not in str(track)
    (kind, payload), *_ = events(api, "opinion_recorded")[-1:]
    assert payload["opinion"]["tracking_code"] == sent.tracking_code
    assert payload["opinion"]["street_id"] == str(STREET_A)


def test_tracking_a_bad_or_unknown_code(api: Any) -> None:
    bad = refused(lambda: api.anonymous.TrackOpinion(opb.TrackOpinionRequest(tracking_code="123")))
    assert bad.code() == grpc.StatusCode.INVALID_ARGUMENT
    unknown = refused(
        lambda: api.anonymous.TrackOpinion(opb.TrackOpinionRequest(tracking_code="TH-1999-000001"))
    )
    assert unknown.code() == grpc.StatusCode.NOT_FOUND


def test_the_public_list_shows_what_tracking_shows_with_community_and_street(api: Any) -> None:
    sent = online(api, category=opb.OPINION_CATEGORY_TRANSPORT)
    handed = online(api, category=opb.OPINION_CATEGORY_TRANSPORT)
    street(api, "station_staff", STREET_A).HandOnOpinion(
        opb.HandOnOpinionRequest(id=handed.id, note="转街道办")
    )
    found = api.anonymous.ListPublicOpinions(
        opb.ListPublicOpinionsRequest(tracking_codes=[sent.tracking_code, handed.tracking_code])
    ).opinions
    # The newest recorded first.
    assert [o.tracking_code for o in found] == [handed.tracking_code, sent.tracking_code]
    one = found[1]
    assert one.category_name == "交通出行" and one.status == opb.OPINION_STATUS_RECORDED
    assert one.station_id == STATION_A1 and one.street_id == STREET_A
    assert one.community_id == 501 and one.community_name
    assert one.recorded_at.seconds and one.updated_at.seconds >= one.recorded_at.seconds
    assert [e.kind for e in found[0].timeline] == ["recorded", "handed_on"]
    track = api.anonymous.TrackOpinion(opb.TrackOpinionRequest(tracking_code=sent.tracking_code))
    assert list(one.timeline) == list(track.timeline)
    text = str(found)
    assert NAME not in text and PHONE not in text and "电梯" not in text
    # Filters: status, category, time, limit.
    recorded = api.anonymous.ListPublicOpinions(
        opb.ListPublicOpinionsRequest(
            tracking_codes=[sent.tracking_code, handed.tracking_code],
            statuses=[opb.OPINION_STATUS_HANDED_ON],
        )
    ).opinions
    assert [o.tracking_code for o in recorded] == [handed.tracking_code]
    others = api.anonymous.ListPublicOpinions(
        opb.ListPublicOpinionsRequest(
            categories=[opb.OPINION_CATEGORY_EDUCATION], recorded_from=sent.recorded_at
        )
    ).opinions
    assert sent.tracking_code not in {o.tracking_code for o in others}
    newest = api.anonymous.ListPublicOpinions(opb.ListPublicOpinionsRequest(limit=1)).opinions
    assert len(newest) == 1
    before = api.anonymous.ListPublicOpinions(
        opb.ListPublicOpinionsRequest(
            tracking_codes=[sent.tracking_code], recorded_to=Timestamp(seconds=1)
        )
    ).opinions
    assert list(before) == []


def test_a_bad_public_query_names_its_fields(api: Any) -> None:
    error = refused(
        lambda: api.anonymous.ListPublicOpinions(
            opb.ListPublicOpinionsRequest(
                tracking_codes=["TH-2026-000001", "nope"],
                categories=[99],
                statuses=[42],
                limit=1001,
                recorded_from=Timestamp(seconds=100),
                recorded_to=Timestamp(seconds=10),
            )
        )
    )
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert fields(error) == {"tracking_codes", "categories", "statuses", "limit", "recorded_to"}


def test_the_categories_are_public(api: Any) -> None:
    found = api.anonymous.ListOpinionCategories(opb.ListOpinionCategoriesRequest()).categories
    assert [c.category for c in found] == list(range(1, 15))
    property_ = next(c for c in found if c.name == "property")
    assert property_.label == "物业管理与住房" and "物业管理" in property_.keywords
    assert property_.description


def test_an_invalid_opinion_names_every_field_and_writes_nothing(api: Any) -> None:
    before = len(events(api))
    error = refused(
        lambda: online(api, category=0, content=" ", raiser_phone="call me", community_id=0)
    )
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert fields(error) == {"category", "content", "raiser_phone", "community_id"}
    assert len(events(api)) == before


def test_codes_are_unique_and_gapless_under_concurrent_recording(api: Any) -> None:
    first = number(online(api).tracking_code)
    with ThreadPoolExecutor(max_workers=8) as pool:
        codes = list(pool.map(lambda _: online(api).tracking_code, range(24)))
    assert len(set(codes)) == 24
    assert sorted(number(c) for c in codes) == list(range(first + 1, first + 25))


def test_a_refused_recording_gives_no_number_away(api: Any) -> None:
    first = number(online(api).tracking_code)
    refused(lambda: online(api, community_id=999))  # no such community: nothing allocated
    assert number(online(api).tracking_code) == first + 1


def test_a_number_taken_in_a_unit_of_work_that_rolls_back_is_given_back(api: Any) -> None:
    first = number(online(api).tracking_code)
    with pytest.raises(RuntimeError), api.db.unit_of_work() as uow:
        assert number(next_code(uow.session, domain.today().year)) == first + 1
        raise RuntimeError("the recording fails after its number was taken")
    assert number(online(api).tracking_code) == first + 1


def test_at_a_reception_the_staff_and_the_rotas_deputies_record(api: Any) -> None:
    session_id = held(api)
    request = opb.RecordOpinionRequest(
        source=opb.OPINION_SOURCE_RECEPTION, category=opb.OPINION_CATEGORY_TRANSPORT,
        content="公交站台没有遮雨棚", session_id=session_id, raiser_name=NAME, raiser_phone=PHONE,
    )  # fmt: skip
    by_deputy = deputy(api, DEPUTY_A1).RecordOpinion(request)
    assert by_deputy.session_id == session_id and by_deputy.community_id == 501
    assert by_deputy.taken_by_deputy_id == DEPUTY_A1  # the deputy who heard it took it
    assert by_deputy.raiser.name == NAME  # on the session's rota
    staff = street(api, "station_staff", STREET_A).RecordOpinion(request)
    assert staff.taken_by_deputy_id == 0 and staff.raiser.phone == PHONE
    for stub in (deputy(api, DEPUTY_A2), street(api, "station_staff", STREET_B)):
        assert (
            refused(lambda s=stub: s.RecordOpinion(request)).code()
            == grpc.StatusCode.PERMISSION_DENIED
        )
    assert (
        refused(lambda: api.anonymous.RecordOpinion(request)).code()
        == grpc.StatusCode.UNAUTHENTICATED
    )
    for later in (held(api, days_ago=-3), held(api, cancelled=True)):
        request.session_id = later
        error = refused(lambda: street(api, "station_staff", STREET_A).RecordOpinion(request))
        assert error.code() == grpc.StatusCode.FAILED_PRECONDITION


def test_orders_come_from_the_street_committee(api: Any) -> None:
    taken = order(api, taken_by_deputy_id=1101)
    assert taken.source == opb.OPINION_SOURCE_ORDER
    assert taken.status == opb.OPINION_STATUS_IN_PROGRESS and taken.taken_by_deputy_id == 1101
    assert [e.kind for e in taken.timeline] == ["recorded", "assigned"]
    assert not taken.raiser.phone  # optional for orders
    other = refused(lambda: street(api, "street_committee", STREET_B).RecordOpinion(
        opb.RecordOpinionRequest(source=opb.OPINION_SOURCE_ORDER, category=1, content="x", community_id=501)
    ))  # fmt: skip
    assert other.code() == grpc.StatusCode.PERMISSION_DENIED
    staff = refused(lambda: street(api, "station_staff", STREET_A).RecordOpinion(
        opb.RecordOpinionRequest(source=opb.OPINION_SOURCE_ORDER, category=1, content="x", community_id=501)
    ))  # fmt: skip
    assert staff.code() == grpc.StatusCode.PERMISSION_DENIED
    elsewhere = refused(lambda: order(api, taken_by_deputy_id=2101))
    assert elsewhere.code() == grpc.StatusCode.FAILED_PRECONDITION


# ---------------------------------------------------------------- transitions


def test_each_transition_and_its_event(api: Any) -> None:
    staff = street(api, "station_staff", STREET_A)
    answered = staff.AnswerOpinion(
        opb.AnswerOpinionRequest(id=online(api).id, answer="已约物业面谈")
    )
    assert answered.status == opb.OPINION_STATUS_ANSWERED_ON_THE_SPOT
    assert events(api)[-1][0] == "opinion_answered"
    handed = staff.HandOnOpinion(opb.HandOnOpinionRequest(id=online(api).id, note="转街道办"))
    assert handed.status == opb.OPINION_STATUS_HANDED_ON
    kind, payload = events(api)[-1]
    assert (
        kind == "opinion_handed_on" and payload["opinion"]["status"] == "OPINION_STATUS_HANDED_ON"
    )
    assert payload["opinion"]["content"] and payload["opinion"]["community_id"] == "501"
    assert "raiser_sub" not in payload  # raised anonymously: no account to follow it
    assert NAME not in str(payload) and PHONE not in str(payload)
    mine = online(api, api.as_("constituent"))
    staff.HandOnOpinion(opb.HandOnOpinionRequest(id=mine.id))
    kind, payload = events(api)[-1]
    # The raiser's account (a pseudonymous subject), so that the referral
    # service lets them rate the answer; never their name or phone.
    assert kind == "opinion_handed_on" and payload["raiser_sub"] == "demo:constituent"
    assert NAME not in str(payload) and PHONE not in str(payload)
    (recorded,) = [
        p for k, p in events(api, "opinion_recorded") if p["opinion"]["id"] == str(mine.id)
    ]
    assert recorded["raiser_sub"] == "demo:constituent"
    assert NAME not in str(recorded) and PHONE not in str(recorded)
    answered_mine = online(api, api.as_("constituent"))
    staff.AnswerOpinion(opb.AnswerOpinionRequest(id=answered_mine.id, answer="已答复"))
    kind, payload = events(api)[-1]
    assert kind == "opinion_answered" and payload["raiser_sub"] == "demo:constituent"
    target = online(api)
    merged = staff.MergeOpinion(opb.MergeOpinionRequest(id=online(api).id, into_id=target.id))
    assert (
        merged.status == opb.OPINION_STATUS_MERGED
        and merged.merged_into_code == target.tracking_code
    )
    assert events(api)[-1][1]["merged_into_code"] == target.tracking_code
    declined = staff.DeclineOpinion(
        opb.DeclineOpinionRequest(id=online(api).id, reason="属司法程序")
    )
    assert (
        declined.status == opb.OPINION_STATUS_DECLINED and declined.decline_reason == "属司法程序"
    )
    assert events(api)[-1][0] == "opinion_declined"
    task = order(api)
    assigned = staff.AssignOpinion(opb.AssignOpinionRequest(id=task.id, deputy_id=1101))
    assert assigned.status == opb.OPINION_STATUS_IN_PROGRESS
    assert events(api)[-1][0] == "opinion_assigned" and events(api)[-1][1]["deputy_id"] == "1101"
    done = deputy(api, 1101).CompleteOpinion(
        opb.CompleteOpinionRequest(id=task.id, answer="已协调加装")
    )
    assert done.status == opb.OPINION_STATUS_DONE
    assert events(api)[-1][0] == "opinion_done"
    track = api.anonymous.TrackOpinion(opb.TrackOpinionRequest(tracking_code=task.tracking_code))
    assert [e.kind for e in track.timeline] == ["recorded", "assigned", "done"]
    assert "已协调加装" in track.timeline[-1].text


def test_a_deputy_takes_an_opinion_of_their_street(api: Any) -> None:
    sent = online(api)
    taken = deputy(api, 1103).AssignOpinion(opb.AssignOpinionRequest(id=sent.id))
    assert taken.taken_by_deputy_id == 1103 and taken.status == opb.OPINION_STATUS_RECORDED
    assert taken.raiser.name == NAME  # the deputy who took it may call them
    again = refused(lambda: deputy(api, 1103).AssignOpinion(opb.AssignOpinionRequest(id=sent.id)))
    assert again.code() == grpc.StatusCode.FAILED_PRECONDITION
    other = refused(lambda: deputy(api, 2101).AssignOpinion(opb.AssignOpinionRequest(id=sent.id)))
    assert other.code() == grpc.StatusCode.PERMISSION_DENIED
    gone = refused(lambda: street(api, "station_staff", STREET_A).AssignOpinion(
        opb.AssignOpinionRequest(id=sent.id, deputy_id=1104)))  # fmt: skip
    assert gone.code() == grpc.StatusCode.FAILED_PRECONDITION


def test_illegal_transitions_are_refused_naming_the_states(api: Any) -> None:
    staff = street(api, "station_staff", STREET_A)
    sent = online(api)
    staff.DeclineOpinion(opb.DeclineOpinionRequest(id=sent.id, reason="重复反映"))
    before = len(events(api))
    error = refused(lambda: staff.AnswerOpinion(opb.AnswerOpinionRequest(id=sent.id, answer="好")))
    assert error.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert "declined" in error.details() and "answered" in error.details()
    task = order(api)
    error = refused(lambda: staff.AnswerOpinion(opb.AnswerOpinionRequest(id=task.id, answer="好")))
    assert error.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert "recorded" in error.details()
    error = refused(
        lambda: staff.CompleteOpinion(opb.CompleteOpinionRequest(id=online(api).id, answer="好"))
    )
    assert error.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert len(events(api)) == before + 2  # the two opinions recorded, nothing else


def test_merging_into_itself_or_another_street_and_declining_without_reason(api: Any) -> None:
    staff = street(api, "station_staff", STREET_A)
    sent = online(api)
    itself = refused(
        lambda: staff.MergeOpinion(opb.MergeOpinionRequest(id=sent.id, into_id=sent.id))
    )
    assert itself.code() == grpc.StatusCode.INVALID_ARGUMENT and fields(itself) == {"into_id"}
    far = online(api, community_id=503)
    across = refused(
        lambda: api.as_("admin").MergeOpinion(opb.MergeOpinionRequest(id=sent.id, into_id=far.id))
    )
    assert across.code() == grpc.StatusCode.FAILED_PRECONDITION and "street" in across.details()
    bare = refused(lambda: staff.DeclineOpinion(opb.DeclineOpinionRequest(id=sent.id, reason="  ")))
    assert bare.code() == grpc.StatusCode.INVALID_ARGUMENT and fields(bare) == {"reason"}
    chain = online(api)
    staff.MergeOpinion(opb.MergeOpinionRequest(id=chain.id, into_id=sent.id))
    into_merged = refused(
        lambda: staff.MergeOpinion(opb.MergeOpinionRequest(id=online(api).id, into_id=chain.id))
    )
    assert into_merged.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert (
        api.anonymous.TrackOpinion(
            opb.TrackOpinionRequest(tracking_code=chain.tracking_code)
        ).merged_into_code
        == sent.tracking_code
    )


# ---------------------------------------------------------------- personal data


def test_who_raised_it_only_for_those_who_may_see(api: Any) -> None:
    session_id = held(api, rota=(DEPUTY_A1,))
    sent = street(api, "station_staff", STREET_A).RecordOpinion(opb.RecordOpinionRequest(
        source=opb.OPINION_SOURCE_RECEPTION, category=opb.OPINION_CATEGORY_HEALTH,
        content="社区卫生站周末不开门", session_id=session_id, raiser_name=NAME, raiser_phone=PHONE,
        raiser_contact="林和中路8号",
    ))  # fmt: skip
    request = opb.GetOpinionRequest(id=sent.id)
    for stub in (
        street(api, "street_committee", STREET_A),
        api.as_("admin"),
        deputy(api, DEPUTY_A1),
    ):
        assert stub.GetOpinion(request).raiser.contact == "林和中路8号"
    for stub in (deputy(api, DEPUTY_A2), api.as_("working-body")):
        seen = stub.GetOpinion(request)
        assert not seen.HasField("raiser") and seen.raiser_hidden and NAME not in str(seen)
    for stub in (
        street(api, "station_staff", STREET_B),
        api.as_("government-office"),
        api.as_("constituent"),
    ):
        assert (
            refused(lambda s=stub: s.GetOpinion(request)).code()
            == grpc.StatusCode.PERMISSION_DENIED
        )
    listed = api.as_("admin").ListOpinions(opb.ListOpinionsRequest(page_size=200))
    assert listed.opinions and all(not o.HasField("raiser") for o in listed.opinions)
    for _, payload in events(api):
        text = json.dumps(payload, ensure_ascii=False)
        assert NAME not in text and PHONE not in text and "林和中路8号" not in text


def test_a_signed_in_constituent_reads_their_own_opinion(api: Any) -> None:
    me = api.as_({"sub": "test:voter-1", "role": "constituent"})
    sent = online(api, me)
    assert sent.raiser.subject == "test:voter-1" and sent.raiser.name == NAME
    assert me.GetOpinion(opb.GetOpinionRequest(id=sent.id)).raiser.phone == PHONE
    other = api.as_({"sub": "test:voter-2", "role": "constituent"})
    assert refused(lambda: other.GetOpinion(opb.GetOpinionRequest(id=sent.id))).code() == (
        grpc.StatusCode.PERMISSION_DENIED
    )


# ---------------------------------------------------------------- the queue and suggestions


def test_the_triage_queue_keeps_to_the_street_and_pages(api: Any) -> None:
    online(api, community_id=503)
    mine = street(api, "station_staff", STREET_A)
    seen: list[opb.Opinion] = []
    token = ""
    while True:
        page = mine.ListOpinions(opb.ListOpinionsRequest(page_size=3, page_token=token))
        seen += page.opinions
        token = page.next_page_token
        if not token:
            break
    assert seen and {o.street_id for o in seen} == {STREET_A}
    assert {o.status for o in seen} <= {opb.OPINION_STATUS_RECORDED, opb.OPINION_STATUS_IN_PROGRESS}
    assert len({o.id for o in seen}) == len(seen)
    other = refused(lambda: mine.ListOpinions(opb.ListOpinionsRequest(street_id=STREET_B)))
    assert other.code() == grpc.StatusCode.PERMISSION_DENIED
    orders = api.as_("admin").ListOpinions(opb.ListOpinionsRequest(source=opb.OPINION_SOURCE_ORDER,
                                           statuses=[opb.OPINION_STATUS_DONE]))  # fmt: skip
    assert all(o.source == opb.OPINION_SOURCE_ORDER and o.status == opb.OPINION_STATUS_DONE
               for o in orders.opinions)  # fmt: skip
    taken = deputy(api, 1101).ListOpinions(opb.ListOpinionsRequest())
    assert taken.opinions and {o.taken_by_deputy_id for o in taken.opinions} == {1101}


def test_deputies_suggested_by_expertise_of_the_street_only(api: Any) -> None:
    sent = online(api)  # property, station A1
    found = (
        street(api, "street_committee", STREET_A)
        .SuggestDeputies(opb.SuggestDeputiesRequest(id=sent.id, limit=10))
        .deputies
    )
    ids = [d.deputy_id for d in found]
    assert ids[0] == 1101  # 物业管理 + 住房保障, this station
    assert (
        set(ids) <= {DEPUTY_A1, DEPUTY_A2, 1101, 1102} and 1102 in ids
    )  # 1104 left, 2101 elsewhere
    assert 1103 not in ids  # 教育 does not fit
    assert "“物业管理”" in found[0].reason and found[0].same_station
    assert refused(lambda: street(api, "station_staff", STREET_B).SuggestDeputies(
        opb.SuggestDeputiesRequest(id=sent.id))).code() == grpc.StatusCode.PERMISSION_DENIED  # fmt: skip


# ---------------------------------------------------------------- records and figures


def test_a_reception_record_is_written_until_locked(api: Any) -> None:
    session_id = held(api, rota=(DEPUTY_A1,))
    staff = street(api, "station_staff", STREET_A)
    put = opb.PutReceptionRecordRequest(
        session_id=session_id, deputy_ids=[DEPUTY_A1, 1101], person_times=7
    )
    record = staff.PutReceptionRecord(put)
    assert record.deputy_names == [f"代表{DEPUTY_A1}", "代表1101"] and record.person_times == 7
    wrong = refused(lambda: staff.PutReceptionRecord(opb.PutReceptionRecordRequest(
        session_id=session_id, deputy_ids=[DEPUTY_A2])))  # fmt: skip
    assert wrong.code() == grpc.StatusCode.INVALID_ARGUMENT and fields(wrong) == {"deputy_ids[0]"}
    put.person_times, put.lock = 9, True
    assert staff.PutReceptionRecord(put).locked
    assert (
        deputy(api, DEPUTY_A1)
        .GetReceptionRecord(opb.GetReceptionRecordRequest(session_id=session_id))
        .person_times
        == 9
    )
    locked = refused(lambda: staff.PutReceptionRecord(put))
    assert locked.code() == grpc.StatusCode.FAILED_PRECONDITION
    # Each write is published whole, without notes or names; a refused one is not.
    written = [
        e for t, e in events(api, "reception_recorded") if e["session_id"] == str(session_id)
    ]
    assert [(e["deputy_ids"], e.get("person_times"), e.get("locked", False)) for e in written] == [
        ([str(DEPUTY_A1), "1101"], 7, False),
        ([str(DEPUTY_A1), "1101"], 9, True),
    ]
    for stub in (deputy(api, DEPUTY_A2), street(api, "station_staff", STREET_B)):
        assert refused(lambda s=stub: s.GetReceptionRecord(
            opb.GetReceptionRecordRequest(session_id=session_id))).code() == grpc.StatusCode.PERMISSION_DENIED  # fmt: skip
    ahead = refused(
        lambda: staff.PutReceptionRecord(
            opb.PutReceptionRecordRequest(session_id=held(api, days_ago=-5))
        )
    )
    assert ahead.code() == grpc.StatusCode.FAILED_PRECONDITION


def test_figures_of_a_seeded_street(api: Any) -> None:
    today = domain.today()
    admin = api.as_("admin")
    # Two sessions today.
    sessions = [held(api, STATION_C1, days_ago=0),
                held(api, STATION_C1, days_ago=0, kind=domain.REGULAR)]  # fmt: skip
    for session_id, deputies, people in zip(
        sessions, ([DEPUTY_C1, DEPUTY_C2], [DEPUTY_C1]), (12, 5), strict=True
    ):
        admin.PutReceptionRecord(opb.PutReceptionRecordRequest(session_id=session_id, deputy_ids=deputies,
                                                               person_times=people))  # fmt: skip
    base = {"community_id": COMMUNITY_C}
    sent = [
        online(api, category=opb.OPINION_CATEGORY_TRANSPORT, **base),
        online(api, category=opb.OPINION_CATEGORY_TRANSPORT, **base),
        online(api, category=opb.OPINION_CATEGORY_EDUCATION, **base),
    ]
    admin.DeclineOpinion(opb.DeclineOpinionRequest(id=sent[2].id, reason="不属本辖区"))
    figures = api.anonymous.GetReceptionFigures(
        opb.GetReceptionFiguresRequest(street_id=STREET_C, year=today.year)
    )
    assert figures.sessions_recorded == 2
    assert figures.deputy_activity_person_times == 3
    assert figures.reception_person_times == 17
    assert figures.opinions_collected == 3
    by_category = {c.key: c.count for c in figures.by_category}
    assert (
        by_category["transport"] == 2
        and by_category["education"] == 1
        and by_category["legal"] == 0
    )
    by_outcome = {c.key: c.count for c in figures.by_outcome}
    assert by_outcome["recorded"] == 2 and by_outcome["declined"] == 1
    assert len(figures.months) == 12
    assert figures.months[today.month - 1].reception_person_times == 17
    month = api.anonymous.GetReceptionFigures(
        opb.GetReceptionFiguresRequest(station_id=STATION_C1, year=today.year, month=today.month)
    )
    assert (month.reception_person_times, month.opinions_collected, len(month.months)) == (17, 3, 0)
    other = api.anonymous.GetReceptionFigures(
        opb.GetReceptionFiguresRequest(street_id=STREET_C, year=today.year - 1)
    )
    assert other.opinions_collected == 0 and other.reception_person_times == 0
    bad = refused(lambda: api.anonymous.GetReceptionFigures(opb.GetReceptionFiguresRequest(year=1)))
    assert bad.code() == grpc.StatusCode.INVALID_ARGUMENT


def test_concurrent_writers_of_a_new_record_make_one(api: Any) -> None:
    session_id = held(api)
    staff = street(api, "station_staff", STREET_A)

    def put(people: int) -> int:
        request = opb.PutReceptionRecordRequest(session_id=session_id, person_times=people)
        return int(staff.PutReceptionRecord(request).person_times)

    with ThreadPoolExecutor(max_workers=6) as pool:
        answers = list(pool.map(put, range(1, 7)))
    assert sorted(answers) == [1, 2, 3, 4, 5, 6]
    with api.db.read() as session:
        rows = session.scalars(
            select(models.ReceptionRecord).where(models.ReceptionRecord.session_id == session_id)
        ).all()
        assert len(rows) == 1


def test_opinions_merged_into_each_other_at_once_do_not_deadlock(api: Any) -> None:
    staff = street(api, "station_staff", STREET_A)
    for _ in range(3):
        a, b = online(api).id, online(api).id

        def merge(pair: tuple[int, int]) -> str:
            try:
                staff.MergeOpinion(opb.MergeOpinionRequest(id=pair[0], into_id=pair[1]))
                return "merged"
            except grpc.RpcError as error:
                return error.code().name  # type: ignore[no-any-return]

        with ThreadPoolExecutor(max_workers=2) as pool:
            outcomes = sorted(pool.map(merge, [(a, b), (b, a)]))
        assert outcomes == ["FAILED_PRECONDITION", "merged"]
