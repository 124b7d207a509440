"""The one sending path: deliver, then remember where cards and relayed messages landed,
confirm relayed messages to their senders (or tell them one failed), and handle a person
who blocked the bot.

Every message of the bot goes out through ``Sender.send``, whether an update, the clock or
an operator's command caused it, so what a delivery leaves behind is recorded once.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession
from telegram import Bot

from bot.applying import Acting, Appliers
from bot.escalations import STAFF_ROLES, CaseChanged, Escalations
from bot.host import Host
from bot.storage.models import EscalationCard, Person, RelayMessage, utcnow
from bot.telegram.outbox import Delivery, Outbox
from bot.telegram.render import CardTag, CaseTag, Outgoing, RelayTag, SendText
from flows.text import N_, Msg

log = logging.getLogger(__name__)


class Sender:
    def __init__(self, host: Host, appliers: Appliers, escalations: Escalations) -> None:
        self.host = host
        self.appliers = appliers
        self.escalations = escalations
        self.outbox = Outbox(host.translator, self.mark_blocked)

    async def send(self, bot: Bot, outgoing: Sequence[Outgoing]) -> list[Delivery]:
        """Deliver, then record cards and relays and send what their delivery calls for."""
        deliveries = await self.outbox.deliver(bot, outgoing)
        if any(getattr(d.request, "tag", None) for d in deliveries):
            try:
                follow_up = await self._after_delivery(deliveries)
            except SQLAlchemyError as exc:
                log.warning("could not record deliveries: %s", type(exc).__name__)
                follow_up = []
            if follow_up:
                await self.send(bot, follow_up)
        return deliveries

    async def mark_blocked(self, bot: Bot, chat_id: int) -> None:
        """Someone blocked the bot: a worker's chats go back to the queue, and an escalation
        about them closes (its worker is told); the cards and messages that causes go out
        through the one sending path."""
        now = self.host.clock()
        try:
            async with self.host.db.transaction() as session:
                person = await session.scalar(select(Person).where(Person.chat_id == chat_id))
                if person is None or person.blocked_at is not None:
                    return
                person.blocked_at = now
                if person.role in STAFF_ROLES:
                    person.on_duty = False
                effects = await self.escalations.leaving(
                    session, person, "subject_blocked", None, now
                )
                follow_up = await self.appliers.apply(session, effects, Acting(person, now))
        except (SQLAlchemyError, CaseChanged) as exc:
            log.warning("could not mark a blocked chat: %s", type(exc).__name__)
            return
        if follow_up:
            await self.send(bot, follow_up)

    async def _after_delivery(self, deliveries: Sequence[Delivery]) -> list[Outgoing]:
        """Remember where cards and escalation messages landed; confirm relayed messages to
        their senders, or tell them one could not be delivered."""
        follow_up: list[Outgoing] = []
        async with self.host.db.transaction() as session:
            for delivery in deliveries:
                tag = getattr(delivery.request, "tag", None)
                chat_id = int(getattr(delivery.request, "chat_id", 0))
                if isinstance(tag, CardTag) and delivery.message_id is not None:
                    session.add(
                        EscalationCard(
                            escalation_id=tag.case_id,
                            staff_id=tag.staff_id,
                            chat_id=chat_id,
                            message_id=delivery.message_id,
                        )
                    )
                elif isinstance(tag, CaseTag) and delivery.message_id is not None:
                    _belongs(session, tag.case_id, chat_id, delivery.message_id, "context")
                elif isinstance(tag, RelayTag):
                    if delivery.failed:
                        text = self.host.translator.render(
                            Msg(N_("relay.failed")), tag.sender_locale
                        )
                        follow_up.append(SendText(tag.sender_chat_id, text))
                        continue
                    if tag.to_worker and delivery.message_id is not None:
                        _belongs(session, tag.case_id, chat_id, delivery.message_id, "to_worker")
                    if tag.confirm is not None:
                        follow_up.append(
                            SendText(tag.sender_chat_id, tag.confirm, tag=CaseTag(tag.case_id))
                        )
        return follow_up


def _belongs(
    session: AsyncSession, case_id: int, chat_id: int, message_id: int, direction: str
) -> None:
    """A message in a worker's chat belongs to this escalation (so a reply to it goes there)."""
    session.add(
        RelayMessage(
            escalation_id=case_id,
            direction=direction,
            worker_chat_id=chat_id,
            worker_message_id=message_id,
            at=utcnow(),
        )
    )
