"""group rooms in the register: a row per session that happened, who was present, each
message's session, and when each copy landed (for the retention purge)

Revision ID: h12_0017_room_sessions
Revises: h7_0016_rooms
Create Date: 2026-12-06 15:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "h12_0017_room_sessions"
down_revision: str | None = "h7_0016_rooms"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

WHEN = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "room_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("room_id", sa.Integer(), nullable=False),
        sa.Column("starts_at", WHEN, nullable=False),
        sa.Column("held_back", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["room_id"],
            ["rooms.id"],
            name=op.f("fk_room_sessions_room_id_rooms"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_room_sessions")),
        sa.UniqueConstraint(
            "room_id", "starts_at", name=op.f("uq_room_sessions_room_id_starts_at")
        ),
        sqlite_autoincrement=True,
    )
    op.create_table(
        "room_attendance",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=True),
        sa.Column("leader", sa.Boolean(), nullable=False),
        sa.Column("at", WHEN, nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["people.id"],
            name=op.f("fk_room_attendance_person_id_people"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["room_sessions.id"],
            name=op.f("fk_room_attendance_session_id_room_sessions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_room_attendance")),
        sa.UniqueConstraint(
            "session_id", "person_id", name=op.f("uq_room_attendance_session_id_person_id")
        ),
        sqlite_autoincrement=True,
    )
    op.create_index(op.f("ix_room_attendance_person_id"), "room_attendance", ["person_id"])
    op.create_index(
        "ix_room_attendance_member_at",
        "room_attendance",
        ["at"],
        postgresql_where=sa.text("person_id IS NOT NULL AND leader = false"),
        sqlite_where=sa.text("person_id IS NOT NULL AND leader = false"),
    )
    with op.batch_alter_table("room_messages") as batch_op:
        batch_op.add_column(sa.Column("session_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_room_messages_session_id_room_sessions"),
            "room_sessions",
            ["session_id"],
            ["id"],
            ondelete="CASCADE",
        )
        batch_op.create_index(batch_op.f("ix_room_messages_session_id"), ["session_id"])
        batch_op.create_index(
            "ix_room_messages_sender_at",
            ["at"],
            postgresql_where=sa.text("sender_id IS NOT NULL"),
            sqlite_where=sa.text("sender_id IS NOT NULL"),
        )
    with op.batch_alter_table("room_copies") as batch_op:
        batch_op.add_column(sa.Column("at", WHEN, nullable=True))
        batch_op.create_index(batch_op.f("ix_room_copies_at"), ["at"])


def downgrade() -> None:
    with op.batch_alter_table("room_copies") as batch_op:
        batch_op.drop_index(batch_op.f("ix_room_copies_at"))
        batch_op.drop_column("at")
    with op.batch_alter_table("room_messages") as batch_op:
        batch_op.drop_index("ix_room_messages_sender_at")
        batch_op.drop_index(batch_op.f("ix_room_messages_session_id"))
        batch_op.drop_constraint(
            batch_op.f("fk_room_messages_session_id_room_sessions"), type_="foreignkey"
        )
        batch_op.drop_column("session_id")
    op.drop_index("ix_room_attendance_member_at", table_name="room_attendance")
    op.drop_index(op.f("ix_room_attendance_person_id"), table_name="room_attendance")
    op.drop_table("room_attendance")
    op.drop_table("room_sessions")
