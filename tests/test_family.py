"""Family members: linked with consent, scoped, revocable; lessons on schedule; concerns."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from bot.storage.models import Escalation, Flag, Person
from flows.roles import Role
from flows.timers import FlagSpan, traffic_light
from tests.harness import NOT_AVAILABLE, Harness, texts
from tests.harness import Person as Chat


async def _link(harness: Harness, client: Chat, summary: bool, alerts: bool) -> str:
    await client.send("/family")
    await client.press("➕ Invite a relative")
    if summary:
        await client.press("Weekly summary: off")
    if alerts:
        await client.press("Support alerts: off")
    replies = await client.press("✅ Create the link")
    found = re.search(r"\?start=([A-Za-z0-9_-]+)", texts(replies))
    assert found, texts(replies)
    return found.group(1)


async def _join(harness: Harness, code: str, language_code: str = "en") -> Chat:
    relative = harness.person(language_code)
    await relative.send(f"/start {code}")
    await relative.press("✅ I agree")
    await relative.press("English")
    await relative.press("Mainland China")
    await relative.press("Beijing / Shanghai")
    return relative


async def _open_crisis(client: Chat) -> None:
    await client.send("i want to die")


def _sent_to(harness: Harness, person: Chat, since: int) -> list[str]:
    return [
        c.params.get("text") or c.params.get("caption") or ""
        for c in harness.api.calls[since:]
        if c.method in ("sendMessage", "sendPhoto") and int(c.params["chat_id"]) == person.user_id
    ]


@pytest.mark.parametrize(
    ("summary", "alerts"), [(False, False), (True, False), (False, True), (True, True)]
)
async def test_every_scope_shows_only_what_the_client_allowed(
    harness: Harness, summary: bool, alerts: bool
) -> None:
    start = datetime(2026, 3, 2, 1, tzinfo=UTC)
    harness.set_now(start)
    client = await harness.onboard(Role.CLIENT)
    relative = await _join(harness, await _link(harness, client, summary, alerts))
    since = len(harness.api.calls)
    # The client checks in with private answers, writes a note, and asks for help.
    await client.send("/checkin")
    for label in (
        "😞 Very low",
        "Much less",
        "Not today",
        "Hearing voices",
        "Done",
        "Very",
        "Not really",
        "A lot",
    ):
        await client.press(label)
    await client.send("my neighbour is spying on me")
    await client.send("/talk")
    # A week passes: the weekly summary goes out.
    harness.set_now(start + timedelta(days=7))
    for hours in range(0, 24 * 7, 6):
        harness.set_now(start + timedelta(hours=hours))
        await harness.tick()
    seen = "\n".join(_sent_to(harness, relative, since))
    for private in ("Very low", "Much less", "voices", "neighbour", "spying", "Hearing"):
        assert private not in seen, f"the relative must never see {private!r}"
    assert ("your relative's week" in seen.lower()) is summary
    assert ("following up with them" in seen) is alerts
    assert "📘" in seen, "lessons always come"


async def test_changing_and_revoking_access_tells_the_relative_politely(harness: Harness) -> None:
    client = await harness.onboard(Role.CLIENT)
    relative = await _join(harness, await _link(harness, client, summary=True, alerts=False))
    await client.send("/family")
    await client.press("✏️ Relative 1")
    since = len(harness.api.calls)
    await client.press("Support alerts: off")
    assert any("has changed what you can see" in t for t in _sent_to(harness, relative, since))
    await client.press("🚫 Remove access")
    since = len(harness.api.calls)
    replies = await client.press("Yes, remove")
    assert "no longer sees anything about you" in texts(replies)
    assert any("chosen to stop sharing" in t for t in _sent_to(harness, relative, since))
    since = len(harness.api.calls)
    await _open_crisis(client)
    assert not any("following up" in t for t in _sent_to(harness, relative, since))


async def test_an_unused_invite_can_be_revoked_and_then_does_not_work(harness: Harness) -> None:
    client = await harness.onboard(Role.CLIENT)
    code = await _link(harness, client, summary=True, alerts=True)
    await client.send("/family")
    assert "invited, not joined yet" in texts(await client.send("/family"))
    await client.press("✏️ Relative 1")
    await client.press("🚫 Remove access")
    await client.press("Yes, remove")
    replies = await harness.person("en").send(f"/start {code}")
    assert "doesn't work any more" in texts(replies)


async def test_family_can_never_reach_client_data(harness: Harness) -> None:
    client = await harness.onboard(Role.CLIENT)
    relative = await _join(harness, await _link(harness, client, summary=True, alerts=True))
    commands = (
        "/history",
        "/checkin",
        "/safetyplan",
        "/warningsigns",
        "/family",
        "/queue",
        "/mine",
    )
    assert await relative.answers(commands) == dict.fromkeys(commands, NOT_AVAILABLE)


async def test_a_concern_from_a_linked_relative_is_about_the_client(harness: Harness) -> None:
    client = await harness.onboard(Role.CLIENT)
    relative = await _join(harness, await _link(harness, client, summary=False, alerts=True))
    lin = await harness.onboard(Role.PEER_WORKER, "en", "Lin")
    replies = await relative.does(
        "/worried", "[Withdrawing from people]", "[Next ›]", "he hasn't left his room for days"
    )
    assert "A peer worker from your relative's team" in texts(replies)
    async with harness.db.sessions() as session:
        esc = await session.scalar(select(Escalation))
        subject = await session.get(Person, esc.subject_id) if esc else None
    assert subject is not None and subject.telegram_user_id == client.user_id
    await lin.press("Claim")
    card = [
        c.params["text"]
        for c in harness.api.calls
        if c.method == "sendMessage"
        and int(c.params["chat_id"]) == lin.user_id
        and "📋" in c.params["text"]
    ][-1]
    assert "concern from family" in card
    assert "Withdrawing from people" in card
    assert "hasn't left his room" in card


async def test_lessons_arrive_on_the_chosen_days_and_resume_after_restart(harness: Harness) -> None:
    start = datetime(2026, 3, 2, 0, tzinfo=UTC)  # Monday
    harness.set_now(start)
    member = await harness.onboard(Role.FAMILY)
    await member.send("/settings")
    await member.press("Lesson days")
    await member.press("Wednesday and Saturday")
    prompts: list[datetime] = []
    for hours in range(0, 24 * 7):
        moment = start + timedelta(hours=hours)
        harness.set_now(moment)
        before = len(harness.api.calls)
        await harness.tick()
        if any("A new lesson for you" in t for t in _sent_to(harness, member, before)):
            prompts.append(moment)
    shanghai = [p.astimezone(__import__("zoneinfo").ZoneInfo("Asia/Shanghai")) for p in prompts]
    assert [(d.strftime("%a"), d.hour) for d in shanghai] == [("Wed", 19), ("Sat", 19)]
    await member.press("▶️ Start")
    await member.press("Next ›")
    await harness.restart()
    replies = await member.press("Next ›")
    assert "(3/4)" in texts(replies), "the lesson goes on where it was"


async def test_practice_follow_up_a_week_later(harness: Harness) -> None:
    start = datetime(2026, 3, 2, 0, tzinfo=UTC)
    harness.set_now(start)
    member = await harness.onboard(Role.FAMILY)
    await member.does("/lesson feelings", *4 * ["[Next ›]"], "[B]", "[Next ›]", "[✅ Done]")
    found = False
    for hours in range(0, 24 * 12, 3):
        harness.set_now(start + timedelta(hours=hours))
        before = len(harness.api.calls)
        await harness.tick()
        if any("Last week's practice task" in t for t in _sent_to(harness, member, before)):
            found = True
            break
    assert found
    question = next(
        m
        for (chat, _), m in harness.api.messages.items()
        if chat == member.user_id and "Last week's practice task" in m.get("text", "")
    )
    await member.press("I tried it", message=question)
    replies = await member.press("A little")
    assert "Thank you for letting us know." in texts(replies)


def test_traffic_light_comes_from_flags_only() -> None:
    """Red while a flag is open, amber for a week after one was raised or cleared, green
    otherwise: a relative sees when, never what (a flag reaches the core as two times)."""
    now = datetime(2026, 3, 2, tzinfo=UTC)
    raised = now - timedelta(days=2)
    assert traffic_light([], now) == "green"
    assert traffic_light([FlagSpan(raised, None)], now) == "red"
    cleared = FlagSpan(raised, now - timedelta(days=1))
    assert traffic_light([cleared], now) == "amber"
    assert traffic_light([cleared], now + timedelta(days=6)) == "amber"
    assert traffic_light([cleared], now + timedelta(days=6, seconds=1)) == "green"
    assert traffic_light([cleared, FlagSpan(now - timedelta(days=30), None)], now) == "red"


async def test_a_relative_who_declines_leaves_the_clients_link_open(harness: Harness) -> None:
    """Declining consent erases only the relative: the client's link can still be used."""
    from bot.storage.models import FamilyLink

    client = await harness.onboard(Role.CLIENT)
    code = await _link(harness, client, summary=True, alerts=True)
    first = harness.person("en")
    await first.send(f"/start {code}")
    await first.press("No, thanks")
    async with harness.db.sessions() as session:
        links = (await session.scalars(select(FamilyLink))).all()
    assert [(link.family_id, link.revoked_at) for link in links] == [(None, None)]
    second = await _join(harness, code)
    async with harness.db.sessions() as session:
        link = await session.scalar(select(FamilyLink))
        joined = await session.scalar(
            select(Person.id).where(Person.telegram_user_id == second.user_id)
        )
    assert link is not None and link.family_id == joined, "the next person is linked"


