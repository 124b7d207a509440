"""peer activities: activities, leaders, answers, notices, opt-outs

- ``activities``: what peer workers lead (kind, time, place or online, capacity, audience,
  language); ``activity_leaders`` names who leads each.
- ``activity_answers``: going, maybe, can't, or waiting for a place.
- ``activity_notices``: invitations, reminders and changes due for one person, claimed by
  the scheduler's tick through the ``due_at`` index.
- ``activity_opt_outs``: people who want no invitations.

Revision ID: h4_0011_activities
Revises: 0010
Create Date: 2026-12-06 08:35:46.708266
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "h4_0011_activities"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "activities",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=120), nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("minutes", sa.Integer(), nullable=False),
        sa.Column("place", sa.String(length=200), nullable=False),
        sa.Column("online", sa.Boolean(), nullable=False),
        sa.Column("capacity", sa.Integer(), nullable=False),
        sa.Column("audience", sa.String(length=12), nullable=False),
        sa.Column("language", sa.String(length=16), nullable=False),
        sa.Column("zone", sa.String(length=64), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("cancelled_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["people.id"],
            name=op.f("fk_activities_created_by_people"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_activities")),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("activities", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_activities_starts_at"), ["starts_at"], unique=False)

    op.create_table(
        "activity_opt_outs",
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["people.id"],
            name=op.f("fk_activity_opt_outs_person_id_people"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("person_id", name=op.f("pk_activity_opt_outs")),
    )
    op.create_table(
        "activity_answers",
        sa.Column("activity_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("answer", sa.String(length=8), nullable=False),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["activity_id"],
            ["activities.id"],
            name=op.f("fk_activity_answers_activity_id_activities"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["people.id"],
            name=op.f("fk_activity_answers_person_id_people"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("activity_id", "person_id", name=op.f("pk_activity_answers")),
    )
    with op.batch_alter_table("activity_answers", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_activity_answers_person_id"), ["person_id"], unique=False
        )

    op.create_table(
        "activity_leaders",
        sa.Column("activity_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["activity_id"],
            ["activities.id"],
            name=op.f("fk_activity_leaders_activity_id_activities"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["people.id"],
            name=op.f("fk_activity_leaders_person_id_people"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("activity_id", "person_id", name=op.f("pk_activity_leaders")),
    )
    with op.batch_alter_table("activity_leaders", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_activity_leaders_person_id"), ["person_id"], unique=False
        )

    op.create_table(
        "activity_notices",
        sa.Column("activity_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["activity_id"],
            ["activities.id"],
            name=op.f("fk_activity_notices_activity_id_activities"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["people.id"],
            name=op.f("fk_activity_notices_person_id_people"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "activity_id", "person_id", "kind", name=op.f("pk_activity_notices")
        ),
    )
    with op.batch_alter_table("activity_notices", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_activity_notices_due_at"), ["due_at"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_activity_notices_person_id"), ["person_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("activity_notices", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_activity_notices_person_id"))
        batch_op.drop_index(batch_op.f("ix_activity_notices_due_at"))

    op.drop_table("activity_notices")
    with op.batch_alter_table("activity_leaders", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_activity_leaders_person_id"))

    op.drop_table("activity_leaders")
    with op.batch_alter_table("activity_answers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_activity_answers_person_id"))

    op.drop_table("activity_answers")
    op.drop_table("activity_opt_outs")
    with op.batch_alter_table("activities", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_activities_starts_at"))

    op.drop_table("activities")
