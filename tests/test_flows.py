"""Flows as pure functions: an event and saved state in, effects out. No database, no Telegram."""

from __future__ import annotations

import ast
from datetime import time
from pathlib import Path

import pytest

from bot.i18n import Translator
from flows.conversation import FLOWS, handle, start_flow
from flows.effects import FlowSnapshot, ForgetPerson, RefreshCommands, Say, ShowAnswer, UpdatePerson
from flows.people import Event, PersonView, Rules
from flows.roles import Role

RULES = Rules()


def person(role: Role = Role.CLIENT, **kw: object) -> PersonView:
    return PersonView(1, role, "en", "Asia/Shanghai", **kw)  # type: ignore[arg-type]


def run(events: list[Event], who: PersonView) -> tuple[FlowSnapshot, list[object]]:
    outcome = start_flow("onboarding", who, Event("start"), RULES)
    effects: list[object] = list(outcome.effects)
    for event in events:
        outcome = handle(event, who, outcome.snapshot, RULES)
        effects.extend(outcome.effects)
    return outcome.snapshot, effects


def test_flows_import_neither_telegram_nor_sqlalchemy() -> None:
    for path in Path("flows").rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = (
                [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else []
            )
            for name in names:
                assert not name.startswith(("telegram", "sqlalchemy", "aiohttp", "asyncio")), (
                    f"{path} imports {name}"
                )


def test_one_machine_per_flow_shared_by_everyone() -> None:
    machines = {name: flow.model_class.machine for name, flow in FLOWS.items()}
    who = person()
    for _ in range(50):
        run([Event("choice", "consent:yes")], who)
    assert {name: flow.model_class.machine for name, flow in FLOWS.items()} == machines
    assert all(not machine.models for machine in machines.values()), (
        "models are removed after each event"
    )


def test_client_path_and_effects() -> None:
    snapshot, effects = run(
        [
            Event("choice", "consent:yes"),
            Event("choice", "lang:zh_Hans"),
            Event("choice", "region:CN"),
            Event("choice", "tz:Asia/Shanghai"),
            Event("text", "8:15"),
        ],
        person(),
    )
    assert snapshot.idle
    updates = [e for e in effects if isinstance(e, UpdatePerson)]
    assert updates[0].consented
    assert [u.locale for u in updates if u.locale] == ["zh_Hans"]
    assert [u.checkin_time for u in updates if u.checkin_time] == [time(8, 15)]
    assert any(u.onboarded for u in updates)
    assert any(isinstance(e, RefreshCommands) for e in effects)
    assert sum(isinstance(e, ShowAnswer) for e in effects) == 4, (
        "each tapped answer is shown in place"
    )


@pytest.mark.parametrize(
    ("role", "states"),
    [
        (Role.CLIENT, ["language", "region", "timezone", "checkin_time"]),
        (Role.FAMILY, ["language", "region", "timezone"]),
        (Role.PEER_WORKER, ["language", "timezone", "alias", "duty"]),
        (Role.SUPERVISOR, ["language", "timezone", "alias", "duty"]),
        (Role.ADMIN, ["language", "timezone"]),
    ],
)
def test_each_role_is_asked_what_it_needs(role: Role, states: list[str]) -> None:
    who = person(role)
    answers = {
        "consent": Event("choice", "consent:yes"),
        "language": Event("choice", "lang:en"),
        "region": Event("choice", "region:GB"),
        "timezone": Event("text", "Europe/London"),
        "checkin_time": Event("choice", "time:09:00"),
        "alias": Event("text", "Sam"),
        "duty": Event("choice", "duty:on"),
    }
    snapshot = start_flow("onboarding", who, Event("start"), RULES).snapshot
    visited = []
    while not snapshot.idle:
        assert snapshot.state is not None
        if snapshot.state != "consent":
            visited.append(snapshot.state)
        snapshot = handle(answers[snapshot.state], who, snapshot, RULES).snapshot
    assert visited == states


def test_declining_forgets_the_person() -> None:
    snapshot, effects = run([Event("choice", "consent:no")], person())
    assert snapshot.idle
    assert any(isinstance(e, ForgetPerson) for e in effects)
    assert not any(isinstance(e, UpdatePerson) for e in effects)


def test_invalid_answers_keep_the_state_and_ask_again() -> None:
    who = person()
    snapshot = start_flow("onboarding", who, Event("start"), RULES).snapshot
    outcome = handle(Event("text", "yes please"), who, snapshot, RULES)
    assert outcome.snapshot == snapshot
    assert isinstance(outcome.effects[0], Say) and outcome.effects[0].choices


def test_quiet_hours_refuse_checkin_times() -> None:
    rules = Rules(quiet_start=time(22), quiet_end=time(8))
    assert (
        rules.is_quiet(time(23, 30)) and rules.is_quiet(time(7, 59)) and not rules.is_quiet(time(8))
    )
    day_quiet = Rules(quiet_start=time(13), quiet_end=time(14))
    assert day_quiet.is_quiet(time(13, 30)) and not day_quiet.is_quiet(time(15))


def test_pause_and_resume_are_for_clients_and_family_only() -> None:
    outcome = handle(Event("command", "pause"), person(onboarded=True), FlowSnapshot(), RULES)
    assert UpdatePerson(paused=True) in outcome.effects
    outcome = handle(
        Event("command", "pause"), person(Role.PEER_WORKER, onboarded=True), FlowSnapshot(), RULES
    )
    assert not any(isinstance(e, UpdatePerson) for e in outcome.effects)


@pytest.mark.parametrize(
    ("days", "locale", "shown"),
    [
        ("1,4", "en", "Tuesday and Friday"),
        ("2,6", "en", "Wednesday, Sunday"),
        ("2,6", "zh_Hans", "周三、周日"),
        ("0,5", "zh_Hant", "週一、週六"),
    ],
)
def test_settings_show_the_lesson_days_a_program_set(days: str, locale: str, shown: str) -> None:
    """A program's own lesson days (TONGBAN_LESSON_DAYS) are shown as they are, not as the
    first of the choices the menu offers."""
    relative = PersonView(1, Role.FAMILY, locale, "Asia/Shanghai", lesson_days=days)
    outcome = start_flow("settings", relative, Event("command", "settings"), RULES)
    said = [e for e in outcome.effects if isinstance(e, Say)]
    text = Translator().render(said[0].text, locale)
    assert shown in text
    others = {"Tuesday and Friday", "周二和周五", "週二和週五"} - {shown}
    assert not any(other in text for other in others)
