"""indexes for the retention purge

The hourly purge looked for old notes and relay records with sequential scans (82 ms at
1,000,000 clients with one day of check-ins, growing with the tables); these make it an
index range scan.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-22 05:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("checkins", schema=None) as batch_op:
        batch_op.create_index(
            "ix_checkins_note_started_at",
            ["started_at"],
            unique=False,
            postgresql_where=sa.text("note IS NOT NULL"),
            sqlite_where=sa.text("note IS NOT NULL"),
        )
    with op.batch_alter_table("relay_messages", schema=None) as batch_op:
        batch_op.create_index("ix_relay_messages_at", ["at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("relay_messages", schema=None) as batch_op:
        batch_op.drop_index("ix_relay_messages_at")
    with op.batch_alter_table("checkins", schema=None) as batch_op:
        batch_op.drop_index(
            "ix_checkins_note_started_at",
            postgresql_where=sa.text("note IS NOT NULL"),
            sqlite_where=sa.text("note IS NOT NULL"),
        )
