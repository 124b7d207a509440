"""The sandbox web chat in a real browser: a client checks in and a peer worker answers.

Everything is done through the page, as a person at the demo would: clicks on buttons and
typing. The first test leaves a screenshot of the chats side by side in
``docs/img/sandbox.png``.
Needs the ``playwright`` package and Debian's Chromium (``/usr/bin/chromium``); without
them the test is skipped and says why. Playwright never downloads a browser here.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import shutil
import socket
from collections.abc import AsyncIterator
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

import aiohttp
import pytest

from bot.charts import cjk_font_path
from bot.config import PROJECT_ROOT, load_settings
from bot.sandbox.launch import serve

if TYPE_CHECKING:
    from playwright.async_api import Browser, Locator, Page

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOT = PROJECT_ROOT / "docs" / "img" / "sandbox.png"
WAIT_MS = 20_000

# What the client 小明 (zh-CN) answers: each question as the bot asks it, and the button pressed.
CHECKIN = (
    ("今天心情怎么样？", "🙂 不错"),
    ("昨晚睡得怎么样？", "和平时一样"),
    ("今天的药吃了吗？", "💊 吃了"),
    ("药物的副作用让你困扰吗？", "没有"),
)
AFTER_UNUSUAL = (
    ("这些感受让你有多难受？", "有一点"),
    ("今天有和别人相处或者聊天吗？", "有一点"),
    ("今天压力大吗？有没有烦心事？", "有一点"),
    ("关于今天，还有什么想说的吗？", "跳过"),
)
WORKER_REPLY = "你好，我是阿華。謝謝你來找我們，現在感覺怎麼樣？"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def playwright_api() -> ModuleType:
    """Playwright's asyncio API, or a skip that says what is missing."""
    if not CHROMIUM.is_file():
        pytest.skip(
            f"the browser test needs Debian's Chromium at {CHROMIUM} (apt-get install chromium)"
        )
    try:
        import playwright.async_api
    except ImportError as error:
        pytest.skip(f"the browser test needs the playwright Python package ({error})")
    return playwright.async_api


@pytest.fixture
async def browser(playwright_api: ModuleType, tmp_path: Path) -> AsyncIterator[Browser]:
    """Headless Chromium; launch() gives it a fresh temporary profile (user-data dir)."""
    env = _browser_env(tmp_path / "fonts")
    async with playwright_api.async_playwright() as pw:
        launched = await pw.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, env=env
        )
        try:
            yield launched
        finally:
            await launched.close()


def chat(page: Page, name: str) -> Locator:
    """The chat column of the person called exactly ``name``."""
    exactly = re.compile(f"^{re.escape(name)}$")
    return page.locator(".chat").filter(has=page.locator(".name", has_text=exactly))


async def open_page(browser: Browser, page_url: str, expect: Any) -> Page:
    page = await browser.new_page(viewport={"width": 1600, "height": 1000})
    await page.goto(page_url)
    await expect(page.locator("#connection")).to_have_text("Live", timeout=WAIT_MS)
    return page


async def create_demo_cast(page: Page, expect: Any) -> None:
    demo = page.get_by_role("button", name="Create demo cast")
    await demo.click()
    await expect(demo).to_be_enabled(timeout=WAIT_MS)  # it is busy until the cast is made
    await expect(page.locator("#toolbar-message")).to_be_hidden()


def _save_screenshot(shot: Path) -> None:
    """Refresh the README's picture only when asked (TONGBAN_SCREENSHOT=1): tests do not write
    into the project otherwise."""
    if os.environ.get("TONGBAN_SCREENSHOT") == "1":
        SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(shot, SCREENSHOT)


def _browser_env(folder: Path) -> dict[str, str]:
    """Chromium finds fonts through fontconfig: add the Noto Sans CJK the charts already ship,
    so the Chinese in the screenshot is readable on machines without CJK system fonts."""
    folder.mkdir()
    config = folder / "fonts.conf"
    config.write_text(
        '<?xml version="1.0"?>\n<!DOCTYPE fontconfig SYSTEM "fonts.dtd">\n<fontconfig>\n'
        '  <include ignore_missing="yes">/etc/fonts/fonts.conf</include>\n'
        f"  <dir>{cjk_font_path().parent}</dir>\n"
        f"  <cachedir>{folder / 'cache'}</cachedir>\n"
        "</fontconfig>\n",
        encoding="utf-8",
    )
    return {**os.environ, "FONTCONFIG_FILE": str(config)}


