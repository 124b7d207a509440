"""looking after peer workers: duty clocks, debriefs, reviews, supervision notes

Revision ID: h3_0011_supervision
Revises: 0011_coping_cards
Create Date: 2026-12-06 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "h3_0011_supervision"
down_revision: str | None = "0011_coping_cards"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

WHEN = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "staff_duty",
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("since", WHEN, nullable=True),
        sa.Column("shift_started_at", WHEN, nullable=True),
        sa.Column("off_at", WHEN, nullable=True),
        sa.Column("reminded_at", WHEN, nullable=True),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["people.id"],
            name=op.f("fk_staff_duty_person_id_people"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("person_id", name=op.f("pk_staff_duty")),
    )
    op.create_index(
        "ix_staff_duty_to_remind",
        "staff_duty",
        ["since"],
        unique=False,
        postgresql_where=sa.text("since IS NOT NULL AND reminded_at IS NULL"),
        sqlite_where=sa.text("since IS NOT NULL AND reminded_at IS NULL"),
    )
    op.create_table(
        "debriefs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("escalation_id", sa.Integer(), nullable=True),
        sa.Column("worker_id", sa.Integer(), nullable=True),
        sa.Column("answer", sa.String(length=8), nullable=False),
        sa.Column("at", WHEN, nullable=False),
        sa.ForeignKeyConstraint(
            ["escalation_id"],
            ["escalations.id"],
            name=op.f("fk_debriefs_escalation_id_escalations"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["worker_id"],
            ["people.id"],
            name=op.f("fk_debriefs_worker_id_people"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_debriefs")),
        sa.UniqueConstraint(
            "escalation_id", "worker_id", name=op.f("uq_debriefs_escalation_id_worker_id")
        ),
    )
    op.create_index(op.f("ix_debriefs_at"), "debriefs", ["at"], unique=False)
    op.create_table(
        "review_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("escalation_id", sa.Integer(), nullable=False),
        sa.Column("worker_id", sa.Integer(), nullable=True),
        sa.Column("worker_alias", sa.String(length=32), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("requested_at", WHEN, nullable=False),
        sa.Column("taken_by", sa.Integer(), nullable=True),
        sa.Column("taken_at", WHEN, nullable=True),
        sa.ForeignKeyConstraint(
            ["escalation_id"],
            ["escalations.id"],
            name=op.f("fk_review_requests_escalation_id_escalations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["taken_by"],
            ["people.id"],
            name=op.f("fk_review_requests_taken_by_people"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["worker_id"],
            ["people.id"],
            name=op.f("fk_review_requests_worker_id_people"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_review_requests")),
    )
    op.create_index(
        op.f("ix_review_requests_requested_at"), "review_requests", ["requested_at"], unique=False
    )
    op.create_table(
        "supervision_notes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("worker_id", sa.Integer(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=True),
        sa.Column("author_alias", sa.String(length=32), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("at", WHEN, nullable=False),
        sa.ForeignKeyConstraint(
            ["author_id"],
            ["people.id"],
            name=op.f("fk_supervision_notes_author_id_people"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["worker_id"],
            ["people.id"],
            name=op.f("fk_supervision_notes_worker_id_people"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_supervision_notes")),
    )
    op.create_index(
        op.f("ix_supervision_notes_worker_id"), "supervision_notes", ["worker_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_supervision_notes_worker_id"), table_name="supervision_notes")
    op.drop_table("supervision_notes")
    op.drop_index(op.f("ix_review_requests_requested_at"), table_name="review_requests")
    op.drop_table("review_requests")
    op.drop_index(op.f("ix_debriefs_at"), table_name="debriefs")
    op.drop_table("debriefs")
    op.drop_index("ix_staff_duty_to_remind", table_name="staff_duty")
    op.drop_table("staff_duty")
