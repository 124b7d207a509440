"""escalation subjects, append-only notes, queued messages, ids never reused

- ``escalations.client_id`` becomes ``subject_id``: a relative who needs support is held
  like a client. Every escalation gets a random ``ref`` that its buttons carry.
- ``escalations.note`` (overwritten at every /note and at closing) becomes rows in
  ``escalation_notes``, one per note, with the author's alias.
- ``queued_messages``: what a person writes while waiting for a peer worker, and what a
  worker writes before saying whom it is for.
- SQLite: ``people`` and ``escalations`` get AUTOINCREMENT, so an id is never given twice
  (a stale card or audit entry can never point at someone new).
- Aliases are unique ignoring case. Relatives get an alias. Aliases that clashed ignoring
  case ("Lin" and "LIN") keep the oldest; later ones get a number ("LIN2"), recorded as an
  ``alias_renamed`` audit event that ``tongban users list`` shows.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04 23:30:00
"""

import secrets
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_LETTERS = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"


def _random(length: int, letters: str = _LETTERS) -> str:
    return "".join(secrets.choice(letters) for _ in range(length))


def upgrade() -> None:
    connection = op.get_bind()

    op.create_table(
        "escalation_notes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("escalation_id", sa.Integer(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=True),
        sa.Column("author_alias", sa.String(length=32), nullable=True),
        sa.Column("closing", sa.Boolean(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["author_id"],
            ["people.id"],
            name=op.f("fk_escalation_notes_author_id_people"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["escalation_id"],
            ["escalations.id"],
            name=op.f("fk_escalation_notes_escalation_id_escalations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_escalation_notes")),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("escalation_notes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_escalation_notes_at"), ["at"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_escalation_notes_escalation_id"), ["escalation_id"], unique=False
        )
    # Existing notes: one row each, as the closing note of their escalation (the text was
    # all the /note entries and the closing note joined; their authors were not kept).
    connection.execute(
        sa.text(
            "INSERT INTO escalation_notes (escalation_id, author_id, author_alias, closing, text, at) "
            "SELECT id, claimed_by, NULL, :closing, note, COALESCE(resolved_at, opened_at) "
            "FROM escalations WHERE note IS NOT NULL"
        ),
        {"closing": True},
    )

    op.create_table(
        "queued_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sender_id", sa.Integer(), nullable=False),
        sa.Column("escalation_id", sa.Integer(), nullable=True),
        sa.Column("purpose", sa.String(length=12), nullable=False),
        sa.Column("message_id", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("text", sa.Text(), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["escalation_id"],
            ["escalations.id"],
            name=op.f("fk_queued_messages_escalation_id_escalations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["sender_id"],
            ["people.id"],
            name=op.f("fk_queued_messages_sender_id_people"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_queued_messages")),
    )
    with op.batch_alter_table("queued_messages", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_queued_messages_at"), ["at"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_queued_messages_escalation_id"), ["escalation_id"], unique=False
        )
        batch_op.create_index(
            "ix_queued_messages_sender", ["sender_id", "message_id"], unique=False
        )

    with op.batch_alter_table("escalations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("ref", sa.String(length=8), nullable=True))
    for (escalation_id,) in connection.execute(sa.text("SELECT id FROM escalations")).all():
        connection.execute(
            sa.text("UPDATE escalations SET ref = :ref WHERE id = :id"),
            {"ref": _random(6), "id": escalation_id},
        )
    with op.batch_alter_table(
        "escalations",
        schema=None,
        recreate="always" if connection.dialect.name == "sqlite" else "auto",
        table_kwargs={"sqlite_autoincrement": True},
    ) as batch_op:
        batch_op.alter_column("ref", existing_type=sa.String(length=8), nullable=False)
        batch_op.drop_index(
            "ix_escalations_note_resolved_at",
            postgresql_where=sa.text("note IS NOT NULL"),
            sqlite_where=sa.text("note IS NOT NULL"),
        )
        batch_op.drop_index(
            "uq_escalations_one_open_per_client",
            postgresql_where=sa.text("resolved_at IS NULL"),
            sqlite_where=sa.text("resolved_at IS NULL"),
        )
        batch_op.drop_column("note")
        batch_op.alter_column("client_id", new_column_name="subject_id", existing_type=sa.Integer())
    with op.batch_alter_table(
        "escalations", schema=None, table_kwargs={"sqlite_autoincrement": True}
    ) as batch_op:
        batch_op.drop_constraint("fk_escalations_client_id_people", type_="foreignkey")
        batch_op.create_foreign_key(
            batch_op.f("fk_escalations_subject_id_people"),
            "people",
            ["subject_id"],
            ["id"],
            ondelete="CASCADE",
        )
        batch_op.create_index(
            "uq_escalations_one_open_per_subject",
            ["subject_id"],
            unique=True,
            postgresql_where=sa.text("resolved_at IS NULL"),
            sqlite_where=sa.text("resolved_at IS NULL"),
        )

    _aliases(connection)
    if connection.dialect.name == "sqlite":
        with op.batch_alter_table(
            "people", schema=None, recreate="always", table_kwargs={"sqlite_autoincrement": True}
        ):
            pass
    op.create_index("uq_people_alias_lower", "people", [sa.text("lower(alias)")], unique=True)


def _aliases(connection: sa.Connection) -> None:
    """Relatives get an alias; aliases equal ignoring case are made distinct (oldest keeps)."""
    rows = connection.execute(sa.text("SELECT id, role, alias FROM people ORDER BY id")).all()
    taken = {str(alias).lower() for _, _, alias in rows if alias}
    seen: set[str] = set()
    for person_id, role, alias in rows:
        new = None
        if alias is None and role == "family":
            new = _random(5)
            while new.lower() in taken:
                new = _random(5)
        elif alias is not None and alias.lower() in seen:
            n = 2
            while f"{alias}{n}".lower() in taken:
                n += 1
            new = f"{alias}{n}"
            connection.execute(
                sa.text(
                    "INSERT INTO audit_events (at, actor_id, action, subject_id) "
                    "VALUES (CURRENT_TIMESTAMP, NULL, 'alias_renamed', :id)"
                ),
                {"id": person_id},
            )
        if alias is not None:
            seen.add(alias.lower())
        if new is not None:
            taken.add(new.lower())
            seen.add(new.lower())
            connection.execute(
                sa.text("UPDATE people SET alias = :alias WHERE id = :id"),
                {"alias": new, "id": person_id},
            )


def downgrade() -> None:
    """Back to 0007. Notes are joined into the old single column (their authors are lost);
    kept messages are dropped."""
    connection = op.get_bind()
    op.drop_index("uq_people_alias_lower", table_name="people")
    with op.batch_alter_table("escalations", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_escalations_one_open_per_subject",
            postgresql_where=sa.text("resolved_at IS NULL"),
            sqlite_where=sa.text("resolved_at IS NULL"),
        )
        batch_op.drop_constraint("fk_escalations_subject_id_people", type_="foreignkey")
        batch_op.alter_column("subject_id", new_column_name="client_id", existing_type=sa.Integer())
        batch_op.add_column(sa.Column("note", sa.Text(), nullable=True))
        batch_op.drop_column("ref")
    with op.batch_alter_table("escalations", schema=None) as batch_op:
        batch_op.create_foreign_key(
            "fk_escalations_client_id_people", "people", ["client_id"], ["id"], ondelete="CASCADE"
        )
        batch_op.create_index(
            "uq_escalations_one_open_per_client",
            ["client_id"],
            unique=True,
            postgresql_where=sa.text("resolved_at IS NULL"),
            sqlite_where=sa.text("resolved_at IS NULL"),
        )
        batch_op.create_index(
            "ix_escalations_note_resolved_at",
            ["resolved_at"],
            unique=False,
            postgresql_where=sa.text("note IS NOT NULL"),
            sqlite_where=sa.text("note IS NOT NULL"),
        )
    notes = connection.execute(
        sa.text("SELECT escalation_id, text FROM escalation_notes ORDER BY escalation_id, id")
    ).all()
    joined: dict[int, list[str]] = {}
    for escalation_id, text in notes:
        joined.setdefault(escalation_id, []).append(text)
    for escalation_id, texts in joined.items():
        connection.execute(
            sa.text("UPDATE escalations SET note = :note WHERE id = :id"),
            {"note": "\n".join(texts), "id": escalation_id},
        )
    op.drop_table("queued_messages")
    op.drop_table("escalation_notes")
