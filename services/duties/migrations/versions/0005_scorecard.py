"""duties: the duty-report plan and learning materials

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-27 03:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "duties_report_plans",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("first_year", sa.Integer(), nullable=False),
        sa.Column("made_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("first_year", name="uq_duties_report_plans_first_year"),
    )
    op.create_table(
        "duties_report_slots",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("plan_id", sa.BigInteger(), nullable=False),
        sa.Column("deputy_id", sa.BigInteger(), nullable=False),
        sa.Column("street_id", sa.BigInteger(), nullable=False),
        sa.Column("level", sa.String(length=20), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("joined", sa.Boolean(), nullable=False),
        sa.Column("withdrawn_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["plan_id"], ["duties_report_plans.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("plan_id", "deputy_id", name="uq_duties_report_slots_plan_deputy"),
    )
    op.create_index(
        "ix_duties_report_slots_plan_street",
        "duties_report_slots",
        ["plan_id", "street_id"],
    )
    op.create_table(
        "duties_materials",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("url", sa.String(length=2000), nullable=False),
        sa.Column("street_id", sa.BigInteger(), nullable=True),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_duties_materials_street", "duties_materials", ["street_id"])
    op.create_table(
        "duties_material_reads",
        sa.Column("material_id", sa.BigInteger(), nullable=False),
        sa.Column("deputy_id", sa.BigInteger(), nullable=False),
        sa.Column("read_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["material_id"], ["duties_materials.id"]),
        sa.PrimaryKeyConstraint("material_id", "deputy_id"),
    )


def downgrade() -> None:
    op.drop_table("duties_material_reads")
    op.drop_index("ix_duties_materials_street", table_name="duties_materials")
    op.drop_table("duties_materials")
    op.drop_index("ix_duties_report_slots_plan_street", table_name="duties_report_slots")
    op.drop_table("duties_report_slots")
    op.drop_table("duties_report_plans")