@contextlib.asynccontextmanager
async def running_sandbox(database: Path) -> AsyncIterator[str]:
    """The whole sandbox (Bot API server, page and the real bot) until the block ends."""
    port = _free_port()
    stop = asyncio.Event()
    task = asyncio.create_task(
        serve(load_settings(), port=port, database=database, stop=stop), name="sandbox"
    )
    page_url = f"http://127.0.0.1:{port}/"
    try:
        async with aiohttp.ClientSession() as http:
            for _ in range(200):
                if task.done():
                    task.result()  # raises why the sandbox could not start
                    raise RuntimeError("the sandbox stopped before its page answered")
                with contextlib.suppress(aiohttp.ClientError):
                    async with http.get(page_url) as answer:
                        if answer.status == 200:
                            break
                await asyncio.sleep(0.1)
            else:
                raise TimeoutError(f"the sandbox page at {page_url} never answered")
        yield page_url
    finally:
        stop.set()
        await asyncio.wait_for(task, timeout=20)


async def _demo_rooms(database: Path) -> list[tuple[str, list[tuple[str | None, bool]]]]:
    """The group rooms in the sandbox's database, with each invited person's group alias
    (none until chosen) and whether they lead it."""
    from sqlalchemy import select

    from bot.storage.db import Database
    from bot.storage.models import Room, RoomMember

    db = Database(f"sqlite+aiosqlite:///{database}")
    try:
        async with db.sessions() as session:
            found = []
            for room in (await session.scalars(select(Room))).all():
                members = await session.execute(
                    select(RoomMember.alias, RoomMember.leader)
                    .where(RoomMember.room_id == room.id, RoomMember.state == "invited")
                    .order_by(RoomMember.person_id)
                )
                found.append((room.title, [(alias, leader) for alias, leader in members]))
            return found
    finally:
        await db.dispose()


async def _demo_activities(database: Path) -> list[tuple[str, list[str]]]:
    """The activities in the sandbox's database, with their leaders' aliases."""
    from sqlalchemy import select

    from bot.storage.db import Database
    from bot.storage.models import Activity, ActivityLeader, Person

    db = Database(f"sqlite+aiosqlite:///{database}")
    try:
        async with db.sessions() as session:
            found = []
            for activity in (await session.scalars(select(Activity))).all():
                leaders = await session.scalars(
                    select(Person.alias)
                    .join(ActivityLeader, ActivityLeader.person_id == Person.id)
                    .where(ActivityLeader.activity_id == activity.id)
                    .order_by(Person.id)
                )
                found.append((activity.title, [alias or "" for alias in leaders]))
            return found
    finally:
        await db.dispose()


