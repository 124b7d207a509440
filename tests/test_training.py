"""The peer workers' training course: delivered by the family lessons' flow, recorded apart
from the family course (a report never counts a worker as a relative), shown in /team."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from sqlalchemy import select

from bot.i18n import Translator
from bot.storage.models import CourseFeedback, LessonProgress, TrainingProgress
from flows.effects import FlowSnapshot, LessonProgressed, Say
from flows.escalation import CaseRules, Party
from flows.lessons.training import LESSONS
from flows.roles import Role
from flows.supervision import Duty, Member, TeamFacts, decide, parse
from tests.harness import Harness, texts

LOCALES = ("en", "zh_Hans", "zh_Hant")


@pytest.mark.parametrize("locale", LOCALES)
def test_every_card_fits_one_chat_message(locale: str) -> None:
    """Chat-sized: a card at most 600 characters (after the crisis numbers are filled in,
    a card is still one message), the summary one line."""
    path = Path("locales") / locale / "LC_MESSAGES" / "training.po"
    with path.open("rb") as handle:
        catalog = read_po(handle)
    for lesson in LESSONS:
        for card in lesson.cards:
            text = str(catalog[card].string)
            assert text and len(text) <= 600, (locale, card, len(text))
        assert len(str(catalog[lesson.summary].string)) <= 120


def test_the_right_answers_are_not_always_in_the_same_place() -> None:
    assert {lesson.correct for lesson in LESSONS} == {0, 1, 2}


def test_team_shows_how_far_each_member_is_in_the_training() -> None:
    now = datetime(2026, 12, 1, 20, tzinfo=UTC)

    def member(alias: str, trained: int) -> Member:
        return Member(Party(len(alias), alias, "en"), True, Duty(now, now), 0, 0, trained)

    request = parse("team", "", False)
    assert not isinstance(request, tuple)
    members = (member("Lin", 5), member("Bo", 0), member("Jo", 2))
    [say] = decide(request, TeamFacts(Party(9, "Mei", "en"), members=members), CaseRules(), now)
    assert isinstance(say, Say)
    lines = Translator().render(say.text, "en").splitlines()
    assert [line.rsplit(" · ", 1)[1] for line in lines[1:]] == [
        "training ✅",
        "training 0/5",
        "training 2/5",
    ]


async def test_a_worker_s_lessons_are_recorded_as_training_not_as_the_family_course(
    harness: Harness,
) -> None:
    now = datetime(2026, 12, 1, 20, tzinfo=UTC)
    harness.set_now(now)
    worker = await harness.onboard(Role.PEER_WORKER)
    worker_id = await harness.person_id(worker)
    said = ""
    for action in ("/training role", *3 * ["[Next ›]"], "[A]", "[Next ›]", "[✅ Done]"):
        said += texts(await worker.does(action))
    assert "Not quite." in said and "The answer is B." in said
    assert "/training shows the course" in said
    async with harness.db.sessions() as session:
        rows = (await session.scalars(select(TrainingProgress))).all()
        family = (await session.scalars(select(LessonProgress))).all()
    assert [(r.person_id, r.lesson, r.completed_at, r.answered_correctly) for r in rows] == [
        (worker_id, "role", now, False)
    ]
    assert family == []


async def test_the_last_lesson_ends_the_course_once(harness: Harness) -> None:
    now = datetime(2026, 12, 1, 20, tzinfo=UTC)
    harness.set_now(now)
    worker = await harness.onboard(Role.PEER_WORKER)
    worker_id = await harness.person_id(worker)
    async with harness.db.sessions() as session, session.begin():
        for lesson in LESSONS[:-1]:
            session.add(
                TrainingProgress(
                    person_id=worker_id, lesson=lesson.slug, started_at=now, completed_at=now
                )
            )
    steps = ("/training self_care", *3 * ["[Next ›]"], "[B]", "[Next ›]", "[✅ Done]")
    said = ""
    for action in steps:
        said += texts(await worker.does(action))
    assert "you have finished the training course" in said
    assert "how useful was the course for you?" in said
    assert "improve the training" in texts(await worker.press("Very useful"))
    async with harness.db.sessions() as session:
        answers = (
            await session.execute(select(CourseFeedback.course, CourseFeedback.useful))
        ).all()
    assert [tuple(a) for a in answers] == [("training", "very")]
    again = texts(await worker.does(*steps))
    assert "you have finished the training course" not in again, "the end comes once"
    assert "/training shows the course" in again


@pytest.mark.parametrize(
    ("role", "answer"), [(Role.PEER_WORKER, "/course very"), (Role.FAMILY, "/course training very")]
)
async def test_each_course_s_question_is_answered_only_by_its_readers(
    harness: Harness, role: Role, answer: str
) -> None:
    """A worker's answer never counts as a relative's about the family course, nor the other
    way round (a typed command, since the buttons only reach the course's readers)."""
    person = await harness.onboard(role)
    await person.send(answer)
    async with harness.db.sessions() as session:
        assert (await session.scalars(select(CourseFeedback))).all() == []


async def test_only_staff_take_the_training(harness: Harness) -> None:
    relative = await harness.onboard(Role.FAMILY)
    assert "Training for peer workers" not in texts(await relative.send("/training"))


def test_the_progress_effect_names_its_course() -> None:
    assert LessonProgressed("role", course="training").course == "training"
    assert LessonProgressed("feelings").course == "family"


@pytest.mark.parametrize(
    ("done", "ends"),
    [
        (["role", "bot", "crisis", "voices"], True),
        (["role", "bot", "crisis", "voices", "self_care"], False),  # read again: no second end
        (["role", "bot", "crisis", "gone_lesson"], False),  # a lesson still missing
    ],
)
def test_the_course_ends_when_its_last_missing_lesson_is_finished(
    done: list[str], ends: bool
) -> None:
    """Played on the core alone: the end (and its question) comes exactly when this lesson
    completes the course, whatever else the worker's record holds."""
    from flows.conversation import handle
    from flows.people import Event, PersonView, Rules

    worker = PersonView(1, Role.PEER_WORKER, "en", "UTC", onboarded=True)
    outcome = handle(
        Event(
            "command",
            "training",
            argument="self_care",
            data={"training": dict.fromkeys(done, "done")},
        ),
        worker,
        FlowSnapshot(),
        Rules(),
    )
    effects = list(outcome.effects)
    for value in [*["les:next"] * 3, "les:opt:1", "les:next", "les:next"]:
        outcome = handle(Event("choice", value), worker, outcome.snapshot, Rules())
        effects += outcome.effects
    said = [Translator().render(e.text, "en") for e in effects if isinstance(e, Say)]
    assert any("finished the training course" in s for s in said) is ends
    assert any("how useful was the course" in s for s in said) is ends
