"""check-ins, warning signs, schedules, flags

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 01:44:58.310871
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table(
        "checkins",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("local_date", sa.Date(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("mood", sa.SmallInteger(), nullable=True),
        sa.Column("sleep", sa.SmallInteger(), nullable=True),
        sa.Column("medication", sa.String(length=16), nullable=True),
        sa.Column("side_effects", sa.SmallInteger(), nullable=True),
        sa.Column("unusual", sa.JSON(), nullable=True),
        sa.Column("distress", sa.SmallInteger(), nullable=True),
        sa.Column("contact", sa.SmallInteger(), nullable=True),
        sa.Column("stress", sa.SmallInteger(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["people.id"],
            name=op.f("fk_checkins_person_id_people"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_checkins")),
        sa.UniqueConstraint(
            "person_id", "local_date", name=op.f("uq_checkins_person_id_local_date")
        ),
    )
    op.create_table(
        "flags",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("rule", sa.String(length=24), nullable=False),
        sa.Column("evidence", sa.JSON(), nullable=False),
        sa.Column("summary", sa.JSON(), nullable=False),
        sa.Column("raised_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("cleared_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("escalation_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["person_id"], ["people.id"], name=op.f("fk_flags_person_id_people"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_flags")),
    )
    with op.batch_alter_table("flags", schema=None) as batch_op:
        batch_op.create_index("ix_flags_person_open", ["person_id", "cleared_at"], unique=False)

    op.create_table(
        "schedules",
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_local_date", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["people.id"],
            name=op.f("fk_schedules_person_id_people"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("person_id", "kind", name=op.f("pk_schedules")),
    )
    with op.batch_alter_table("schedules", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_schedules_due_at"), ["due_at"], unique=False)

    op.create_table(
        "warning_signs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("removed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["people.id"],
            name=op.f("fk_warning_signs_person_id_people"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_warning_signs")),
    )
    with op.batch_alter_table("warning_signs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_warning_signs_person_id"), ["person_id"], unique=False)

    op.create_table(
        "checkin_signs",
        sa.Column("checkin_id", sa.Integer(), nullable=False),
        sa.Column("sign_id", sa.Integer(), nullable=False),
        sa.Column("present", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["checkin_id"],
            ["checkins.id"],
            name=op.f("fk_checkin_signs_checkin_id_checkins"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["sign_id"],
            ["warning_signs.id"],
            name=op.f("fk_checkin_signs_sign_id_warning_signs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("checkin_id", "sign_id", name=op.f("pk_checkin_signs")),
    )


def downgrade() -> None:

    op.drop_table("checkin_signs")
    with op.batch_alter_table("warning_signs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_warning_signs_person_id"))

    op.drop_table("warning_signs")
    with op.batch_alter_table("schedules", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_schedules_due_at"))

    op.drop_table("schedules")
    with op.batch_alter_table("flags", schema=None) as batch_op:
        batch_op.drop_index("ix_flags_person_open")

    op.drop_table("flags")
    op.drop_table("checkins")