async def test_a_relatives_concern_note_goes_when_they_erase_their_data(harness: Harness) -> None:
    """Their words are in their own /mydata; after /deleteme no worker sees them."""
    import json

    from bot.storage.models import EscalationReason

    client = await harness.onboard(Role.CLIENT)
    relative = await _join(harness, await _link(harness, client, summary=False, alerts=True))
    lin = await harness.onboard(Role.PEER_WORKER, "en", "Lin")
    await relative.does("/worried", "[Next ›]", "please don't tell him it was me", "/mydata")
    document = [c for c in harness.api.calls if c.method == "sendDocument"][-1]
    raised = json.loads(document.params["document"])["concerns_you_raised"]
    assert [(c["about"], c["your_words"]) for c in raised] == [
        ("your relative", "please don't tell him it was me")
    ]
    await relative.does("/deleteme", "[Yes, delete everything]")
    async with harness.db.sessions() as session:
        reasons = (
            await session.execute(select(EscalationReason.source, EscalationReason.note))
        ).all()
    assert [tuple(r) for r in reasons] == [("family", None)], "the concern stays, their words go"
    replies = await lin.send("/claim 1")
    assert "don't tell him" not in texts(replies)
    assert "concern from family" in texts(replies)


async def test_a_relative_held_in_a_chat_can_erase_their_data(harness: Harness) -> None:
    """Their own concern and request, a worker holding the chat, then /deleteme: everything
    goes (PostgreSQL refused this when the person's rows were reached by two cascades)."""
    from datetime import UTC, datetime

    from bot.storage.models import Escalation

    now = datetime(2026, 12, 1, 13, tzinfo=UTC)
    harness.set_now(now)
    mum, mum_id = await harness.make_person(Role.FAMILY, "MUM7", now)
    lin, _ = await harness.make_person(Role.PEER_WORKER, "Lin", now)
    await mum.does("/worried", "[Next ›]", "[Skip]", "/talk")
    await lin.send("/claim 1")
    replies = await mum.does("/deleteme", "[Yes, delete everything]")
    assert "Everything about you has been deleted" in texts(replies)
    async with harness.db.sessions() as session:
        assert await session.get(Person, mum_id) is None
        assert (await session.scalars(select(Escalation))).all() == []


