"""Numbers people can find: the crisis lines table, the layout every reply shares, the region
a language code means, and /sos, /help, the safety plan and the lessons showing them."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.i18n import Translator, region_for_language_code
from bot.safety.crisis import DEFAULT_LINES, LOCALES, CrisisLinesError, load_lines
from bot.storage.models import Escalation, Person
from flows import crisis
from flows.lessons.course import lesson_text
from flows.questions import ELSEWHERE, REGIONS
from flows.roles import Role
from tests.harness import Harness, Reply

TABLE = load_lines()
RAW = json.loads(DEFAULT_LINES.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def translator() -> Translator:
    return Translator()


# -- the region a Telegram language code means --------------------------------------------


@pytest.mark.parametrize(
    ("code", "region"),
    [
        ("zh-SG", "SG"),
        ("zh-sg", "SG"),
        ("zh_SG", "SG"),
        ("zh-Hans-SG", "SG"),
        ("en-SG", "SG"),
        ("zh-MO", "MO"),
        ("zh-mo", "MO"),
        ("zh-Hant-MO", "MO"),
        ("ms", "MY"),
        ("ms-MY", "MY"),
        ("en-MY", "MY"),
        ("zh-MY", "MY"),
        ("zh-hans", "CN"),
        ("zh", "CN"),
        ("zh-CN", "CN"),
        ("zh-hk", "HK"),
        ("zh-HK", "HK"),
        ("zh-TW", "TW"),
        ("zh-hant", None),  # the script, not the place: Taiwan, Hong Kong or Macau
        ("en-US", "US"),
        ("en-GB", "GB"),
        ("en", None),
        ("de", None),
        ("", None),
        (None, None),
    ],
)
def test_region_from_language_code(code: str | None, region: str | None) -> None:
    assert region_for_language_code(code) == region


# -- the table ----------------------------------------------------------------------------


def _regions() -> list[str]:
    return sorted(TABLE)


def test_every_region_offered_has_numbers_and_every_number_region_is_offered() -> None:
    offered = set(REGIONS) - {ELSEWHERE}
    assert offered == set(TABLE), "the regions people choose are the regions in the table"


@pytest.mark.parametrize("code", _regions())
def test_every_region_has_emergency_names_in_three_locales(code: str) -> None:
    names = RAW[code]["emergency_names"]
    assert set(names) == set(LOCALES)
    for locale, name in names.items():
        numbers = re.findall(r"\d+", RAW[code]["emergency"])
        assert all(number in name for number in numbers), (code, locale, name)


@pytest.mark.parametrize("code", _regions())
def test_no_line_name_repeats_its_number(code: str) -> None:
    """ "988 Suicide & Crisis Lifeline (call or text): 988" showed the number twice."""
    for line in TABLE[code].lines:
        digits = re.sub(r"\D", "", line.number)
        for text in (*line.names.values(), *line.note.values()):
            assert line.number not in text, (code, line.number, text)
            assert digits not in re.sub(r"\D", "", text), (code, line.number, text)


HOURS_WORDS = re.compile(r"24\s*(h\b|hours|/7|小时|小時)|hours|時段|时段|全天", re.IGNORECASE)


@pytest.mark.parametrize("code", _regions())
def test_hours_are_said_only_where_given(code: str) -> None:
    """Hours are data of their own ('24h' only where true), never part of a name or note;
    a line whose hours vary is paired with a 24-hour line in the same region."""
    raw_lines = RAW[code]["lines"]
    for raw, line in zip(raw_lines, TABLE[code].lines, strict=True):
        for text in (*line.names.values(), *line.note.values()):
            assert not HOURS_WORDS.search(text), (code, line.number, text)
        assert line.always_open == (raw.get("hours") == "24h")
        if "hours" not in raw:
            assert not line.always_open and not line.hours
    assert any(line.always_open for line in TABLE[code].lines), f"{code} has no 24-hour line"


def test_12356_is_never_called_24_hours(translator: Translator) -> None:
    line = next(line for line in TABLE["CN"].lines if line.number == "12356")
    assert not line.always_open
    for locale in LOCALES:
        text = translator.render(line.text(), locale)
        assert "24" not in text, text
    first_24_hour = next(i for i, line in enumerate(TABLE["CN"].lines) if line.always_open)
    assert first_24_hour < TABLE["CN"].lines.index(line), "a 24-hour line comes first"


@pytest.mark.parametrize(
    ("region", "number", "always_open"),
    [
        ("SG", "1767", True),
        ("SG", "6389 2222", True),
        ("MO", "2852 5222", True),
        ("MY", "03-7627 2929", True),
        ("HK", "2382 0000", True),
        ("CN", "400-161-9995", True),
        ("TW", "1980", False),
    ],
)
def test_the_lines_added_for_section_three(region: str, number: str, always_open: bool) -> None:
    line = next(line for line in TABLE[region].lines if line.number == number)
    assert line.always_open is always_open
    if not always_open:
        assert set(line.hours) == set(LOCALES), "its hours are said, in every language"


def test_emergency_numbers_of_the_new_regions() -> None:
    assert TABLE["SG"].emergency_names["en"] == "995 Ambulance / 999 Police"
    assert TABLE["MO"].emergency_names["zh_Hant"] == "999 緊急電話"
    assert TABLE["MY"].emergency_names["en"] == "999 Emergency"
    assert TABLE["CN"].emergency_names["zh_Hans"] == "120 急救 / 110 报警"


def _write(tmp_path: Path, table: dict[str, object]) -> Path:
    path = tmp_path / "lines.json"
    path.write_text(json.dumps(table, ensure_ascii=False), encoding="utf-8")
    return path


def _entry(**changes: object) -> dict[str, object]:
    entry: dict[str, object] = json.loads(json.dumps(RAW["SG"]))
    entry.update(changes)
    return entry


@pytest.mark.parametrize(
    ("entry", "problem"),
    [
        (_entry(emergency_names={"en": "995"}), "emergency_names"),
        (_entry(emergency_names=None), "emergency_names"),
        (_entry(lines=[{"number": "1767", "name": {"en": "SOS", "zh_Hans": "援人"}}]), "zh_Hant"),
        (
            _entry(lines=[{**RAW["SG"]["lines"][0], "free": "yes"}]),
            "'free' is true, false or left out",
        ),
        (_entry(lines=[{**RAW["SG"]["lines"][0], "hours": "always"}]), "'hours'"),
    ],
)
def test_a_program_table_that_cannot_be_used_is_refused(
    tmp_path: Path, entry: dict[str, object], problem: str
) -> None:
    with pytest.raises(CrisisLinesError, match=re.escape(problem)):
        load_lines(_write(tmp_path, {"SG": entry}))


# -- the layout ---------------------------------------------------------------------------


def test_the_crisis_reply_layout(translator: Translator) -> None:
    facts = crisis.CrisisFacts(
        crisis.Audience.AT_RISK,
        "en",
        crisis.Numbers(TABLE["US"]),
        help=crisis.Help.ASKING,
        helpers="My sister 555 0100",
    )
    reply = crisis.first_reply(facts)
    assert reply is not None
    text, choices = reply
    assert translator.render(text, "en").splitlines() == [
        "I'm really glad you told me. I'm a bot, so I can't help in an emergency — but people "
        "can, right now:",
        "If you are in immediate danger, call now:",
        "📞 911 Emergency",
        "Crisis lines:",
        "📞 988 — Suicide & Crisis Lifeline (call or text, 24 h, free)",
        "Your safety plan says you can reach: My sister 555 0100",
        "I'm also asking a peer worker to contact you as soon as they can. You don't have to "
        "go through this alone.",
    ]
    assert [translator.render(c.label, "en") for c in choices] == ["🙋 Talk to a person now"]


@pytest.mark.parametrize(
    ("locale", "expected"),
    [
        (
            "en",
            [
                "📞 999 Emergency",
                "Crisis lines:",
                "📞 18111 — Mental Health Support Hotline (24 h)",
                "📞 2382 0000 — Suicide Prevention Services (24 h, usual call charges)",
                "📞 2389 2222 — Samaritan Befrienders Hong Kong (24 h, usual call charges)",
                "📞 2896 0000 — The Samaritans Hong Kong (multilingual, 24 h, usual call charges)",
            ],
        ),
        (
            "zh_Hans",
            [
                "📞 999 紧急电话",
                "心理援助热线：",
                "📞 18111 精神健康支援热线（24 小时）",
                "📞 2382 0000 生命热线（24 小时，按正常话费计费）",
                "📞 2389 2222 香港撒玛利亚防止自杀会（24 小时，按正常话费计费）",
                "📞 2896 0000 撒玛利亚会（多种语言，24 小时，按正常话费计费）",
            ],
        ),
        (
            "zh_Hant",
            [
                "📞 999 緊急電話",
                "求助專線：",
                "📞 18111 精神健康支援熱線（24 小時）",
                "📞 2382 0000 生命熱線（24 小時，依一般通話費計費）",
                "📞 2389 2222 香港撒瑪利亞防止自殺會（24 小時，依一般通話費計費）",
                "📞 2896 0000 撒瑪利亞會（多種語言，24 小時，依一般通話費計費）",
            ],
        ),
    ],
)
def test_the_numbers_block_in_each_locale(
    translator: Translator, locale: str, expected: list[str]
) -> None:
    """Emergency number first and labelled; then number, name, hours, cost."""
    block = crisis.block(crisis.Numbers(TABLE["HK"]))
    assert translator.render(block, locale).splitlines() == expected


def test_the_taiwan_line_that_is_not_24_hours_says_its_hours(translator: Translator) -> None:
    text = translator.render(crisis.block(crisis.Numbers(TABLE["TW"])), "zh_Hant")
    assert "📞 1980 張老師專線（白天和晚上，時段請見 1980.org.tw）" in text.splitlines()
    assert text.splitlines()[0] == "📞 119 救護 / 110 報警"


@pytest.mark.parametrize("locale", LOCALES)
def test_somewhere_else_leads_with_the_local_emergency_number(
    translator: Translator, locale: str
) -> None:
    """No short code that works in one country only; no 'I don't know where you are'."""
    facts = crisis.CrisisFacts(crisis.Audience.AT_RISK, locale, crisis.Numbers(None))
    reply = crisis.first_reply(facts)
    assert reply is not None
    lines = translator.render(reply[0], locale).splitlines()
    assert lines[1:3] == [
        translator.text(locale, "crisis.emergency"),
        translator.text(locale, "crisis.call_local_emergency"),
    ]
    assert len(lines) == 3
    assert not re.search(r"\d", "\n".join(lines))


