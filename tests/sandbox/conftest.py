"""A sandbox on a random loopback port, and the echo bot long polling it over real HTTP."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from telegram import Bot

from bot.sandbox import SandboxBotAPI
from tests.sandbox.echo_bot import EchoApp, add_echo_handlers, builder_for, plain_bot, started


@pytest.fixture
async def sandbox() -> AsyncIterator[SandboxBotAPI]:
    api = SandboxBotAPI(rate_limits=False)
    await api.start()
    try:
        yield api
    finally:
        await api.stop()


@pytest.fixture
async def bot(sandbox: SandboxBotAPI) -> AsyncIterator[Bot]:
    """A client for calling the sandbox's methods one by one."""
    async with plain_bot(sandbox) as client:
        yield client


@pytest.fixture
async def chat_id(sandbox: SandboxBotAPI) -> int:
    """Ana's chat, after her /start."""
    return await started(sandbox)


@pytest.fixture
async def echo_bot(sandbox: SandboxBotAPI) -> AsyncIterator[EchoApp]:
    """The echo bot, long polling the sandbox in the background."""
    app = builder_for(sandbox).build()
    add_echo_handlers(app)
    async with app:
        assert app.updater is not None
        await app.updater.start_polling(timeout=5)
        await app.start()
        try:
            yield app
        finally:
            await app.updater.stop()
            await app.stop()
