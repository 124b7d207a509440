"""Running a Hypothesis state machine that talks to a database, on both databases.

Each example starts from a fresh database: on SQLite a copy of the migrated test database,
on PostgreSQL the test database emptied. The machine reads its ``database_url`` class
attribute in ``__init__``.
"""

from __future__ import annotations

import itertools
import shutil
from pathlib import Path

from hypothesis import HealthCheck, settings
from hypothesis.stateful import RuleBasedStateMachine, run_state_machine_as_test

from tests.conftest import _truncate_postgres


def run_on_database(
    machine: type[RuleBasedStateMachine],
    database_url: str,
    tmp_path: Path,
    examples: int,
    steps: int,
) -> None:
    sqlite_file = database_url.split("///", 1)[1] if database_url.startswith("sqlite") else None
    template = tmp_path / "template.db"
    if sqlite_file is not None:
        shutil.copy(sqlite_file, template)
    runs = itertools.count()

    class OnThisDatabase(machine):
        def __init__(self) -> None:
            if sqlite_file is not None:
                fresh = tmp_path / f"run{next(runs)}.db"
                shutil.copy(template, fresh)
                type(self).database_url = f"sqlite+aiosqlite:///{fresh}"
            else:
                _truncate_postgres(database_url)
                type(self).database_url = database_url
            super().__init__()

    run_state_machine_as_test(
        OnThisDatabase,
        settings=settings(
            max_examples=examples,
            stateful_step_count=steps,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
        ),
    )
