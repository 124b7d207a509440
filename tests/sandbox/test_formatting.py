"""Markup parsing as Telegram does it: plain text, entities in UTF-16 units, refusals."""

from __future__ import annotations

import pytest

from bot.sandbox.errors import BotAPIError
from bot.sandbox.formatting import detect_entities, parse
from bot.sandbox.ratelimit import RateLimits, SendLimiter


@pytest.mark.parametrize(
    ("mode", "source", "text", "entities"),
    [
        (
            "HTML",
            "<b>Sleep</b> &amp; <i>mood</i> 😀 <a href='https://example.org'>help</a>",
            "Sleep & mood 😀 help",
            [
                {"type": "bold", "offset": 0, "length": 5},
                {"type": "italic", "offset": 8, "length": 4},
                {"type": "text_link", "url": "https://example.org", "offset": 16, "length": 4},
            ],
        ),
        (
            "HTML",
            '<pre><code class="language-python">x = 1</code></pre>',
            "x = 1",
            [{"type": "pre", "language": "python", "offset": 0, "length": 5}],
        ),
        (
            "HTML",
            "<blockquote expandable>long</blockquote><tg-spoiler>s</tg-spoiler>",
            "longs",
            [
                {"type": "expandable_blockquote", "offset": 0, "length": 4},
                {"type": "spoiler", "offset": 4, "length": 1},
            ],
        ),
        (
            "MarkdownV2",
            "*bold _both_* __u__ ~s~ ||sp|| `c` 1\\.",
            "bold both u s sp c 1.",
            [
                {"type": "bold", "offset": 0, "length": 9},
                {"type": "italic", "offset": 5, "length": 4},
                {"type": "underline", "offset": 10, "length": 1},
                {"type": "strikethrough", "offset": 12, "length": 1},
                {"type": "spoiler", "offset": 14, "length": 2},
                {"type": "code", "offset": 17, "length": 1},
            ],
        ),
        (
            "MarkdownV2",
            ">quoted\n>lines\nafter",
            "quoted\nlines\nafter",
            [{"type": "blockquote", "offset": 0, "length": 12}],
        ),
        (
            "Markdown",
            "*b* _i_",
            "b i",
            [
                {"type": "bold", "offset": 0, "length": 1},
                {"type": "italic", "offset": 2, "length": 1},
            ],
        ),
        (None, "  你好  ", "你好", []),
    ],
)
def test_markup_becomes_text_and_entities(
    mode: str | None, source: str, text: str, entities: list[dict[str, object]]
) -> None:
    parsed = parse(source, mode, None)
    assert (parsed.text, parsed.entities) == (text, entities)


@pytest.mark.parametrize(
    ("mode", "source", "reason"),
    [
        ("HTML", "a<br>b", 'Unsupported start tag "br" at byte offset 1'),
        ("HTML", "<b>open", 'Can\'t find end tag corresponding to start tag "b"'),
        ("HTML", "<b><i>x</b></i>", 'expected "</i>", found "</b>"'),
        ("HTML", '<span class="x">y</span>', 'must have class "tg-spoiler"'),
        ("MarkdownV2", "Take care.", "Character '.' is reserved"),
        ("MarkdownV2", "*open", "Can't find end of Bold entity at byte offset 0"),
        ("Markdown", "*open", "Can't find end of the entity starting at byte offset 0"),
    ],
)
def test_markup_telegram_rejects(mode: str, source: str, reason: str) -> None:
    with pytest.raises(BotAPIError) as refused:
        parse(source, mode, None)
    assert refused.value.error_code == 400
    assert reason in refused.value.description


def test_commands_links_and_mentions_are_found_in_plain_text() -> None:
    found = detect_entities("😀 /checkin@tongban_bot now, see https://example.org. @ana_li")
    assert found == [
        {"type": "bot_command", "offset": 3, "length": 20},
        {"type": "url", "offset": 33, "length": 19},
        {"type": "mention", "offset": 54, "length": 7},
    ]


def test_token_buckets_allow_a_burst_then_one_per_second() -> None:
    now = [0.0]
    limiter = SendLimiter(RateLimits(per_chat_burst=3, per_chat_per_second=1.0), lambda: now[0])
    assert [limiter.admit(1) for _ in range(3)] == [None, None, None]
    assert limiter.admit(1) == 1
    assert limiter.admit(2) is None  # another chat has its own bucket
    now[0] = 1.0
    assert limiter.admit(1) is None
    assert limiter.admit(1) == 1


def test_the_overall_bucket_limits_all_chats_together() -> None:
    now = [0.0]
    limiter = SendLimiter(RateLimits(overall_burst=30, overall_per_second=30.0), lambda: now[0])
    assert all(limiter.admit(chat) is None for chat in range(30))
    assert limiter.admit(31) == 1
    now[0] = 0.1
    assert [limiter.admit(chat) for chat in range(100, 104)] == [None, None, None, 1]
