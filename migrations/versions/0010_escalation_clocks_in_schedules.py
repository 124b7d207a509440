"""escalation clocks are rows of the schedules table

An unresolved escalation's clock (the claim clock while it is open, the reply clock while a
worker holds it) moves from ``escalations.claim_due_at`` / ``reply_due_at`` to its subject's
``escalation`` row in ``schedules``: one table, one index and one tick for everything that
is due. Downgrading puts the clocks back in the columns.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06 02:00:00
"""

import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import sqlalchemy as sa
from alembic import op
from alembic.operations import BatchOperations

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

HELD = "('claimed', 'active')"


@contextmanager
def _escalations_batch() -> Iterator[BatchOperations]:
    """The escalations table in batch mode (SQLite copies it). SQLite reflects the people
    table it refers to, whose index on lower(alias) it cannot read; that index is not
    touched here, so the warning about it is silenced."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", ".*expression-based index")
        with op.batch_alter_table(
            "escalations", schema=None, table_kwargs={"sqlite_autoincrement": True}
        ) as batch_op:
            yield batch_op


def upgrade() -> None:
    op.execute(
        "INSERT INTO schedules (person_id, kind, due_at)"
        " SELECT subject_id, 'escalation',"
        f" CASE WHEN state = 'open' THEN claim_due_at ELSE reply_due_at END"
        " FROM escalations WHERE resolved_at IS NULL AND"
        f" ((state = 'open' AND claim_due_at IS NOT NULL)"
        f" OR (state IN {HELD} AND reply_due_at IS NOT NULL))"
    )
    with _escalations_batch() as batch_op:
        batch_op.drop_index(batch_op.f("ix_escalations_reply_due_at"))
        batch_op.drop_index(batch_op.f("ix_escalations_claim_due_at"))
        batch_op.drop_column("reply_due_at")
        batch_op.drop_column("claim_due_at")


def downgrade() -> None:
    with _escalations_batch() as batch_op:
        batch_op.add_column(sa.Column("claim_due_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("reply_due_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_escalations_claim_due_at"), ["claim_due_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_escalations_reply_due_at"), ["reply_due_at"], unique=False
        )
    for column, states in (("claim_due_at", "('open')"), ("reply_due_at", HELD)):
        op.execute(
            f"UPDATE escalations SET {column} = (SELECT due_at FROM schedules"
            " WHERE schedules.person_id = escalations.subject_id"
            " AND schedules.kind = 'escalation')"
            f" WHERE resolved_at IS NULL AND state IN {states}"
        )
    op.execute("DELETE FROM schedules WHERE kind = 'escalation'")
