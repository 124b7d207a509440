"""activity attendance, records and feedback

- ``activity_attendance``: who a leader marked present (the person goes when erased; the
  row and the head count stay).
- ``activity_records``: the leader's record (minutes, what was done, what went wrong),
  each answer stored as given, filed once (``filed_at``).
- ``activity_feedback``: satisfaction, help, come again, an optional comment.

Revision ID: h4_0012_activity_records
Revises: h4_0011_activities
Create Date: 2026-12-06 09:06:49.927573
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "h4_0012_activity_records"
down_revision: str | None = "h4_0011_activities"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "activity_attendance",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("activity_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=True),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("marked_by", sa.Integer(), nullable=True),
        sa.Column("marked_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["activity_id"],
            ["activities.id"],
            name=op.f("fk_activity_attendance_activity_id_activities"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["marked_by"],
            ["people.id"],
            name=op.f("fk_activity_attendance_marked_by_people"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["people.id"],
            name=op.f("fk_activity_attendance_person_id_people"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_activity_attendance")),
        sa.UniqueConstraint(
            "activity_id", "person_id", name=op.f("uq_activity_attendance_activity_id_person_id")
        ),
    )
    with op.batch_alter_table("activity_attendance", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_activity_attendance_person_id"), ["person_id"], unique=False
        )

    op.create_table(
        "activity_feedback",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("activity_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=True),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("satisfaction", sa.SmallInteger(), nullable=False),
        sa.Column("helped", sa.SmallInteger(), nullable=False),
        sa.Column("again", sa.String(length=8), nullable=False),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["activity_id"],
            ["activities.id"],
            name=op.f("fk_activity_feedback_activity_id_activities"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["people.id"],
            name=op.f("fk_activity_feedback_person_id_people"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_activity_feedback")),
        sa.UniqueConstraint(
            "activity_id", "person_id", name=op.f("uq_activity_feedback_activity_id_person_id")
        ),
    )
    with op.batch_alter_table("activity_feedback", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_activity_feedback_person_id"), ["person_id"], unique=False
        )

    op.create_table(
        "activity_records",
        sa.Column("activity_id", sa.Integer(), nullable=False),
        sa.Column("filed_by", sa.Integer(), nullable=True),
        sa.Column("filed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("minutes", sa.Integer(), nullable=True),
        sa.Column("attended", sa.Integer(), nullable=True),
        sa.Column("what_was_done", sa.Text(), nullable=True),
        sa.Column("problem", sa.String(length=8), nullable=True),
        sa.Column("problem_note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["activity_id"],
            ["activities.id"],
            name=op.f("fk_activity_records_activity_id_activities"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["filed_by"],
            ["people.id"],
            name=op.f("fk_activity_records_filed_by_people"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("activity_id", name=op.f("pk_activity_records")),
    )


def downgrade() -> None:
    op.drop_table("activity_records")
    with op.batch_alter_table("activity_feedback", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_activity_feedback_person_id"))

    op.drop_table("activity_feedback")
    with op.batch_alter_table("activity_attendance", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_activity_attendance_person_id"))

    op.drop_table("activity_attendance")
