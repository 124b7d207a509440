"""Telegram's command menu: per role (chat scope) and per language."""

from __future__ import annotations

from flows.roles import Role
from tests.harness import Harness


def _menus(harness: Harness) -> list[dict[str, object]]:
    return [c.params for c in harness.api.calls if c.method == "setMyCommands"]


async def test_default_menu_for_strangers_in_english_and_chinese(harness: Harness) -> None:
    menus = _menus(harness)
    by_language = {m.get("language_code"): m for m in menus if m["scope"] == {"type": "default"}}
    assert [c["command"] for c in by_language[None]["commands"]] == ["start", "sos", "help"]  # type: ignore[index]
    assert [c["description"] for c in by_language["zh"]["commands"]] == [  # type: ignore[index]
        "开始或继续",
        "当地的求助电话",
        "我能做什么",
    ]


async def test_menu_follows_role_and_language(harness: Harness) -> None:
    client = await harness.onboard(Role.CLIENT, "zh-TW")
    menu = _menus(harness)[-1]
    assert menu["scope"] == {"type": "chat", "chat_id": client.user_id}
    commands = {c["command"]: c["description"] for c in menu["commands"]}  # type: ignore[union-attr]
    assert commands["pause"] == "暫停所有排定的訊息"
    assert set(commands) == {
        "checkin",
        "history",
        "skills",
        "warningsigns",
        "safetyplan",
        "family",
        "mydata",
        "deleteme",
        "talk",
        "sos",
        "help",
        "settings",
        "language",
        "privacy",
        "pause",
        "resume",
        "activities",
        "invitations",
        "measures",
        "room",
    }

    worker = await harness.onboard(Role.PEER_WORKER, "en")
    menu = _menus(harness)[-1]
    assert menu["scope"] == {"type": "chat", "chat_id": worker.user_id}
    assert "pause" not in {c["command"] for c in menu["commands"]}  # type: ignore[union-attr]

    await client.send("/language")
    await client.press("English")
    menu = _menus(harness)[-1]
    assert {c["command"]: c["description"] for c in menu["commands"]}[
        "pause"
    ] == "Pause all scheduled messages"  # type: ignore[union-attr]


async def test_the_old_check_in_label_on_a_phone_still_starts_the_check_in(
    harness: Harness,
) -> None:
    """签到 became 每日问候: a keyboard sent before the rename still works until replaced."""
    client = await harness.onboard(Role.CLIENT, "zh-CN")
    replies = await client.send("✅ 签到")
    assert "今天心情怎么样？" in "\n".join(r.text for r in replies)
