"""Crisis language gets the crisis reply first, in every state, in every language, even with the database down."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from bot.cli import main
from bot.storage.models import Escalation, Person, RiskEvent
from flows import crisis
from flows.roles import Role
from flows.text import Lines, Localised, Msg
from tests.harness import Harness, Reply

CRISIS = {
    "en": "i want to kill myself tonight",
    "zh_Hans": "我不想活了，想自杀",
    "zh_Hant": "我真的想死，不想活了",
}
INTRO = {
    "en": "I'm a bot, so I can't help in an emergency",
    "zh_Hans": "我是机器人，紧急情况下帮不上忙",
    "zh_Hant": "我是機器人，緊急時刻幫不上忙",
}
CODES = {"en": "en-US", "zh_Hans": "zh-CN", "zh_Hant": "zh-TW"}


def _first_message(replies: list[Reply]) -> str:
    messages = [r for r in replies if r.method == "sendMessage"]
    assert messages, "the bot sent nothing"
    return messages[0].text


@pytest.mark.parametrize("locale", ["en", "zh_Hans", "zh_Hant"])
async def test_crisis_reply_comes_first_in_every_state(harness: Harness, locale: str) -> None:
    # during onboarding (at the consent question)
    newcomer = harness.person(CODES[locale])
    await newcomer.send(f"/start {await harness.invite(Role.CLIENT)}")
    assert INTRO[locale] in _first_message(await newcomer.send(CRISIS[locale]))

    # Each state with a client of its own: crisis language again while their chat waits
    # for a worker gets a short line instead (transcripts/crisis_while_waiting_*.txt).
    client = await harness.onboard(Role.CLIENT, CODES[locale])
    # idle
    assert INTRO[locale] in _first_message(await client.send(CRISIS[locale]))
    # in the middle of a check-in, typed where a button is expected: the check-in pauses
    client = await harness.onboard(Role.CLIENT, CODES[locale])
    await client.send("/checkin")
    replies = await client.send(CRISIS[locale])
    assert INTRO[locale] in _first_message(replies)
    assert any("/checkin" in r.text for r in replies), "the check-in is paused"
    # in the settings flow
    client = await harness.onboard(Role.CLIENT, CODES[locale])
    await client.send("/settings")
    assert INTRO[locale] in _first_message(await client.send(CRISIS[locale]))
    # in an edited message and a photo caption
    client = await harness.onboard(Role.CLIENT, CODES[locale])
    assert INTRO[locale] in _first_message(await client.edit(CRISIS[locale]))

    family = await harness.onboard(Role.FAMILY, CODES[locale])
    assert INTRO[locale] in _first_message(await family.send(CRISIS[locale]))


async def test_crisis_in_a_relay_reaches_the_worker_too(harness: Harness) -> None:
    client = await harness.onboard(Role.CLIENT)
    lin = await harness.onboard(Role.PEER_WORKER, "en", "Lin")
    await client.send("/talk")
    await lin.press("Claim")
    before = len(harness.api.calls)
    await client.send("honestly i want to end my life")
    sent = [c for c in harness.api.calls[before:] if c.method == "sendMessage"]
    assert (int(sent[0].params["chat_id"]), sent[0].params["text"]) == (
        client.user_id,
        "Lin has been alerted. If you are in danger now, call 120 Ambulance / 110 Police.",
    ), "a short line first: a person is already with them"
    to_lin = [c.params["text"] for c in sent if int(c.params["chat_id"]) == lin.user_id]
    assert any("new reason — crisis language" in t for t in to_lin)
    assert any("honestly i want to end my life" in t for t in to_lin), "the message is relayed too"
    async with harness.db.sessions() as session:
        tier = await session.scalar(select(Escalation.tier))
    assert tier == "urgent"


async def test_numbers_follow_the_persons_region_and_their_safety_plan(harness: Harness) -> None:
    client = await harness.onboard(Role.CLIENT, "zh-HK")
    await client.does("/settings", "[地區]", "[香港]")
    await client.does("/safetyplan", "[修改其中一項]", "[4. 我可以求助的人]", "姐姐 9123 4567")
    text = _first_message(await client.send("我想死"))
    assert "18111" in text and "999" in text
    assert "你的安全計畫寫著，你可以聯絡：姐姐 9123 4567" in text
    assert "12356" not in text


async def test_strangers_get_the_crisis_reply_and_nothing_is_stored(harness: Harness) -> None:
    stranger = harness.person("en-GB")
    replies = await stranger.send("i want to die")
    text = _first_message(replies)
    assert "116 123" in text, "UK numbers from the language code"
    async with harness.db.sessions() as session:
        assert (await session.scalars(select(Person))).all() == []
        assert (await session.scalars(select(RiskEvent))).all() == []


async def test_crisis_reply_goes_out_with_the_database_down(harness: Harness) -> None:
    client = await harness.onboard(Role.CLIENT, "zh-TW")
    async with harness.database_down():
        replies = await client.send("我想自殺")
    text = _first_message(replies)
    assert "1925" in text, "Taiwan's line from the language code when nothing can be read"
    assert len([r for r in replies if r.method == "sendMessage"]) == 1, "no apology piled on top"


@pytest.mark.parametrize(
    "text",
    [
        "i want to k\u200bill myself",
        "ｉ　ｗａｎｔ　ｔｏ　ｋｉｌｌ　ｍｙｓｅｌｆ",
        "k i l l myself",
        "我想自\u200d殺",
        "想 死 了 不想活",
    ],
)
async def test_evasion_is_caught(harness: Harness, text: str) -> None:
    client = await harness.onboard(Role.CLIENT)
    assert "I'm a bot" in _first_message(await client.send(text))


@pytest.mark.parametrize(
    "text", ["this homework is killing me", "lol i'm dead tired", "笑死我了", "累死了", "想死你了"]
)
async def test_hyperbole_is_not_flagged(harness: Harness, text: str) -> None:
    client = await harness.onboard(Role.CLIENT)
    replies = await client.send(text)
    assert "I'm a bot, so I can't help" not in "\n".join(r.text for r in replies)
    async with harness.db.sessions() as session:
        assert (await session.scalars(select(RiskEvent))).all() == []


async def test_concern_asks_directly_and_is_recorded(harness: Harness) -> None:
    client = await harness.onboard(Role.CLIENT)
    replies = await client.send("nothing matters anymore, there's no point in anything")
    texts = [r.text for r in replies if r.method == "sendMessage"]
    assert not any("I'm a bot, so I can't help" in t for t in texts)
    asked = [r for r in replies if "are you having thoughts of ending your life?" in r.text]
    assert asked and asked[0].buttons == ["Yes", "Not sure", "No"]
    async with harness.db.sessions() as session:
        levels = (await session.scalars(select(RiskEvent.level))).all()
        escalations = (await session.scalars(select(Escalation))).all()
    assert list(levels) == ["concern"]
    assert escalations == [], "concern alone does not open an escalation"


async def test_denied_or_past_crisis_words_get_an_offer_not_the_question(
    harness: Harness,
) -> None:
    """They have answered the question already ("I used to…, not anymore"): a person is
    offered, and the bot does not ask about suicide again."""
    client = await harness.onboard(Role.CLIENT)
    replies = await client.send("i used to want to kill myself but not anymore")
    assert [(r.text, r.buttons) for r in replies if r.method == "sendMessage"] == [
        (
            "It sounds like things are hard right now. Would you like to talk to someone? "
            "A peer worker can join this chat.",
            ["🙋 Talk to a person now"],
        )
    ]
    async with harness.db.sessions() as session:
        levels = (await session.scalars(select(RiskEvent.level))).all()
    assert list(levels) == ["concern"]


def test_risk_check_command(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["risk-check", "--text", "kms", "--text", "饿死了"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith('{"level": "crisis"')
    assert lines[1] == '{"level": "none", "categories": [], "matched": [], "layers": []}'


def test_the_after_hours_note_is_read_in_each_readers_language() -> None:
    """Nobody on duty: when the team is back is said in the reader's language when the program
    writes it in each (crisis_nobody_on_duty_*), and one text is shown to everyone when the
    program writes only one; a note missing a language is refused at start, naming it."""
    from bot.config import ConfigError, load_settings
    from tests.harness import TEST_TOKEN

    one = load_settings(telegram_bot_token=TEST_TOKEN, after_hours_note="周一至周五 9:00–17:00")
    note = one.after_hours()
    assert note is not None
    assert [note.get(locale) for locale in CODES] == ["周一至周五 9:00–17:00"] * 3
    assert load_settings(telegram_bot_token=TEST_TOKEN, after_hours_note=" ").after_hours() is None
    with pytest.raises(ConfigError, match=r"TONGBAN_AFTER_HOURS_NOTE: .*has no text in zh_Hant"):
        load_settings(
            telegram_bot_token=TEST_TOKEN,
            after_hours_note='{"en": "Weekdays 9-5", "zh_Hans": "工作日 9:00–17:00"}',
        )


def _ids(facts: crisis.CrisisFacts) -> list[str | None] | None:
    """The message ids of the crisis reply's lines (None for a line of data), or None."""
    reply = crisis.first_reply(facts)
    if reply is None:
        return None
    parts = reply[0].parts if isinstance(reply[0], Lines) else (reply[0],)
    return [part.id if isinstance(part, Msg) else None for part in parts]


