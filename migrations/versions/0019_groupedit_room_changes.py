"""a standing group changed: the one message the tick owes each member about it (a new
time, or a leader taken off)

Revision ID: groupedit_0019_room_changes
Revises: h12_0017_room_sessions
Create Date: 2026-12-06 19:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "groupedit_0019_room_changes"
down_revision: str | None = "h12_0017_room_sessions"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("room_members") as batch:
        batch.add_column(sa.Column("notice_due", sa.String(length=8), nullable=True))
    op.create_index(
        "ix_room_members_notice_due",
        "room_members",
        ["room_id"],
        postgresql_where=sa.text("notice_due IS NOT NULL"),
        sqlite_where=sa.text("notice_due IS NOT NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_room_members_notice_due", table_name="room_members")
    with op.batch_alter_table("room_members") as batch:
        batch.drop_column("notice_due")