def test_an_unknown_region_says_whose_numbers_these_are(translator: Translator) -> None:
    facts = crisis.CrisisFacts(
        crisis.Audience.AT_RISK, "en", crisis.Numbers(TABLE["CN"], known=False)
    )
    reply = crisis.first_reply(facts)
    assert reply is not None
    text = translator.render(reply[0], "en")
    assert text.splitlines()[-1] == (
        "(I don't know where you are, so these are the numbers for this program's region. "
        "Anywhere else, call your local emergency number.)"
    )


def test_sos_for_staff_has_no_plan_and_no_button(translator: Translator) -> None:
    text, choices = crisis.sos(crisis.Numbers(TABLE["GB"]), crisis.Audience.STAFF)
    assert translator.render(text, "en").splitlines() == [
        "🆘 Where to get help",
        "If anyone is in immediate danger, call now:",
        "📞 999 / 112 Emergency",
        "Crisis lines:",
        "📞 116 123 — Samaritans (24 h, free)",
    ]
    assert choices == ()


# -- the lessons --------------------------------------------------------------------------


NUMBERED_LESSONS = (
    "lesson.crisis_plan.card1",
    "lesson.crisis_plan.practice",
    "lesson.self_care.card2",
)


@pytest.mark.parametrize("message_id", NUMBERED_LESSONS)
@pytest.mark.parametrize(
    ("locale", "region", "present", "absent"),
    [
        ("en", "SG", "📞 1767 — Samaritans of Singapore (24 h)", "12356"),
        ("zh_Hans", "SG", "📞 995 急救 / 999 报警", "12356"),
        ("zh_Hans", "CN", "📞 12356 全国心理援助热线（各省服务时间不同）", "1767"),
        ("zh_Hant", "HK", "📞 18111 精神健康支援熱線（24 小時）", "1925"),
        ("zh_Hant", "TW", "📞 1925 衛福部安心專線（24 小時，免費）", "18111"),
    ],
)
def test_lessons_fill_in_the_readers_numbers(
    translator: Translator, message_id: str, locale: str, region: str, present: str, absent: str
) -> None:
    text = translator.render(lesson_text(message_id, crisis.Numbers(TABLE[region])), locale)
    assert present in text.splitlines()
    assert absent not in text
    assert "/help" not in text


