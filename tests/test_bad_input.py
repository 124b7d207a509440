"""Bad input gets a short, kind answer in the person's language, or is ignored on purpose."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from bot.storage.models import CheckIn, FlowState, Invite, Person
from flows.roles import Role
from tests.harness import Harness, texts


async def _people(harness: Harness) -> int:
    async with harness.db.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(Person)) or 0)


async def test_strangers_get_a_kind_answer_and_nothing_is_stored(harness: Harness) -> None:
    stranger = harness.person("zh-HK")
    replies = await stranger.send("/start")
    assert "邀請連結" in texts(replies)
    replies = await stranger.send("/start not-a-real-code-at-all-123")
    assert "這個邀請碼我找不到" in texts(replies), "a code nobody made is not told it expired"
    replies = await stranger.send("hello")
    assert "邀請連結" in texts(replies)
    await stranger.send_media("photo")
    assert await _people(harness) == 0


async def test_expired_used_and_revoked_invites_are_refused(harness: Harness) -> None:
    expired = await harness.invite(Role.CLIENT, expires_in=timedelta(seconds=-1))
    replies = await harness.person("en").send(f"/start {expired}")
    assert "doesn't work any more" in texts(replies)

    single = await harness.invite(Role.CLIENT)
    assert "Is that OK with you?" in texts(await harness.person("en").send(f"/start {single}"))
    assert "doesn't work any more" in texts(await harness.person("en").send(f"/start {single}"))

    from bot.invites import revoke

    revoked = await harness.invite(Role.CLIENT)
    async with harness.db.sessions() as session:
        invite_id = await session.scalar(select(Invite.id).order_by(Invite.id.desc()).limit(1))
    assert await revoke(harness.db, int(invite_id))
    assert "doesn't work any more" in texts(await harness.person("en").send(f"/start {revoked}"))
    assert await _people(harness) == 1


async def test_media_edits_and_unknown_commands_mid_onboarding(harness: Harness) -> None:
    person = harness.person("zh-CN")
    await person.send(f"/start {await harness.invite()}")
    for kind in ("sticker", "photo", "voice"):
        replies = await person.send_media(kind)
        assert "我只能看懂文字和按钮" in texts(replies)
        assert "你同意吗？" in texts(replies), "the current question is asked again"
    replies = await person.edit("edited text")
    assert "我只读新消息" in texts(replies)
    replies = await person.send("/frobnicate")
    assert "我不认识 /frobnicate 这个命令" in texts(replies)
    assert "你同意吗？" in texts(replies)


async def test_old_buttons_change_nothing(harness: Harness) -> None:
    person = await harness.onboard(Role.CLIENT)
    await person.send("/settings")
    menu = person.last_buttons_message()
    await person.press("Time zone")
    replies = await person.press("Check-in time", message=menu)
    assert replies[0].text == (
        "That button is from an earlier question, so nothing was changed. Here is where we are now."
    )
    assert "Which time zone are you in?" in texts(replies[1:]), "the current question again"
    replies = await person.send("Europe/London")
    assert "Your time zone is now London" in texts(replies)


async def test_a_tap_whose_reply_was_lost_finds_the_current_question(harness: Harness) -> None:
    """The bot saved an answer but its reply never arrived (a restart between saving and
    sending): the person taps a button on the same question again. Nothing changes, and
    the question they are really at is shown."""
    client = await harness.onboard(Role.CLIENT)
    await client.send("/checkin")
    question, okay = client.button_data("😐 Okay")
    await client.press("🙂 Good")
    replies = await client.press_data(question, okay)
    assert "nothing was changed" in replies[0].text
    assert "How did you sleep last night" in texts(replies[1:])
    async with harness.db.sessions() as session:
        mood = await session.scalar(select(CheckIn.mood))
    assert mood == 4, "the first answer stands"
    replies = await client.press("Less")
    assert "→ Less" in texts(replies), "the check-in goes on from the re-asked question"


async def test_forged_and_foreign_button_data_is_refused(harness: Harness) -> None:
    alice = await harness.onboard(Role.CLIENT)
    bob = await harness.onboard(Role.CLIENT)
    await alice.send("/settings")
    message, data = alice.button_data("Time zone")
    # Bob replays Alice's button data on his own copy of the message.
    replies = await bob.press_data(message, data)
    assert [r.text for r in replies] == ["That button didn't come from me, so I ignored it."]
    # Made-up data, and data with a valid shape but a wrong signature.
    for forged in ("set:timezone", "f1:set:timezone~AAAAAAAAAAAA", "", "~", "f1:x~签名不对", "é~é"):
        replies = await alice.press_data(message, forged)
        assert [r.text for r in replies] == ["That button didn't come from me, so I ignored it."]
    async with harness.db.sessions() as session:
        states = (
            await session.scalars(select(FlowState.state).order_by(FlowState.person_id))
        ).all()
    assert list(states) == ["menu", None], "Alice is still at her menu, Bob untouched"


async def test_huge_text_and_blank_text(harness: Harness) -> None:
    person = harness.person("en")
    await person.send(f"/start {await harness.invite(Role.PEER_WORKER)}")
    await person.press("✅ I agree")
    await person.press("English")
    await person.press("London")
    replies = await person.send("x" * 4000)
    assert "keep it under 2000 characters" in texts(replies)
    replies = await person.send("   ")
    assert "Please send an alias" in texts(replies)


async def test_a_person_who_blocked_the_bot_is_marked_and_nothing_crashes(harness: Harness) -> None:
    person = await harness.onboard(Role.CLIENT)
    harness.api.blocked.add(person.user_id)
    await person.send("/help")  # the reply fails with 403
    async with harness.db.sessions() as session:
        row = await session.scalar(select(Person).where(Person.telegram_user_id == person.user_id))
    assert row is not None and row.blocked_at is not None
    harness.api.blocked.clear()
    replies = await person.send("/help")
    assert "Here's what I can do for you" in texts(replies)
    async with harness.db.sessions() as session:
        row = await session.scalar(select(Person).where(Person.telegram_user_id == person.user_id))
    assert row is not None and row.blocked_at is None, "writing again un-marks them"


async def test_database_down_gets_an_apology_not_a_traceback(harness: Harness) -> None:
    person = await harness.onboard(Role.CLIENT, "zh-TW")
    async with harness.database_down():
        replies = await person.send("/help")
    assert "我這邊出了點技術問題" in texts(replies)
    assert "緊急電話" in texts(replies)
    assert "我可以幫你做這些事" in texts(await person.send("/help"))


async def test_control_characters_in_a_message_are_kept_and_passed_on(harness: Harness) -> None:
    """PostgreSQL refuses NUL in text: a message carrying one is still kept for a worker,
    relayed, and stored as a check-in note (without the NUL), never "storage unavailable"."""
    client = await harness.onboard(Role.CLIENT)
    lin = await harness.onboard(Role.PEER_WORKER, "en", "Lin")
    await client.send("/talk")
    replies = await client.send("are\x00 you there")
    assert texts(replies) == "📝 Kept for the peer worker — they'll read it as soon as they join."
    await lin.send("/claim 1")
    relayed = [
        c.params["text"]
        for c in harness.api.sent_to(lin.user_id)
        if "while waiting" in c.params.get("text", "")
    ]
    assert len(relayed) == 1 and relayed[0].endswith("are you there")
    replies = await lin.send("yes\x00, I'm here")
    assert [c.params["text"] for c in harness.api.sent_to(client.user_id)][
        -1
    ] == "Lin: yes, I'm here"


async def test_numbers_in_commands_are_plain_digits_or_a_kind_answer(harness: Harness) -> None:
    """ "²" is a digit to Python but no number anyone typed; a 23-digit id fits no column."""
    client = await harness.onboard(Role.CLIENT)
    boss = await harness.onboard(Role.SUPERVISOR, "en", "Mei")
    for person, command, answer in (
        (client, "/rate ² 5", ""),
        (boss, "/claim ²", "Use the Claim button on a card, or /queue."),
        (boss, "/claim 99999999999999999999999", "Use the Claim button on a card, or /queue."),
        (boss, "/assign ² Mei", "Use /assign <escalation id> <worker alias>, e.g. /assign 12 Lin."),
    ):
        replies = await person.send(command)
        assert texts(replies) == answer, command
