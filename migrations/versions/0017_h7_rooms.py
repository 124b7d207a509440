"""group rooms: rooms, their members, the order of their messages and where copies landed

Revision ID: h7_0016_rooms
Revises: h8_0016_training
Create Date: 2026-12-06 12:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "h7_0016_rooms"
down_revision: str | None = "h8_0016_training"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

WHEN = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "rooms",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=120), nullable=False),
        sa.Column("activity_id", sa.Integer(), nullable=True),
        sa.Column("weekday", sa.SmallInteger(), nullable=True),
        sa.Column("opens", sa.Time(), nullable=True),
        sa.Column("minutes", sa.Integer(), nullable=False),
        sa.Column("zone", sa.String(length=64), nullable=False),
        sa.Column("last_seq", sa.Integer(), nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("closed_at", WHEN, nullable=True),
        sa.ForeignKeyConstraint(
            ["activity_id"],
            ["activities.id"],
            name=op.f("fk_rooms_activity_id_activities"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rooms")),
        sqlite_autoincrement=True,
    )
    op.create_index(op.f("ix_rooms_activity_id"), "rooms", ["activity_id"])
    op.create_table(
        "room_members",
        sa.Column("room_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("alias", sa.String(length=24), nullable=True),
        sa.Column("leader", sa.Boolean(), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("rules_at", WHEN, nullable=True),
        sa.Column("muted", sa.Boolean(), nullable=False),
        sa.Column("invited_at", WHEN, nullable=False),
        sa.Column("invite_sent", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["people.id"],
            name=op.f("fk_room_members_person_id_people"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["room_id"],
            ["rooms.id"],
            name=op.f("fk_room_members_room_id_rooms"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("room_id", "person_id", name=op.f("pk_room_members")),
        sa.UniqueConstraint("room_id", "alias", name=op.f("uq_room_members_room_id_alias")),
    )
    op.create_index(op.f("ix_room_members_person_id"), "room_members", ["person_id"])
    op.create_index(
        "ix_room_members_unsent",
        "room_members",
        ["invited_at"],
        postgresql_where=sa.text("invite_sent = false"),
        sqlite_where=sa.text("invite_sent = false"),
    )
    op.create_table(
        "room_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("room_id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("sender_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("at", WHEN, nullable=False),
        sa.Column("removed_at", WHEN, nullable=True),
        sa.ForeignKeyConstraint(
            ["room_id"],
            ["rooms.id"],
            name=op.f("fk_room_messages_room_id_rooms"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["sender_id"],
            ["people.id"],
            name=op.f("fk_room_messages_sender_id_people"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_room_messages")),
        sa.UniqueConstraint("room_id", "seq", name=op.f("uq_room_messages_room_id_seq")),
        sqlite_autoincrement=True,
    )
    op.create_table(
        "room_copies",
        sa.Column("chat_id", sa.BigInteger(), nullable=False),
        sa.Column("message_id", sa.BigInteger(), nullable=False),
        sa.Column("room_message_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["people.id"],
            name=op.f("fk_room_copies_person_id_people"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["room_message_id"],
            ["room_messages.id"],
            name=op.f("fk_room_copies_room_message_id_room_messages"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("chat_id", "message_id", name=op.f("pk_room_copies")),
    )
    op.create_index(op.f("ix_room_copies_room_message_id"), "room_copies", ["room_message_id"])
    op.create_index(op.f("ix_room_copies_person_id"), "room_copies", ["person_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_room_copies_person_id"), table_name="room_copies")
    op.drop_index(op.f("ix_room_copies_room_message_id"), table_name="room_copies")
    op.drop_table("room_copies")
    op.drop_table("room_messages")
    op.drop_index("ix_room_members_unsent", table_name="room_members")
    op.drop_index(op.f("ix_room_members_person_id"), table_name="room_members")
    op.drop_table("room_members")
    op.drop_index(op.f("ix_rooms_activity_id"), table_name="rooms")
    op.drop_table("rooms")