def test_no_lesson_points_to_help_for_numbers_or_types_a_number_in() -> None:
    """The numbers come from the table when shown, never from a translation."""
    for locale in LOCALES:
        po = (Path("locales") / locale / "LC_MESSAGES" / "lessons.po").read_text(encoding="utf-8")
        assert "/help" not in po, locale
        assert "{numbers}" in po
    english = (Path("locales") / "en" / "LC_MESSAGES" / "lessons.po").read_text(encoding="utf-8")
    assert not re.search(r"\b(988|999|911|116 123|12356|1925|18111)\b", english)


# -- in the bot ---------------------------------------------------------------------------


def _texts(replies: list[Reply]) -> list[str]:
    return [r.text for r in replies if r.method == "sendMessage"]


async def test_sos_without_a_role_shows_the_language_codes_numbers(harness: Harness) -> None:
    stranger = harness.person("zh-SG")
    [text] = _texts(await stranger.send("/sos"))
    assert text.splitlines()[:4] == [
        "🆘 求助电话",
        "如果你现在有危险，请马上拨打：",
        "📞 995 急救 / 999 报警",
        "心理援助热线：",
    ]
    assert "12356" not in text, "zh-SG is Singapore, not mainland China"
    [help_text] = _texts(await stranger.send("/help"))
    assert "📞 1767 新加坡援人协会（24 小时）" in help_text.splitlines()
    async with harness.db.sessions() as session:
        assert (await session.scalars(select(Person))).all() == []


