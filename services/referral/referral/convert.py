"""Between the referral service's rows and its protobuf messages."""

from __future__ import annotations

from kit.convert import EnumNames, timestamp
from liaison.reception.v1 import opinions_pb2 as opb
from liaison.referral.v1 import referral_pb2 as pb
from referral import models

CATEGORY = EnumNames(opb.OpinionCategory, "OPINION_CATEGORY")
STAGE = EnumNames(pb.LetterStage, "LETTER_STAGE")


def letter_pb(row: models.Letter) -> pb.Letter:
    return pb.Letter(
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
        stage=STAGE.number(row.stage),  # type: ignore[arg-type]
        opened_at=timestamp(row.opened_at),
        updated_at=timestamp(row.updated_at),
    )
