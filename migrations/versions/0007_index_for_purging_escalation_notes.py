"""index for purging escalation notes

The hourly purge clears the notes of escalations resolved longer ago than the retention
period. It scanned the whole escalations table, which only grows (every twentieth client
with a resolved escalation: 50,000 rows read every hour at 1,000,000 clients); this partial
index holds only the rows that still have a note.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-27 11:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("escalations", schema=None) as batch_op:
        batch_op.create_index(
            "ix_escalations_note_resolved_at",
            ["resolved_at"],
            unique=False,
            postgresql_where=sa.text("note IS NOT NULL"),
            sqlite_where=sa.text("note IS NOT NULL"),
        )


def downgrade() -> None:
    with op.batch_alter_table("escalations", schema=None) as batch_op:
        batch_op.drop_index(
            "ix_escalations_note_resolved_at",
            postgresql_where=sa.text("note IS NOT NULL"),
            sqlite_where=sa.text("note IS NOT NULL"),
        )
