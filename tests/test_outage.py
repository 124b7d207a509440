"""The database going away: the bot keeps answering what it can, crisis replies still go out,
and it recovers by itself when the database returns.

PostgreSQL is reached through a small TCP relay on loopback that the test cuts and restores,
so the server itself is never stopped (other work on this machine uses it)."""

from __future__ import annotations

import asyncio
import contextlib
import time

import pytest

from flows.roles import Role
from tests.harness import Harness, texts

OUTAGE_SECONDS = 5.0


class CuttableRelay:
    """Forwards TCP to PostgreSQL until cut; while cut, open connections drop and new ones fail."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.cut = False
        self.server: asyncio.Server | None = None
        self.tasks: set[asyncio.Task[None]] = set()
        self.writers: set[asyncio.StreamWriter] = set()

    async def start(self) -> int:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        return int(self.server.sockets[0].getsockname()[1])

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(Exception):
            while data := await reader.read(65536):
                if self.cut:
                    break
                writer.write(data)
                await writer.drain()
        writer.close()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self.cut:
            writer.close()
            return
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        self.writers |= {writer, up_writer}
        await asyncio.gather(self._pipe(reader, up_writer), self._pipe(up_reader, writer))

    def sever(self) -> None:
        self.cut = True
        for writer in self.writers:
            writer.close()
        self.writers.clear()

    def restore(self) -> None:
        self.cut = False

    async def stop(self) -> None:
        self.sever()
        if self.server is not None:
            self.server.close()


async def test_database_outage_crisis_replies_still_go_out_and_the_bot_recovers(
    postgres_url: str,
) -> None:
    from tests.conftest import _truncate_postgres

    await asyncio.to_thread(_truncate_postgres, postgres_url)
    relay = CuttableRelay(5432)
    port = await relay.start()
    url = postgres_url.replace("127.0.0.1:5432", f"127.0.0.1:{port}")
    harness = Harness(url)
    await harness.start()
    try:
        client = await harness.onboard(Role.CLIENT, "zh-HK")
        relay.sever()
        started = time.monotonic()
        answered = []
        while time.monotonic() - started < OUTAGE_SECONDS:
            replies = await asyncio.wait_for(client.send("/help"), 20)
            answered.append("技術問題" in texts(replies))
            crisis = await asyncio.wait_for(client.send("我想死"), 20)
            assert "18111" in texts(crisis) or "1925" in texts(crisis) or "12356" in texts(crisis)
            await asyncio.sleep(0.5)
        assert answered and all(answered), "every message got a kind answer during the outage"
        relay.restore()
        # The pool's connections died with the outage; the first message after it is
        # answered all the same (its transaction runs again on a new connection).
        assert "我可以幫你做這些事" in texts(await client.send("/help"))
        for _ in range(20):
            replies = await client.send("/help")
            if "我可以幫你做這些事" in texts(replies):
                break
            await asyncio.sleep(0.5)
        else:
            pytest.fail("the bot did not recover after the database came back")
    finally:
        await harness.stop()
        await relay.stop()


async def test_a_database_restart_while_the_bot_is_idle_loses_no_answer(postgres_url: str) -> None:
    """Every pooled connection died while no one wrote (a restart at night): the next
    message finds a dead connection, and is answered all the same."""
    from tests.conftest import _truncate_postgres

    await asyncio.to_thread(_truncate_postgres, postgres_url)
    relay = CuttableRelay(5432)
    port = await relay.start()
    harness = Harness(postgres_url.replace("127.0.0.1:5432", f"127.0.0.1:{port}"))
    await harness.start()
    try:
        client = await harness.onboard(Role.CLIENT, "zh-HK")
        relay.sever()  # the server side of every open connection goes away
        relay.restore()
        assert "我可以幫你做這些事" in texts(await client.send("/help"))
        assert "今天心情如何" in texts(await client.send("/checkin"))
    finally:
        await harness.stop()
        await relay.stop()
