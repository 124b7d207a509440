"""Running a Hypothesis state machine that talks to a database, on both databases.

Each example starts from a fresh database: on SQLite a copy of the migrated test database,
on PostgreSQL the test database emptied. The machine reads its ``database_url`` class
attribute in ``__init__``; ``OnTheBot`` is such a machine driving the whole bot.
"""

from __future__ import annotations

import asyncio
import itertools
import shutil
from collections.abc import Awaitable
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis.stateful import RuleBasedStateMachine, run_state_machine_as_test

from tests.conftest import _truncate_postgres
from tests.harness import Harness


class OnTheBot(RuleBasedStateMachine):
    """A state machine driving the whole bot: a started ``Harness`` on ``database_url``,
    on an event loop of its own (Hypothesis calls rules synchronously)."""

    database_url = ""  # set by ``run_on_database`` for each database

    def __init__(self) -> None:
        super().__init__()
        self.loop = asyncio.new_event_loop()
        self.harness = Harness(self.database_url)
        self.loop.run_until_complete(self.harness.start())

    def teardown(self) -> None:
        self.loop.run_until_complete(self.harness.stop())
        self.loop.close()

    def run(self, coroutine: Awaitable[Any]) -> Any:
        return self.loop.run_until_complete(coroutine)


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
