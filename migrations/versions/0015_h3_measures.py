"""measures in the chat: WHO-5 and the alliance questionnaire (opt-in rows and answers)

Revision ID: h3_0012_measures
Revises: h3_0011_supervision
Create Date: 2026-12-06 09:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "h3_0012_measures"
down_revision: str | None = "h3_0011_supervision"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

WHEN = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "measure_schedule",
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("measure", sa.String(length=12), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("due_at", WHEN, nullable=True),
        sa.Column("changed_at", WHEN, nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["people.id"],
            name=op.f("fk_measure_schedule_person_id_people"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("person_id", "measure", name=op.f("pk_measure_schedule")),
    )
    op.create_index(
        "ix_measure_schedule_due",
        "measure_schedule",
        ["due_at"],
        unique=False,
        postgresql_where=sa.text("status = 'on'"),
        sqlite_where=sa.text("status = 'on'"),
    )
    op.create_table(
        "measure_answers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("measure", sa.String(length=12), nullable=False),
        sa.Column("worker_id", sa.Integer(), nullable=True),
        sa.Column("answers", sa.JSON(), nullable=False),
        sa.Column("score", sa.SmallInteger(), nullable=False),
        sa.Column("at", WHEN, nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["people.id"],
            name=op.f("fk_measure_answers_person_id_people"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["worker_id"],
            ["people.id"],
            name=op.f("fk_measure_answers_worker_id_people"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_measure_answers")),
    )
    op.create_index("ix_measure_answers_measure_at", "measure_answers", ["measure", "at"])
    op.create_index("ix_measure_answers_person", "measure_answers", ["person_id", "measure", "at"])


def downgrade() -> None:
    op.drop_index("ix_measure_answers_person", table_name="measure_answers")
    op.drop_index("ix_measure_answers_measure_at", table_name="measure_answers")
    op.drop_table("measure_answers")
    op.drop_index("ix_measure_schedule_due", table_name="measure_schedule")
    op.drop_table("measure_schedule")
