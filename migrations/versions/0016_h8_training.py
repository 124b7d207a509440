"""the peer workers' training course: one row per worker and lesson; course feedback names its course

Revision ID: h8_0016_training
Revises: h3_0012_measures
Create Date: 2026-12-06 12:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "h8_0016_training"
down_revision: str | None = "h3_0012_measures"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

WHEN = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "training_progress",
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("lesson", sa.String(length=32), nullable=False),
        sa.Column("started_at", WHEN, nullable=False),
        sa.Column("completed_at", WHEN, nullable=True),
        sa.Column("answered_correctly", sa.Boolean(), nullable=True),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["people.id"],
            name=op.f("fk_training_progress_person_id_people"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("person_id", "lesson", name=op.f("pk_training_progress")),
    )
    op.create_index(
        op.f("ix_training_progress_completed_at"), "training_progress", ["completed_at"]
    )
    with op.batch_alter_table("course_feedback") as batch:
        batch.add_column(
            sa.Column("course", sa.String(length=16), nullable=False, server_default="family")
        )


def downgrade() -> None:
    with op.batch_alter_table("course_feedback") as batch:
        batch.drop_column("course")
    op.drop_index(op.f("ix_training_progress_completed_at"), table_name="training_progress")
    op.drop_table("training_progress")