async def test_sos_goes_out_with_the_database_down(harness: Harness) -> None:
    client = await harness.onboard(Role.CLIENT, "zh-MO")
    async with harness.database_down():
        [text] = _texts(await client.send("/sos"))
    assert "📞 2852 5222 明愛生命熱線（24 小時，依一般通話費計費）" in text.splitlines()
    assert "18111" not in text, "zh-MO is Macau, not Hong Kong"


async def test_sos_during_onboarding_then_onboarding_goes_on(harness: Harness) -> None:
    newcomer = harness.person("en-SG")
    await newcomer.send(f"/start {await harness.invite(Role.CLIENT)}")
    replies = await newcomer.send("/sos")
    texts = _texts(replies)
    assert texts[0].startswith("🆘 Where to get help")
    assert replies[0].buttons == [], "no /talk before onboarding is finished"
    assert "Is that OK with you?" in texts[-1], "the consent question again"


async def test_help_shows_the_numbers_for_clients_and_relatives(harness: Harness) -> None:
    client = await harness.onboard(Role.CLIENT, "en-GB")
    [text] = _texts(await client.send("/help"))
    assert "/sos — where to get help now" in text
    assert text.splitlines()[-4:] == [
        "I'm a bot, not an emergency service. If you are in danger right now, call:",
        "📞 999 / 112 Emergency",
        "Crisis lines:",
        "📞 116 123 — Samaritans (24 h, free)",
    ]
    relative = await harness.onboard(Role.FAMILY, "en-MY")
    [text] = _texts(await relative.send("/help"))
    assert text.splitlines()[-2:] == [
        "Crisis lines:",
        "📞 03-7627 2929 — Befrienders Kuala Lumpur (24 h, usual call charges)",
    ]
    worker = await harness.onboard(Role.PEER_WORKER, "en-GB")
    [text] = _texts(await worker.send("/help"))
    assert "/sos — crisis numbers for your region" in text
    [text] = _texts(await worker.send("/sos"))
    assert text.splitlines()[1] == "If anyone is in immediate danger, call now:"


