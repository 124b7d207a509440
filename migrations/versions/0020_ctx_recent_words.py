"""a person's last screened messages (encrypted), kept minutes so the crisis screen reads a
new message with them (issue 16, context across messages)

Revision ID: ctx_0020_recent_words
Revises: groupedit_0019_room_changes
Create Date: 2026-12-07 05:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "ctx_0020_recent_words"
down_revision: str | None = "groupedit_0019_room_changes"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "recent_words",
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("texts", sa.JSON(), nullable=False),
        sa.Column("said_at", sa.JSON(), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["people.id"],
            name="fk_recent_words_person_id_people",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("person_id", name="pk_recent_words"),
    )
    op.create_index("ix_recent_words_expires_at", "recent_words", ["expires_at"])


def downgrade() -> None:
    op.drop_index("ix_recent_words_expires_at", table_name="recent_words")
    op.drop_table("recent_words")
