"""The shell's side of coping cards: each card shown, and each "did this help?", is a row."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from bot.applying import Acting, Appliers
from bot.storage import coping
from bot.telegram.render import Outgoing
from flows.effects import CopingHelped, ShowCopingCard


class Coping:
    """Appliers for coping cards (the card itself is a message the core already said)."""

    def __init__(self, appliers: Appliers) -> None:
        appliers.register({ShowCopingCard: self._shown, CopingHelped: self._helped})

    async def _shown(
        self, session: AsyncSession, effect: ShowCopingCard, acting: Acting
    ) -> list[Outgoing]:
        assert acting.person is not None
        await coping.shown(session, acting.person.id, effect.card, effect.source, acting.now)
        return []

    async def _helped(
        self, session: AsyncSession, effect: CopingHelped, acting: Acting
    ) -> list[Outgoing]:
        assert acting.person is not None
        await coping.helped(session, acting.person.id, effect.card, effect.helped, acting.now)
        return []
