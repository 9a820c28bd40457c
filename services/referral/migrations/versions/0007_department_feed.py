"""referral: the feed of letters sent to each unit (a position per handling unit)

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-27 00:50:00.000000

Units a letter was sent to before this revision get positions in the order
of their letters (then kind and id), so a department watching from 0 sees
them too.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

units = sa.table(
    "referral_handling_units",
    sa.column("letter_id", sa.BigInteger()),
    sa.column("unit_kind", sa.String()),
    sa.column("unit_id", sa.BigInteger()),
    sa.column("seq", sa.BigInteger()),
)


def upgrade() -> None:
    op.add_column("referral_handling_units", sa.Column("seq", sa.BigInteger(), nullable=True))
    bind = op.get_bind()
    existing = bind.execute(
        sa.select(units.c.letter_id, units.c.unit_kind, units.c.unit_id).order_by(
            units.c.letter_id, units.c.unit_kind, units.c.unit_id
        )
    ).all()
    for position, (letter_id, unit_kind, unit_id) in enumerate(existing, start=1):
        bind.execute(
            units.update()
            .where(
                units.c.letter_id == letter_id,
                units.c.unit_kind == unit_kind,
                units.c.unit_id == unit_id,
            )
            .values(seq=position)
        )
    with op.batch_alter_table("referral_handling_units") as batch:
        batch.alter_column("seq", existing_type=sa.BigInteger(), nullable=False)
    op.create_index(
        "uq_referral_handling_units_seq", "referral_handling_units", ["seq"], unique=True
    )
    op.create_index(
        "ix_referral_handling_units_feed",
        "referral_handling_units",
        ["unit_kind", "unit_id", "seq"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_referral_handling_units_feed", table_name="referral_handling_units")
    op.drop_index("uq_referral_handling_units_seq", table_name="referral_handling_units")
    with op.batch_alter_table("referral_handling_units") as batch:
        batch.drop_column("seq")