async def test_somewhere_else_in_settings_then_sos(harness: Harness) -> None:
    client = await harness.onboard(Role.CLIENT, "en-SG")
    await client.send("/settings")
    await client.press("Region")
    await client.press("Somewhere else")
    [text] = _texts(await client.send("/sos"))
    assert text.splitlines()[1:3] == [
        "If you are in immediate danger, call now:",
        "📞 Your local emergency number",
    ]
    assert "1767" not in text and "Crisis lines:" not in text


async def test_new_regions_can_be_chosen(harness: Harness) -> None:
    client = await harness.onboard(Role.CLIENT, "zh-HK")
    await client.send("/settings")
    await client.press("地區")
    message = client.last_buttons_message()
    labels = [b["text"] for row in message["reply_markup"]["inline_keyboard"] for b in row]
    assert {"澳門", "新加坡", "馬來西亞"} <= set(labels)
    await client.press("澳門")
    [text] = _texts(await client.send("/sos"))
    assert "📞 2852 5222 明愛生命熱線（24 小時，依一般通話費計費）" in text


async def test_sos_opens_nothing(harness: Harness) -> None:
    client = await harness.onboard(Role.CLIENT)
    await client.send("/sos")
    async with harness.db.sessions() as session:
        assert (await session.scalars(select(Escalation))).all() == []


async def test_a_lesson_shows_the_relatives_numbers(harness: Harness) -> None:
    relative = await harness.onboard(Role.FAMILY, "zh-TW")
    [text] = _texts(await relative.send("/lesson crisis_plan"))[-1:]
    assert "📞 1925 衛福部安心專線（24 小時，免費）" in text.splitlines()
    assert "18111" not in text


def test_the_shipped_table_is_what_load_lines_reads() -> None:
    assert set(TABLE) == {code for code in RAW if not code.startswith("_")}


async def test_the_practice_reminder_a_week_later_shows_the_numbers(harness: Harness) -> None:
    start = datetime(2026, 3, 2, 0, tzinfo=UTC)
    harness.set_now(start)
    relative = await harness.onboard(Role.FAMILY, "en-GB")
    await relative.does("/lesson crisis_plan", *5 * ["[Next ›]"], "[A]", "[Next ›]", "[✅ Done]")
    for hours in range(0, 24 * 12, 3):
        harness.set_now(start + timedelta(hours=hours))
        before = len(harness.api.calls)
        await harness.tick()
        sent = [
            c.params["text"]
            for c in harness.api.calls[before:]
            if c.method == "sendMessage" and int(c.params["chat_id"]) == relative.user_id
        ]
        reminder = [t for t in sent if "Last week's practice task" in t]
        if reminder:
            break
    assert reminder and reminder[0].splitlines()[-3:] == [
        "📞 999 / 112 Emergency",
        "Crisis lines:",
        "📞 116 123 — Samaritans (24 h, free)",
    ]
