"""a relative's concern note in its own column; audit rows keep who the actor was; no free
text in saved check-in flows

- ``escalation_reasons.detail["note"]`` (already encrypted by the bot) moves to the new column
  ``escalation_reasons.note``, which erasure, export, retention and key rotation reach.
- ``audit_events.actor_role`` / ``actor_alias``: who looked, as they were then.
- A check-in in progress saved its client's warning-sign texts in ``flow_states.context``;
  it now saves only their ids (the texts are read when a question needs them).

Risk events' matched phrases are encrypted from now on; run ``tongban db rotate-key`` once
after upgrading (with TONGBAN_ENCRYPTION_KEYS set) to encrypt the ones stored before.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-05 01:00:00
"""

import json
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


def upgrade() -> None:
    connection = op.get_bind()
    with op.batch_alter_table("escalation_reasons", schema=None) as batch_op:
        batch_op.add_column(sa.Column("note", sa.Text(), nullable=True))
        batch_op.create_index(
            "ix_escalation_reasons_note_at",
            ["at"],
            unique=False,
            postgresql_where=sa.text("note IS NOT NULL"),
            sqlite_where=sa.text("note IS NOT NULL"),
        )
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("actor_role", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("actor_alias", sa.String(length=32), nullable=True))
    reasons = connection.execute(
        sa.text("SELECT id, detail FROM escalation_reasons WHERE source = 'family'")
    ).all()
    for reason_id, raw in reasons:
        detail = dict(_json(raw) or {})
        note = detail.pop("note", None)
        connection.execute(
            sa.text("UPDATE escalation_reasons SET note = :note, detail = :detail WHERE id = :id"),
            {"note": note or None, "detail": json.dumps(detail), "id": reason_id},
        )
    flows = connection.execute(
        sa.text("SELECT person_id, context FROM flow_states WHERE flow = 'checkin'")
    ).all()
    for person_id, raw in flows:
        context = dict(_json(raw) or {})
        context["signs"] = [
            int(sign[0]) if isinstance(sign, list) else int(sign)
            for sign in context.get("signs", [])
        ]
        connection.execute(
            sa.text("UPDATE flow_states SET context = :context WHERE person_id = :id"),
            {"context": json.dumps(context), "id": person_id},
        )


def downgrade() -> None:
    connection = op.get_bind()
    rows = connection.execute(
        sa.text("SELECT id, detail, note FROM escalation_reasons WHERE note IS NOT NULL")
    ).all()
    for reason_id, raw, note in rows:
        detail = {**dict(_json(raw) or {}), "note": note}
        connection.execute(
            sa.text("UPDATE escalation_reasons SET detail = :detail WHERE id = :id"),
            {"detail": json.dumps(detail), "id": reason_id},
        )
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.drop_column("actor_alias")
        batch_op.drop_column("actor_role")
    with op.batch_alter_table("escalation_reasons", schema=None) as batch_op:
        batch_op.drop_index(
            "ix_escalation_reasons_note_at",
            postgresql_where=sa.text("note IS NOT NULL"),
            sqlite_where=sa.text("note IS NOT NULL"),
        )
        batch_op.drop_column("note")
