"""Between the referral service's rows, its workflow values
(`referral.routing`) and its protobuf messages."""

from __future__ import annotations

from kit.convert import EnumNames, timestamp
from liaison.reception.v1 import opinions_pb2 as opb
from liaison.referral.v1 import referral_pb2 as pb
from referral import models, routing
from referral.units import Unit, UnitKind

CATEGORY = EnumNames(opb.OpinionCategory, "OPINION_CATEGORY")
STAGE = EnumNames(pb.LetterStage, "LETTER_STAGE")
ROUTE = EnumNames(pb.Route, "ROUTE")
UNIT_KIND = EnumNames(pb.UnitKind, "UNIT_KIND")
SATISFACTION = EnumNames(pb.Satisfaction, "SATISFACTION")
RATER = EnumNames(pb.Rater, "RATER")


def unit_pb(unit: Unit | None) -> pb.Unit | None:
    if unit is None:
        return None
    return pb.Unit(
        kind=UNIT_KIND.number(unit.kind.value),  # type: ignore[arg-type]
        id=unit.id or 0,
        label=str(unit),
    )


def unit_of(kind: str | None, unit_id: int | None) -> Unit | None:
    if kind is None:
        return None
    k = UnitKind(kind)
    return Unit(k, unit_id if unit_id else None)


def attachment_pb(row: models.Attachment) -> pb.Attachment:
    return pb.Attachment(
        sha256=row.sha256,
        filename=row.filename,
        content_type=row.content_type,
        size=row.size,
        uploaded_by=unit_pb(unit_of(row.uploaded_by_kind, row.uploaded_by_id)),
        uploaded_at=timestamp(row.uploaded_at),
    )


def letter_pb(row: models.Letter, letter: routing.Letter) -> pb.Letter:
    """The letter as its readers see it: the row's facts and its workflow."""
    message = pb.Letter(
        id=row.id,
        opinion_id=row.opinion_id,
        tracking_code=row.tracking_code,
        street_id=row.street_id,
        station_id=row.station_id,
        community_id=row.community_id,
        community_name=row.community_name,
        category=CATEGORY.number(row.category),  # type: ignore[arg-type]
        content=row.content,
        deputy_id=row.deputy_id or 0,
        note=row.note,
        stage=STAGE.number(letter.stage.value),  # type: ignore[arg-type]
        opened_at=timestamp(row.opened_at),
        updated_at=timestamp(row.updated_at),
        route=ROUTE.number(letter.route.value) if letter.route else 0,  # type: ignore[arg-type]
        awaits=routing.AWAITS[letter.stage],
        holder=unit_pb(letter.holder),
        handler=unit_pb(letter.handler),
        co_handlers=[unit_pb(u) for u in letter.co_handlers],
        sign_offs=[
            pb.SignOff(
                signer=s.signer.value,
                by=str(s.by),
                at=timestamp(s.at),
                comment=s.comment,
                refused=s.refused,
            )
            for s in letter.sign_offs
        ],
        hops=[
            pb.Hop(
                from_unit=unit_pb(h.from_unit),
                to_unit=unit_pb(h.to_unit),
                kind=h.stage,
                sent_at=timestamp(h.sent_at),
                received_at=timestamp(h.received_at),
            )
            for h in letter.hops
        ],
        answers=[
            pb.Answer(
                by=unit_pb(a.by.unit),
                at=timestamp(a.at),
                text=a.text,
                attachments=list(a.attachments),
                round=i + 1,
            )
            for i, a in enumerate(letter.answers)
        ],
        ratings=[
            pb.Rating(
                rater=RATER.number(r.rater.value),  # type: ignore[arg-type]
                satisfaction=SATISFACTION.number(r.satisfaction.value),  # type: ignore[arg-type]
                at=timestamp(r.at),
                round=r.round,
            )
            for r in letter.ratings
        ],
        extensions=[
            pb.Extension(
                requested_at=timestamp(e.requested_at),
                reason=e.reason,
                requested_last_day=e.until.isoformat() if e.until else "",
                decision=e.decision.value if e.decision else "",
                decided_at=timestamp(e.decided_at),
                comment=e.comment,
            )
            for e in letter.extensions
        ],
        round=letter.round,
        stage_due_at=timestamp(row.stage_due_at),
    )
    if row.received_at is not None and row.due_at is not None and row.due_last_day is not None:
        message.deadline.CopyFrom(
            pb.Deadline(
                received_at=timestamp(row.received_at),
                last_day=row.due_last_day.isoformat(),
                ends_at=timestamp(row.due_at),
                extended=row.due_extended,
                holidays_known=row.holidays_known,
            )
        )
    return message


def public_letter_pb(row: models.Letter, letter: routing.Letter) -> pb.PublicLetter:
    """What anyone with the tracking code sees: where the letter is and
    what came of it, never its content, comments, reasons or who acted."""
    full = letter_pb(row, letter)
    public = pb.PublicLetter(
        tracking_code=row.tracking_code,
        stage=full.stage,
        awaits=full.awaits,
        route=full.route,
        hops=full.hops,
        co_handlers=full.co_handlers,
        sign_offs=[
            pb.PublicSignOff(signer=s.signer, at=s.at, refused=s.refused) for s in full.sign_offs
        ],
        answers=full.answers,
        ratings=full.ratings,
        round=full.round,
        opened_at=full.opened_at,
        updated_at=full.updated_at,
    )
    for name in ("holder", "handler", "deadline"):
        if full.HasField(name):
            getattr(public, name).CopyFrom(getattr(full, name))
    return public