def test_a_waiting_chat_gets_the_whole_reply_once_then_a_short_line() -> None:
    """While a chat waits for a worker: the whole reply when they have not had it since it
    opened (a chat asked for with /talk, then crisis words), else one short line at most once
    in ten minutes; when nobody is on duty the short line says so, and when they are back."""
    opened = datetime(2026, 12, 1, 21, 0, tzinfo=UTC)
    facts = crisis.CrisisFacts(
        crisis.Audience.AT_RISK,
        "en",
        crisis.Numbers(None),
        help=crisis.Help.ASKING,
        waiting_since=opened,
        now=opened + timedelta(minutes=5),
    )
    # asked with /talk before any crisis words (or crisis words before it opened)
    assert (_ids(facts) or [])[0] == "crisis.intro"
    earlier = replace(facts, last_alert=opened - timedelta(hours=2))
    assert (_ids(earlier) or [])[0] == "crisis.intro"
    # had the whole reply in this wait: nothing for ten minutes, then the short line
    told = replace(facts, last_alert=opened)
    assert _ids(told) is None
    later = replace(told, now=opened + timedelta(minutes=10))
    assert _ids(later) == ["crisis.worker_being_alerted"]
    note = Localised.of({"en": "Weekdays 9-5"})
    nobody = replace(later, help=crisis.Help.NOBODY_ON_DUTY, after_hours_note=note)
    assert _ids(nobody) == ["crisis.nobody_on_duty_again", None]
    assert _ids(replace(nobody, after_hours_note=None)) == ["crisis.nobody_on_duty_again"]
    # the database could not be read: the whole reply, promising nothing
    assert (_ids(replace(later, help=crisis.Help.UNKNOWN)) or [])[0] == "crisis.intro"
