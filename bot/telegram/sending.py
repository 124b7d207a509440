"""The one sending path: deliver, then remember where cards and relayed messages landed,
confirm relayed messages to their senders (or tell them one failed), and handle a person
who blocked the bot.

Every message of the bot goes out through ``Sender.send``, whether an update, the clock or
an operator's command caused it, so what a delivery leaves behind is recorded once.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from telegram import Bot

from bot.applying import Acting, Appliers
from bot.escalations import STAFF_ROLES, CaseChanged, Escalations
from bot.host import Host
from bot.i18n import Translator
from bot.storage import rooms as room_store
from bot.storage.models import EscalationCard, Person, RelayMessage, RoomCopy, utcnow
from bot.telegram.fanout import RoomFanout
from bot.telegram.outbox import Delivery, Outbox
from bot.telegram.render import CardTag, CaseTag, Outgoing, RelayTag, RoomTag, SendText
from flows.text import N_, Msg

log = logging.getLogger(__name__)


class Sender:
    def __init__(
        self,
        host: Host,
        appliers: Appliers,
        escalations: Escalations,
        fanout: RoomFanout | None = None,
    ) -> None:
        self.host = host
        self.appliers = appliers
        self.escalations = escalations
        self.outbox = Outbox(host.translator, self.mark_blocked)
        self.fanout = fanout or RoomFanout(host.settings.room_copies_per_second)

    async def send(self, bot: Bot, outgoing: Sequence[Outgoing]) -> list[Delivery]:
        """Deliver, then record cards and relays and send what their delivery calls for.
        Room copies go last, paced below everything else (``bot.telegram.fanout``)."""
        copies = [o for o in outgoing if isinstance(getattr(o, "tag", None), RoomTag)]
        rest = [o for o in outgoing if not isinstance(getattr(o, "tag", None), RoomTag)]
        deliveries = await self._send(bot, rest)
        if copies:
            deliveries += await self._send_copies(bot, copies)
        return deliveries

    async def _send_copies(self, bot: Bot, copies: Sequence[Outgoing]) -> list[Delivery]:
        """Each room message's copies, in the room's order, its readers side by side; then
        where they landed is kept, in one transaction."""
        by_message: dict[tuple[int, int], dict[int, list[Outgoing]]] = {}
        for request in copies:
            tag = getattr(request, "tag", None)
            assert isinstance(tag, RoomTag)
            readers = by_message.setdefault((tag.room_id, tag.seq), {})
            readers.setdefault(tag.person_id, []).append(request)

        async def send(batch: Sequence[Outgoing]) -> list[object]:
            return list(await self.outbox.deliver(bot, batch))

        deliveries: list[Delivery] = []
        for (room_id, seq), readers in by_message.items():
            sent = await self.fanout.deliver(room_id, seq, list(readers.values()), send)
            deliveries += [d for d in sent if isinstance(d, Delivery)]
        now = self.host.clock()
        landed = [
            RoomCopy(
                chat_id=int(getattr(d.request, "chat_id", 0)),
                message_id=d.message_id,
                room_message_id=tag.room_message_id,
                person_id=tag.person_id,
                at=now,
            )
            for d in deliveries
            if d.message_id is not None
            and isinstance(tag := getattr(d.request, "tag", None), RoomTag)
        ]
        if landed:
            try:
                async with self.host.db.transaction() as session:
                    session.add_all(landed)
            except SQLAlchemyError as exc:
                log.warning("could not record room copies: %s", type(exc).__name__)
        return deliveries

    async def _send(self, bot: Bot, outgoing: Sequence[Outgoing]) -> list[Delivery]:
        deliveries = await self.outbox.deliver(bot, outgoing)
        self.fanout.others_sent(sum(1 for d in deliveries if d.message_id is not None))
        for delivery in deliveries:
            if delivery.failed:
                self.host.metrics.send_failures.labels(type(delivery.request).__name__).inc()
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
                await room_store.drop(session, person.id)  # quietly: nobody is told
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
        """Remember where cards and escalation messages landed; return what their delivery
        calls for (``after_delivery``)."""
        landed, follow_up = after_delivery(deliveries, self.host.translator)
        if landed:
            async with self.host.db.transaction() as session:
                session.add_all([_row(where) for where in landed])
        return follow_up


@dataclass(frozen=True, slots=True)
class CardLanded:
    """An escalation card in a staff member's chat: edited when the chat is taken or closed."""

    case_id: int
    staff_id: int
    chat_id: int
    message_id: int


@dataclass(frozen=True, slots=True)
class Belongs:
    """A message in a worker's chat that belongs to one escalation, so a Telegram reply to
    it goes to that escalation's person (``direction``: context | to_worker)."""

    case_id: int
    chat_id: int
    message_id: int
    direction: str


def after_delivery(
    deliveries: Sequence[Delivery], translator: Translator
) -> tuple[list[CardLanded | Belongs], list[Outgoing]]:
    """What delivered messages leave behind: where cards and escalation messages landed, and
    what goes out next (a relayed message confirmed to its sender, or its failure told).
    Touches no storage, so the core player shares it."""
    landed: list[CardLanded | Belongs] = []
    follow_up: list[Outgoing] = []
    for delivery in deliveries:
        tag = getattr(delivery.request, "tag", None)
        chat_id = int(getattr(delivery.request, "chat_id", 0))
        message_id = delivery.message_id
        if isinstance(tag, CardTag) and message_id is not None:
            landed.append(CardLanded(tag.case_id, tag.staff_id, chat_id, message_id))
        elif isinstance(tag, CaseTag) and message_id is not None:
            landed.append(Belongs(tag.case_id, chat_id, message_id, "context"))
        elif isinstance(tag, RelayTag):
            if delivery.failed:
                text = translator.render(Msg(N_("relay.failed")), tag.sender_locale)
                follow_up.append(SendText(tag.sender_chat_id, text))
                continue
            if tag.to_worker and message_id is not None:
                landed.append(Belongs(tag.case_id, chat_id, message_id, "to_worker"))
            if tag.confirm is not None:
                follow_up.append(
                    SendText(tag.sender_chat_id, tag.confirm, tag=CaseTag(tag.case_id))
                )
    return landed, follow_up


def _row(where: CardLanded | Belongs) -> EscalationCard | RelayMessage:
    if isinstance(where, CardLanded):
        return EscalationCard(
            escalation_id=where.case_id,
            staff_id=where.staff_id,
            chat_id=where.chat_id,
            message_id=where.message_id,
        )
    return RelayMessage(
        escalation_id=where.case_id,
        direction=where.direction,
        worker_chat_id=where.chat_id,
        worker_message_id=where.message_id,
        at=utcnow(),
    )
