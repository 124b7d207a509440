"""What an operator does from the command line that people must hear about at once: a role
change and an erasure. Both go through the same core and appliers as the bot's own updates
(a worker's chats go back to the queue, the chats' people and the worker are told), then
the messages go out through the one sending path.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession
from telegram import Bot
from telegram.error import TelegramError

from bot.config import Settings
from bot.host import Host
from bot.i18n import Translator
from bot.storage.db import Database
from bot.storage.models import Person
from bot.telegram.dispatch import Dispatcher
from bot.telegram.http import AiohttpRequest
from bot.telegram.render import Outgoing
from flows.roles import Role


@dataclass(frozen=True, slots=True)
class Told:
    """How many of the messages the change called for went out, and how many could not."""

    delivered: int
    undelivered: int


Change = Callable[[Dispatcher, AsyncSession, Person], Awaitable[list[Outgoing]]]


async def _change(
    dispatcher: Dispatcher, bot: Bot | None, person_id: int, work: Change
) -> Told | None:
    """Apply ``work`` to the person in one transaction, then send what it produced."""
    async with dispatcher.host.db.transaction() as session:
        person = await session.get(Person, person_id)
        if person is None:
            return None
        outgoing = await work(dispatcher, session, person)
    if bot is None:
        return Told(0, len(outgoing))
    deliveries = await dispatcher.sender.send(bot, outgoing)
    failed = sum(1 for d in deliveries if d.failed)
    return Told(len(deliveries) - failed, failed)


async def set_role(
    dispatcher: Dispatcher, bot: Bot | None, person_id: int, role: Role
) -> Told | None:
    """None when nobody has that id."""

    async def work(d: Dispatcher, session: AsyncSession, person: Person) -> list[Outgoing]:
        return await d.accounts.change_role(session, person, role, d.host.clock())

    return await _change(dispatcher, bot, person_id, work)


async def erase(dispatcher: Dispatcher, bot: Bot | None, person_id: int) -> Told | None:
    """None when nobody has that id."""

    async def work(d: Dispatcher, session: AsyncSession, person: Person) -> list[Outgoing]:
        return await d.accounts.erase(session, person, d.host.clock(), goodbye=False)

    return await _change(dispatcher, bot, person_id, work)


async def with_bot(
    settings: Settings,
    db: Database,
    act: Callable[[Dispatcher, Bot | None], Awaitable[Told | None]],
) -> Told | None:
    """Run ``act`` with a dispatcher on ``db`` and, when a token is configured, a Bot API
    client to tell people (without one, nobody can be told, and the result says so)."""
    host = Host(db, Translator(), settings)
    await host.start()
    dispatcher = Dispatcher(host)
    if settings.telegram_bot_token is None:
        return await act(dispatcher, None)
    bot = Bot(
        settings.telegram_bot_token,
        base_url=settings.bot_api_base_url,
        base_file_url=settings.bot_api_file_url,
        request=AiohttpRequest(),
    )
    try:
        await bot.initialize()
    except TelegramError:
        return await act(dispatcher, None)
    try:
        return await act(dispatcher, bot)
    finally:
        await bot.shutdown()
