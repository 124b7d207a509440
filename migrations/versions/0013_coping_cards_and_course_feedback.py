"""coping cards shown (and whether they helped) and the family course's feedback

Two plain tables the program's reports read (docs/lessons.md says what each column means).

Revision ID: 0011_coping_cards
Revises: h4_0012_activity_records
Create Date: 2026-12-06 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011_coping_cards"
down_revision: str | None = "h4_0012_activity_records"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "coping_cards",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("card", sa.String(length=24), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("shown_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("helped", sa.String(length=8), nullable=True),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["people.id"],
            name=op.f("fk_coping_cards_person_id_people"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_coping_cards")),
    )
    with op.batch_alter_table("coping_cards", schema=None) as batch_op:
        batch_op.create_index("ix_coping_cards_person_id_card", ["person_id", "card"], unique=False)
    op.create_table(
        "course_feedback",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("useful", sa.String(length=12), nullable=False),
        sa.Column("given_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["people.id"],
            name=op.f("fk_course_feedback_person_id_people"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_course_feedback")),
    )
    with op.batch_alter_table("course_feedback", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_course_feedback_person_id"), ["person_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("course_feedback", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_course_feedback_person_id"))
    op.drop_table("course_feedback")
    with op.batch_alter_table("coping_cards", schema=None) as batch_op:
        batch_op.drop_index("ix_coping_cards_person_id_card")
    op.drop_table("coping_cards")