async def test_a_red_week_gives_the_relative_their_regions_emergency_number(
    harness: Harness,
) -> None:
    start = datetime(2026, 3, 2, 1, tzinfo=UTC)
    harness.set_now(start)
    client = await harness.onboard(Role.CLIENT)
    relative = await _join(harness, await _link(harness, client, summary=True, alerts=False))
    # a second relative, whose summary is due in the same tick, was not given the summary
    brother = await _join(harness, await _link(harness, client, summary=False, alerts=True))
    async with harness.db.transaction() as session:
        row = await session.scalar(select(Person).where(Person.telegram_user_id == client.user_id))
        assert row is not None
        session.add(Flag(person_id=row.id, rule="sleep", evidence=[], summary={}, raised_at=start))
    since = len(harness.api.calls)
    for hours in range(0, 24 * 7, 6):
        harness.set_now(start + timedelta(hours=hours))
        await harness.tick()
    weeks = [t for t in _sent_to(harness, relative, since) if "Your relative's week" in t]
    assert weeks == [
        "🔴 Your relative's week: red. Their check-ins show changes the team is following up. "
        "If you're worried, use /worried; if anyone is in danger, call 120 Ambulance / 110 Police."
    ]
    assert [t for t in _sent_to(harness, brother, since) if "Your relative's week" in t] == []


async def test_the_course_ends_with_where_next_and_a_question_for_the_report(
    harness: Harness,
) -> None:
    from bot.storage.models import CourseFeedback, LessonProgress
    from flows.lessons.course import COURSE

    now = datetime(2026, 3, 2, 12, tzinfo=UTC)
    harness.set_now(now)
    member = await harness.onboard(Role.FAMILY)
    member_id = await harness.person_id(member)
    async with harness.db.sessions() as session, session.begin():
        for lesson in COURSE[:-1]:
            session.add(
                LessonProgress(
                    person_id=member_id, lesson=lesson.slug, started_at=now, completed_at=now
                )
            )
    last = COURSE[-1].slug
    replies = await member.does(
        f"/lesson {last}", *4 * ["[Next ›]"], "[A]", "[Next ›]", "[✅ Done]"
    )
    said = texts(replies)
    assert "that was the last lesson of the course" in said
    assert "You have finished all 14 lessons" in said
    assert "/lessons lets you read any of them again" in said
    assert "how useful was the course for you?" in said
    assert "Next time I'll bring the next one" not in said
    assert "Thank you — that helps" in texts(await member.press("Very useful"))
    async with harness.db.sessions() as session:
        answers = (await session.scalars(select(CourseFeedback.useful))).all()
    assert list(answers) == ["very"]
    again = texts(
        await member.does(f"/lesson {last}", *4 * ["[Next ›]"], "[A]", "[Next ›]", "[✅ Done]")
    )
    assert "You have finished all 14 lessons" not in again, "the end comes once"
