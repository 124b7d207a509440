"""escalations, relay, risk events, safety plans

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22 01:54:01.872099
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table(
        "escalations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("client_id", sa.Integer(), nullable=False),
        sa.Column("tier", sa.String(length=12), nullable=False),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("claim_due_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("claimed_by", sa.Integer(), nullable=True),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reply_due_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reminders", sa.Integer(), nullable=False),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("outcome", sa.String(length=24), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("rating", sa.SmallInteger(), nullable=True),
        sa.ForeignKeyConstraint(
            ["claimed_by"],
            ["people.id"],
            name=op.f("fk_escalations_claimed_by_people"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["client_id"],
            ["people.id"],
            name=op.f("fk_escalations_client_id_people"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_escalations")),
    )
    with op.batch_alter_table("escalations", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_escalations_claim_due_at"), ["claim_due_at"], unique=False
        )
        batch_op.create_index("ix_escalations_claimed_by", ["claimed_by", "state"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_escalations_reply_due_at"), ["reply_due_at"], unique=False
        )
        batch_op.create_index(
            "uq_escalations_one_open_per_client",
            ["client_id"],
            unique=True,
            postgresql_where=sa.text("resolved_at IS NULL"),
            sqlite_where=sa.text("resolved_at IS NULL"),
        )

    op.create_table(
        "risk_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("level", sa.String(length=8), nullable=False),
        sa.Column("categories", sa.JSON(), nullable=False),
        sa.Column("matched", sa.JSON(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["people.id"],
            name=op.f("fk_risk_events_person_id_people"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_risk_events")),
    )
    with op.batch_alter_table("risk_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_risk_events_person_id"), ["person_id"], unique=False)

    op.create_table(
        "safety_plan_items",
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("section", sa.String(length=24), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["people.id"],
            name=op.f("fk_safety_plan_items_person_id_people"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("person_id", "section", name=op.f("pk_safety_plan_items")),
    )
    op.create_table(
        "escalation_cards",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("escalation_id", sa.Integer(), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=False),
        sa.Column("chat_id", sa.BigInteger(), nullable=False),
        sa.Column("message_id", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["escalation_id"],
            ["escalations.id"],
            name=op.f("fk_escalation_cards_escalation_id_escalations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["staff_id"],
            ["people.id"],
            name=op.f("fk_escalation_cards_staff_id_people"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_escalation_cards")),
    )
    with op.batch_alter_table("escalation_cards", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_escalation_cards_escalation_id"), ["escalation_id"], unique=False
        )

    op.create_table(
        "escalation_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("escalation_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["actor_id"],
            ["people.id"],
            name=op.f("fk_escalation_events_actor_id_people"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["escalation_id"],
            ["escalations.id"],
            name=op.f("fk_escalation_events_escalation_id_escalations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_escalation_events")),
    )
    with op.batch_alter_table("escalation_events", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_escalation_events_escalation_id"), ["escalation_id"], unique=False
        )

    op.create_table(
        "escalation_reasons",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("escalation_id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("tier", sa.String(length=12), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.Column("from_person_id", sa.Integer(), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["escalation_id"],
            ["escalations.id"],
            name=op.f("fk_escalation_reasons_escalation_id_escalations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["from_person_id"],
            ["people.id"],
            name=op.f("fk_escalation_reasons_from_person_id_people"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_escalation_reasons")),
    )
    with op.batch_alter_table("escalation_reasons", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_escalation_reasons_escalation_id"), ["escalation_id"], unique=False
        )

    op.create_table(
        "relay_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("escalation_id", sa.Integer(), nullable=False),
        sa.Column("direction", sa.String(length=12), nullable=False),
        sa.Column("worker_chat_id", sa.BigInteger(), nullable=False),
        sa.Column("worker_message_id", sa.BigInteger(), nullable=True),
        sa.Column("client_message_id", sa.BigInteger(), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["escalation_id"],
            ["escalations.id"],
            name=op.f("fk_relay_messages_escalation_id_escalations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_relay_messages")),
    )
    with op.batch_alter_table("relay_messages", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_relay_messages_escalation_id"), ["escalation_id"], unique=False
        )
        batch_op.create_index(
            "ix_relay_worker_message", ["worker_chat_id", "worker_message_id"], unique=False
        )

    with op.batch_alter_table("people", schema=None) as batch_op:
        batch_op.add_column(sa.Column("selected_escalation_id", sa.Integer(), nullable=True))


def downgrade() -> None:

    with op.batch_alter_table("people", schema=None) as batch_op:
        batch_op.drop_column("selected_escalation_id")

    with op.batch_alter_table("relay_messages", schema=None) as batch_op:
        batch_op.drop_index("ix_relay_worker_message")
        batch_op.drop_index(batch_op.f("ix_relay_messages_escalation_id"))

    op.drop_table("relay_messages")
    with op.batch_alter_table("escalation_reasons", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_escalation_reasons_escalation_id"))

    op.drop_table("escalation_reasons")
    with op.batch_alter_table("escalation_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_escalation_events_escalation_id"))

    op.drop_table("escalation_events")
    with op.batch_alter_table("escalation_cards", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_escalation_cards_escalation_id"))

    op.drop_table("escalation_cards")
    op.drop_table("safety_plan_items")
    with op.batch_alter_table("risk_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_risk_events_person_id"))

    op.drop_table("risk_events")
    with op.batch_alter_table("escalations", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_escalations_one_open_per_client",
            postgresql_where=sa.text("resolved_at IS NULL"),
            sqlite_where=sa.text("resolved_at IS NULL"),
        )
        batch_op.drop_index(batch_op.f("ix_escalations_reply_due_at"))
        batch_op.drop_index("ix_escalations_claimed_by")
        batch_op.drop_index(batch_op.f("ix_escalations_claim_due_at"))

    op.drop_table("escalations")