async def test_a_client_checks_in_and_a_peer_worker_answers_in_the_web_page(
    tmp_path: Path, playwright_api: ModuleType, browser: Browser
) -> None:
    expect = playwright_api.expect
    async with running_sandbox(tmp_path / "sandbox.db") as page_url:
        page = await open_page(browser, page_url, expect)

        # The page can add people but cannot invite them, so the demo cast plays the team.
        await create_demo_cast(page, expect)
        await expect(page.locator(".chat")).to_have_count(5)
        assert await _demo_activities(tmp_path / "sandbox.db") == [
            ("同伴分享会 Sharing circle", ["Lin", "阿華"])
        ], "the cast has an upcoming activity its peer workers lead"
        assert await _demo_rooms(tmp_path / "sandbox.db") == [
            (
                "线上互助小组 Online peer group",
                [(None, False), (None, False), ("Lin", True), ("阿華", True)],
            )
        ], "and a group room its peer workers lead, the client and the relative invited"
        ming, lin = chat(page, "小明 Ming"), chat(page, "Lin")
        wah, mei = chat(page, "阿華 Wah"), chat(page, "Dr. Mei")
        await expect(ming.locator(".msg").last).to_contain_text("设置好了", timeout=WAIT_MS)
        for worker in (lin, wah):
            await expect(worker.locator(".msg").last).to_contain_text(
                re.compile("All set|設定完成"), timeout=WAIT_MS
            )

        # This demo is about the client and the team: the family member's chat is put away.
        await (
            chat(page, "明妈妈 Ming's mother").get_by_role("button", name="Hide this chat").click()
        )
        await expect(page.locator(".chat")).to_have_count(4)
        await expect(page.get_by_role("button", name="Show hidden chats (1)")).to_be_visible()

        async def answer(question: str, label: str) -> None:
            """Press ``label`` under ``question``; the question then shows the answer."""
            asked = ming.locator(".msg.bot", has_text=question).last
            await asked.get_by_role("button", name=label, exact=True).click(timeout=WAIT_MS)
            await expect(asked.locator(".bubble")).to_contain_text(f"→ {label}", timeout=WAIT_MS)

        # The daily check-in, started from the reply keyboard under the chat.
        await ming.locator(".reply-keyboard").get_by_role("button", name="✅ 每日问候").click()
        for question, label in CHECKIN:
            await answer(question, label)
        unusual = ming.locator(".msg.bot", has_text="今天有没有一些特别的感受？").last
        await unusual.get_by_role("button", name="思绪停不下来", exact=True).click()
        await expect(unusual.get_by_role("button", name="✓ 思绪停不下来")).to_be_visible(
            timeout=WAIT_MS
        )
        await unusual.get_by_role("button", name="好了", exact=True).click()
        await expect(unusual.locator(".bubble")).to_contain_text("→ 思绪停不下来", timeout=WAIT_MS)
        for question, label in AFTER_UNUSUAL:
            await answer(question, label)
        await expect(ming.locator(".messages")).to_contain_text("/warningsigns", timeout=WAIT_MS)

        # The client asks for a person; the on-duty peer workers and the supervisor get a card.
        await ming.locator(".reply-keyboard").get_by_role("button", name="🙋 找人聊聊").click()
        await expect(ming.locator(".messages")).to_contain_text(
            "我已经请同伴支持员加入这个对话", timeout=WAIT_MS
        )
        await expect(lin.locator(".msg.bot", has_text="🔔").last).to_contain_text(
            "Claim", timeout=WAIT_MS
        )
        card = wah.locator(".msg.bot", has_text="🔔").last
        await expect(card).to_contain_text("服務使用者", timeout=WAIT_MS)
        await expect(card).not_to_contain_text("小明")  # workers see an alias, not the name

        # 阿華 claims it: the client is told, and the others' cards say it is taken.
        await card.get_by_role("button", name="接手", exact=True).click()
        await expect(ming.locator(".messages")).to_contain_text(
            "同伴支持员 阿華 加入了对话", timeout=WAIT_MS
        )
        for colleague in (lin, mei):
            # A chat shows its newest message without the reader scrolling.
            await expect(colleague.locator(".msg").last).to_contain_text(
                "taken by 阿華", timeout=WAIT_MS
            )
            await expect(colleague.locator(".msg").last).to_be_in_viewport()

        # 阿華 types a reply; it reaches the client under the alias 阿華.
        composer = wah.get_by_role("textbox", name="Message")
        await composer.fill(WORKER_REPLY)
        await composer.press("Enter")
        await expect(wah.locator(".msg.me").last).to_contain_text(WORKER_REPLY)
        await expect(ming.locator(".msg.bot").last).to_contain_text(
            f"阿華：{WORKER_REPLY}", timeout=WAIT_MS
        )
        await expect(ming.locator(".msg").last).to_be_in_viewport()
        await expect(ming.locator(".messages")).not_to_contain_text("Wah")  # the alias only

        await page.mouse.move(0, 0)  # no hover effects in the picture
        shot = tmp_path / "sandbox.png"
        await page.screenshot(path=str(shot))
        _save_screenshot(shot)


async def test_the_demo_cast_can_be_made_again_and_after_a_restart(
    tmp_path: Path, playwright_api: ModuleType, browser: Browser
) -> None:
    """A second cast, and one after the sandbox restarted on its kept data, are onboarded too.

    Both used to fail after ten seconds: the aliases were taken, and after a restart the bot
    ignored the new updates (their ids were handled in the run before) and the new people got
    the ids of the people kept in the database.
    """
    expect = playwright_api.expect
    database = tmp_path / "sandbox.db"
    for numbers in (("", " 2"), (" 3",)):
        async with running_sandbox(database) as page_url:
            page = await open_page(browser, page_url, expect)
            for number in numbers:
                await create_demo_cast(page, expect)
                client = chat(page, f"小明 Ming{number}")
                await expect(client.locator(".msg").last).to_contain_text(
                    "设置好了", timeout=WAIT_MS
                )
                worker = chat(page, f"Lin{number}")
                # The alias the worker typed: numbered, since aliases are unique.
                await expect(worker.locator(".msg.me .text").last).to_have_text(f"Lin{number}")
                await expect(worker.locator(".msg").last).to_contain_text("All set")
            await page.close()
