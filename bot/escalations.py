"""Escalation to human peer workers: opening, cards, the atomic claim, the relay, the clocks.

Everything here runs inside the dispatcher's (or the tick's) transaction and returns the
Bot API requests to send after commit. Texts are rendered in each reader's own language.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.storage import checkins, safety_plans
from bot.storage.models import (
    Escalation,
    EscalationCard,
    EscalationEvent,
    EscalationReason,
    Person,
    RelayMessage,
)
from bot.telegram.incoming import Incoming
from bot.telegram.render import AnswerButton, CopyMessage, EditText, Outgoing, SendText
from flows.effects import Choice
from flows.escalation import (
    OUTCOMES,
    SOURCE_LABELS,
    SOURCE_TIERS,
    TIER_LABELS,
    Lifecycle,
    Tier,
    higher,
    may_see,
    route_worker_message,
)
from flows.family import CONCERN_SIGNS
from flows.people import Role
from flows.questions import LANGUAGE_NAMES
from flows.text import N_, Lines, Msg, Raw, Text, msg

if TYPE_CHECKING:
    from bot.telegram.dispatch import Dispatcher

log = logging.getLogger(__name__)

STAFF_ROLES = (Role.PEER_WORKER.value, Role.SUPERVISOR.value)
HELD = ("claimed", "active")
_ALIAS_LETTERS = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"


def client_alias() -> str:
    """A short neutral alias for a client, the same in every language (e.g. "K7Q2X").

    Five characters give 32**5 (33 million) aliases, so a new client finds a free one at
    once even in a national program; four ran out near a million.
    """
    return "".join(secrets.choice(_ALIAS_LETTERS) for _ in range(5))


class Escalations:
    def __init__(self, dispatcher: Dispatcher) -> None:
        self.d = dispatcher
        self.settings = dispatcher.settings

    # -- rendering helpers ----------------------------------------------------------------

    def _text(self, person: Person, text: Text) -> str:
        return self.d.translator.render(text, person.locale, person.timezone)

    def _send(
        self, person: Person, text: Text, choices: tuple[Choice, ...] = (), columns: int = 1
    ) -> SendText:
        markup = (
            self.d.renderer.inline_keyboard(
                person.telegram_user_id, 0, choices, columns, person.locale
            )
            if choices
            else None
        )
        return SendText(person.chat_id, self._text(person, text), markup)

    def limits(self, tier: Tier) -> timedelta:
        minutes = {
            Tier.URGENT: self.settings.sla_urgent_minutes,
            Tier.SAME_DAY: self.settings.sla_same_day_minutes,
            Tier.ROUTINE: self.settings.sla_routine_minutes,
        }[tier]
        return timedelta(minutes=minutes)

    # -- queries -----------------------------------------------------------------------------

    async def open_for(self, session: AsyncSession, client_id: int) -> Escalation | None:
        return await session.scalar(
            select(Escalation).where(
                Escalation.client_id == client_id, Escalation.resolved_at.is_(None)
            )
        )

    async def holding(self, session: AsyncSession, worker_id: int) -> list[Escalation]:
        return list(
            (
                await session.scalars(
                    select(Escalation)
                    .where(Escalation.claimed_by == worker_id, Escalation.state.in_(HELD))
                    .order_by(Escalation.claimed_at)
                )
            ).all()
        )

    async def on_duty(self, session: AsyncSession) -> list[Person]:
        return list(
            (
                await session.scalars(
                    select(Person).where(
                        Person.role.in_(STAFF_ROLES),
                        Person.on_duty.is_(True),
                        Person.onboarded_at.is_not(None),
                        Person.blocked_at.is_(None),
                    )
                )
            ).all()
        )

    async def supervisors(self, session: AsyncSession) -> list[Person]:
        return list(
            (
                await session.scalars(
                    select(Person).where(
                        Person.role == Role.SUPERVISOR.value,
                        Person.onboarded_at.is_not(None),
                        Person.blocked_at.is_(None),
                    )
                )
            ).all()
        )

    async def _event(
        self,
        session: AsyncSession,
        esc: Escalation,
        kind: str,
        actor: Person | None,
        now: datetime,
        **detail: Any,
    ) -> None:
        session.add(
            EscalationEvent(
                escalation_id=esc.id,
                kind=kind,
                actor_id=actor.id if actor else None,
                detail=detail,
                at=now,
            )
        )

    async def _reasons(self, session: AsyncSession, esc: Escalation) -> list[EscalationReason]:
        return list(
            (
                await session.scalars(
                    select(EscalationReason)
                    .where(EscalationReason.escalation_id == esc.id)
                    .order_by(EscalationReason.id)
                )
            ).all()
        )

    # -- opening -----------------------------------------------------------------------------

    async def raise_for(
        self,
        session: AsyncSession,
        client: Person,
        source: str,
        now: datetime,
        detail: dict[str, Any] | None = None,
        from_person: Person | None = None,
        tell_client: bool = True,
    ) -> list[Outgoing]:
        """Open an escalation for ``client``, or add this reason to the open one."""
        tier = SOURCE_TIERS[source]
        esc = await self.open_for(session, client.id)
        out: list[Outgoing] = []
        if esc is None:
            esc = Escalation(
                client_id=client.id,
                tier=tier.value,
                state="open",
                opened_at=now,
                claim_due_at=now + self.limits(tier),
            )
            session.add(esc)
            await session.flush()
            await self._event(session, esc, "opened", from_person, now, source=source)
            new = True
        else:
            Lifecycle.after(esc.state, "add_reason")
            new = False
            raised = higher(Tier(esc.tier), tier)
            if raised != Tier(esc.tier):
                esc.tier = raised.value
                if esc.state == "open":
                    esc.claim_due_at = min(esc.claim_due_at or now, now + self.limits(raised))
                await self._event(session, esc, "tier_raised", from_person, now, tier=raised.value)
            await self._event(session, esc, "reason_added", from_person, now, source=source)
        session.add(
            EscalationReason(
                escalation_id=esc.id,
                source=source,
                tier=tier.value,
                detail=detail or {},
                from_person_id=from_person.id if from_person else None,
                at=now,
            )
        )
        await session.flush()
        if new or (esc.state == "open" and tier is Tier.URGENT):
            out += await self._notify(session, esc, client, now, source)
        if new and client.role == Role.CLIENT.value:
            out += await self.d.family.alert_relatives(session, client)
        elif esc.state in HELD and esc.claimed_by is not None:
            worker = await session.get(Person, esc.claimed_by)
            if worker is not None:
                out.append(
                    self._send(
                        worker,
                        msg(
                            N_("escalation.new_reason"),
                            client=Raw(client.alias or "?"),
                            reason=Msg(SOURCE_LABELS[source]),
                        ),
                    )
                )
        if tell_client and source == "request":
            out += await self._tell_client_waiting(session, esc, client)
        return out

    async def _tell_client_waiting(
        self, session: AsyncSession, esc: Escalation, client: Person
    ) -> list[Outgoing]:
        if esc.state in HELD:
            return [self._send(client, Msg(N_("escalation.already_with_person")))]
        if not await self.on_duty(session):
            text: Text = Msg(N_("escalation.nobody_on_duty"))
            if self.settings.after_hours_note:
                text = Lines(
                    (Msg(N_("escalation.nobody_on_duty")), Raw(self.settings.after_hours_note))
                )
            return [self._send(client, text)]
        return [
            self._send(client, msg(N_("escalation.requested"), within=self.limits(Tier(esc.tier))))
        ]

    def _card_text(
        self, esc: Escalation, client: Person, reasons: Sequence[EscalationReason], now: datetime
    ) -> Lines:
        parts: list[Msg | Raw] = [
            msg(
                N_("escalation.card"),
                tier=Msg(TIER_LABELS[Tier(esc.tier)]),
                id=esc.id,
                client=Raw(client.alias or "?"),
                language=Raw(LANGUAGE_NAMES.get(client.locale, client.locale)),
                waited=max(now - esc.opened_at, timedelta(seconds=1)),
            ),
        ]
        for reason in reasons[-3:]:
            parts.append(
                msg(N_("escalation.card.reason"), reason=Msg(SOURCE_LABELS[reason.source]))
            )
        return Lines(tuple(parts))

    async def _notify(
        self, session: AsyncSession, esc: Escalation, client: Person, now: datetime, source: str
    ) -> list[Outgoing]:
        """Cards to every on-duty worker (and supervisors for urgent ones)."""
        staff = {p.id: p for p in await self.on_duty(session)}
        supervisors = await self.supervisors(session)
        if esc.tier == Tier.URGENT.value or not staff:
            staff.update({p.id: p for p in supervisors})
        reasons = await self._reasons(session, esc)
        out: list[Outgoing] = []
        for member in staff.values():
            text = self._card_text(esc, client, reasons, now)
            if (
                not any(p.id == member.id for p in await self.on_duty(session))
                and member.role == Role.SUPERVISOR.value
            ):
                text = Lines((*text.parts, Msg(N_("escalation.card.nobody_on_duty"))))
            card = self._send(
                member, text, (Choice(Msg(N_("escalation.claim")), f"/claim {esc.id}"),)
            )
            out.append(replace(card, tag=("card", esc.id, member.id)))
        return out

    # -- claiming ----------------------------------------------------------------------------

    async def claim(
        self,
        session: AsyncSession,
        worker: Person,
        escalation_id: int,
        now: datetime,
        incoming: Incoming | None = None,
        assigned_by: Person | None = None,
    ) -> list[Outgoing]:
        """Exactly one worker wins: a single conditional UPDATE decides."""
        esc = await session.get(Escalation, escalation_id)
        if esc is None:
            return [self._toast_or_text(worker, incoming, Msg(N_("escalation.not_found")))]
        active = (
            await session.scalar(
                select(func.count())
                .select_from(Escalation)
                .where(Escalation.claimed_by == worker.id, Escalation.state.in_(HELD))
            )
            or 0
        )
        if active >= self.settings.max_active_chats:
            return [
                self._toast_or_text(
                    worker,
                    incoming,
                    msg(N_("escalation.limit"), limit=self.settings.max_active_chats),
                )
            ]
        allowed_from = ("open",) if assigned_by is None else ("open", "claimed", "active")
        won = await session.scalar(
            update(Escalation)
            .where(Escalation.id == escalation_id, Escalation.state.in_(allowed_from))
            .values(
                state="claimed",
                claimed_by=worker.id,
                claimed_at=now,
                claim_due_at=None,
                reply_due_at=now + timedelta(minutes=self.settings.reply_reminder_minutes),
                reminders=0,
            )
            .returning(Escalation.id)
        )
        if won is None:
            await session.refresh(esc)
            holder = await session.get(Person, esc.claimed_by) if esc.claimed_by else None
            text = (
                msg(N_("escalation.already_taken"), worker=Raw(holder.alias or "?"))
                if holder
                else Msg(N_("escalation.closed"))
            )
            return [self._toast_or_text(worker, incoming, text)]
        await session.refresh(esc)
        await self._event(
            session,
            esc,
            "assigned" if assigned_by else "claimed",
            assigned_by or worker,
            now,
            worker=worker.id,
        )
        worker.selected_escalation_id = esc.id
        client = await session.get(Person, esc.client_id)
        assert client is not None
        out: list[Outgoing] = []
        if incoming is not None and incoming.callback_query_id:
            out.append(AnswerButton(incoming.callback_query_id))
        out += await self._update_cards(session, esc, client, worker, now)
        out += await self.context_card(session, esc, client, worker, now)
        out.append(
            self._send(client, msg(N_("escalation.joined"), worker=Raw(worker.alias or "?")))
        )
        return out

    def _toast_or_text(self, person: Person, incoming: Incoming | None, text: Text) -> Outgoing:
        if incoming is not None and incoming.callback_query_id:
            return AnswerButton(incoming.callback_query_id, self._text(person, text)[:190])
        return self._send(person, text)

    async def _update_cards(
        self,
        session: AsyncSession,
        esc: Escalation,
        client: Person,
        worker: Person | None,
        now: datetime,
    ) -> list[Outgoing]:
        cards = (
            await session.scalars(
                select(EscalationCard).where(EscalationCard.escalation_id == esc.id)
            )
        ).all()
        out: list[Outgoing] = []
        for card in cards:
            staff = await session.get(Person, card.staff_id)
            if staff is None:
                continue
            if worker is not None:
                text = msg(
                    N_("escalation.card.taken"),
                    id=esc.id,
                    client=Raw(client.alias or "?"),
                    worker=Raw(worker.alias or "?"),
                )
            else:
                text = msg(N_("escalation.card.closed"), id=esc.id, client=Raw(client.alias or "?"))
            out.append(EditText(card.chat_id, card.message_id, self._text(staff, text)))
            await session.delete(card)
        return out

    def _reason_detail(self, reason: EscalationReason, reader: Person) -> str:
        """Evidence a worker can act on: flag answers, crisis categories, a relative's account."""
        detail = reason.detail
        if reason.source == "family":
            signs = dict(CONCERN_SIGNS)
            parts = [
                self._text(reader, Msg(signs[s])) for s in detail.get("signs", []) if s in signs
            ]
            if detail.get("note"):
                parts.append(f"“{self.d.cipher.decrypt(str(detail['note']))}”")
            about = (
                N_("context.about_relative")
                if detail.get("about") == "relative"
                else N_("context.about_caregiver")
            )
            return self._text(reader, Msg(about)) + " " + "; ".join(parts)
        evidence = detail.get("evidence") or detail.get("categories") or []
        return ", ".join(map(str, evidence))

    async def context_card(
        self, session: AsyncSession, esc: Escalation, client: Person, worker: Person, now: datetime
    ) -> list[Outgoing]:
        """What the worker needs to start well: reasons, the last week, signs, plan, past notes."""
        await self.d.audit(session, worker, "view_context", client.id)
        reasons = await self._reasons(session, esc)
        lines: list[Msg | Raw] = [
            msg(
                N_("context.header"),
                id=esc.id,
                client=Raw(client.alias or "?"),
                language=Raw(LANGUAGE_NAMES.get(client.locale, client.locale)),
                tier=Msg(TIER_LABELS[Tier(esc.tier)]),
            ),
        ]
        for reason in reasons:
            lines.append(
                msg(
                    N_("context.reason"),
                    reason=Msg(SOURCE_LABELS[reason.source]),
                    detail=Raw(self._reason_detail(reason, worker)[:600] or "—"),
                )
            )
        today = self.d.local_today(client, now)
        week = (await checkins.records(session, [client.id], today - timedelta(days=7)))[client.id]
        lines.append(Msg(N_("context.week")))
        if not week:
            lines.append(Msg(N_("context.none")))
        for record in week:
            lines.append(
                Raw(
                    f"{record.day:%m-%d}: mood {record.mood or '—'}, sleep {record.sleep if record.sleep is not None else '—'}, "
                    f"meds {record.medication or '—'}, signs {record.signs_yes if record.signs_yes is not None else '—'}"
                )
            )
        signs = await checkins.active_signs(session, client.id)
        lines.append(Msg(N_("context.signs")))
        if signs:
            lines.extend(Raw(f"• {self.d.cipher.decrypt(s.text)}") for s in signs)
        else:
            lines.append(Msg(N_("context.none")))
        plan = await safety_plans.load(session, client.id, self.d.cipher)
        lines.append(Msg(N_("context.plan")))
        if plan:
            lines.extend(Raw(f"• {text}") for text in plan.values())
        else:
            lines.append(Msg(N_("context.none")))
        past = (
            await session.scalars(
                select(Escalation)
                .where(
                    Escalation.client_id == client.id,
                    Escalation.resolved_at.is_not(None),
                    Escalation.note.is_not(None),
                )
                .order_by(Escalation.resolved_at.desc())
                .limit(3)
            )
        ).all()
        lines.append(Msg(N_("context.notes")))
        if past:
            lines.extend(
                Raw(f"• {p.resolved_at:%Y-%m-%d}: {self.d.cipher.decrypt(p.note or '')}"[:400])
                for p in past
            )
        else:
            lines.append(Msg(N_("context.none")))
        lines.append(Msg(N_("context.how_to_reply")))
        out: list[Outgoing] = [self._send(worker, Lines(tuple(lines)))]
        history = (await checkins.records(session, [client.id], today - timedelta(days=29)))[
            client.id
        ]
        out.append(await self.d.weekly_photo(worker, history, today, about=client))
        return out

    # -- release, transfer, assign, close ---------------------------------------------------

    async def release(
        self,
        session: AsyncSession,
        worker: Person,
        esc: Escalation,
        now: datetime,
        reason: str = "released",
    ) -> list[Outgoing]:
        Lifecycle.after(esc.state, "release")
        esc.state = "open"
        esc.claimed_by = None
        esc.reply_due_at = None
        esc.claim_due_at = now + self.limits(Tier(esc.tier))
        esc.reminders = 0
        if worker.selected_escalation_id == esc.id:
            worker.selected_escalation_id = None
        await self._event(session, esc, reason, worker, now)
        client = await session.get(Person, esc.client_id)
        assert client is not None
        out = [self._send(client, Msg(N_("escalation.released_client")))]
        return out + await self._notify(session, esc, client, now, "request")

    async def transfer(
        self, session: AsyncSession, worker: Person, esc: Escalation, alias: str, now: datetime
    ) -> list[Outgoing]:
        target = await session.scalar(
            select(Person).where(
                func.lower(Person.alias) == alias.strip().lower(), Person.role.in_(STAFF_ROLES)
            )
        )
        if target is None or target.id == worker.id:
            return [
                self._send(
                    worker,
                    msg(N_("escalation.no_such_worker"), alias=Raw(alias.strip()[:32] or "?")),
                )
            ]
        Lifecycle.after(esc.state, "transfer")
        esc.claimed_by = target.id
        esc.state = "claimed"
        esc.claimed_at = now
        esc.reply_due_at = now + timedelta(minutes=self.settings.reply_reminder_minutes)
        if worker.selected_escalation_id == esc.id:
            worker.selected_escalation_id = None
        target.selected_escalation_id = esc.id
        await self._event(session, esc, "transferred", worker, now, to=target.id)
        client = await session.get(Person, esc.client_id)
        assert client is not None
        out: list[Outgoing] = [
            self._send(
                worker,
                msg(
                    N_("escalation.transferred"),
                    client=Raw(client.alias or "?"),
                    worker=Raw(target.alias or "?"),
                ),
            )
        ]
        out += await self.context_card(session, esc, client, target, now)
        out.append(
            self._send(client, msg(N_("escalation.joined"), worker=Raw(target.alias or "?")))
        )
        return out

    async def resolve(
        self,
        session: AsyncSession,
        worker: Person,
        escalation_id: int,
        outcome: str,
        note: str,
        now: datetime,
    ) -> list[Outgoing]:
        esc = await session.get(Escalation, escalation_id)
        if esc is None or esc.claimed_by != worker.id or esc.state not in HELD:
            return [self._send(worker, Msg(N_("escalation.not_found")))]
        Lifecycle.after(esc.state, "resolve")
        esc.state = "resolved"
        esc.resolved_at = now
        esc.outcome = outcome if outcome in OUTCOMES or outcome == "client_blocked" else "resolved"
        esc.note = self.d.cipher.encrypt(note) if note else None
        esc.reply_due_at = None
        if worker.selected_escalation_id == esc.id:
            worker.selected_escalation_id = None
        await self._event(session, esc, "resolved", worker, now, outcome=esc.outcome)
        client = await session.get(Person, esc.client_id)
        assert client is not None
        out: list[Outgoing] = [
            self._send(worker, msg(N_("escalation.closed_by_you"), client=Raw(client.alias or "?")))
        ]
        if outcome != "client_blocked":
            out.append(
                self._send(client, msg(N_("escalation.goodbye"), worker=Raw(worker.alias or "?")))
            )
            out.append(
                self._send(
                    client,
                    Msg(N_("escalation.rate")),
                    tuple(Choice(Raw(str(n)), f"/rate {esc.id} {n}") for n in range(1, 6)),
                    5,
                )
            )
        return out

    async def rate(
        self, session: AsyncSession, client: Person, escalation_id: int, rating: int, now: datetime
    ) -> list[Outgoing]:
        esc = await session.get(Escalation, escalation_id)
        if esc is None or esc.client_id != client.id or esc.state != "resolved":
            return [self._send(client, Msg(N_("input.stale_button")))]
        esc.rating = rating
        await self._event(session, esc, "rated", client, now, rating=rating)
        return [self._send(client, Msg(N_("escalation.thanks_for_rating")))]

    # -- the relay ---------------------------------------------------------------------------

    async def relay_from_client(
        self, session: AsyncSession, client: Person, incoming: Incoming, now: datetime
    ) -> list[Outgoing]:
        esc = await self.open_for(session, client.id)
        if esc is None or esc.claimed_by is None or esc.state not in HELD:
            return []
        worker = await session.get(Person, esc.claimed_by)
        if worker is None:
            return []
        label = Raw(client.alias or "?")
        tag = ("relay", esc.id, "to_worker", client.chat_id)
        if incoming.kind == "text":
            text = self._text(
                worker, msg(N_("relay.from_client"), client=label, text=Raw(incoming.text))
            )
            return [SendText(worker.chat_id, text, tag=tag)]
        header = self._text(worker, msg(N_("relay.media_from_client"), client=label))
        return [
            SendText(worker.chat_id, header, tag=tag),
            CopyMessage(worker.chat_id, client.chat_id, incoming.message_id or 0, tag=tag),
        ]

    async def relay_from_worker(
        self, session: AsyncSession, worker: Person, incoming: Incoming, now: datetime
    ) -> list[Outgoing]:
        held = await self.holding(session, worker.id)
        replied_to = None
        if incoming.reply_to_message_id is not None:
            relayed = await session.scalar(
                select(RelayMessage.escalation_id).where(
                    RelayMessage.worker_chat_id == worker.chat_id,
                    RelayMessage.worker_message_id == incoming.reply_to_message_id,
                )
            )
            replied_to = relayed
        route = route_worker_message(
            replied_to, worker.selected_escalation_id, [e.id for e in held]
        )
        if route.escalation_id is None:
            assert route.problem is not None
            return [
                self._send(
                    worker,
                    Msg(route.problem),
                    self._switch_choices(held, await self._clients(session, held)),
                )
            ]
        esc = next(e for e in held if e.id == route.escalation_id)
        client = await session.get(Person, esc.client_id)
        assert client is not None
        if esc.state == "claimed":
            esc.state = Lifecycle.after(esc.state, "reply")
            await self._event(session, esc, "first_reply", worker, now)
        esc.reply_due_at = None
        esc.reminders = 0
        tag = ("relay", esc.id, "to_client", worker.chat_id)
        if incoming.kind == "text":
            text = self._text(
                client,
                msg(
                    N_("relay.from_worker"),
                    worker=Raw(worker.alias or "?"),
                    text=Raw(incoming.text),
                ),
            )
            return [SendText(client.chat_id, text, tag=tag)]
        header = self._text(
            client, msg(N_("relay.media_from_worker"), worker=Raw(worker.alias or "?"))
        )
        return [
            SendText(client.chat_id, header, tag=tag),
            CopyMessage(client.chat_id, worker.chat_id, incoming.message_id or 0, tag=tag),
        ]

    async def _clients(
        self, session: AsyncSession, escalations: Sequence[Escalation]
    ) -> dict[int, Person]:
        ids = [e.client_id for e in escalations]
        if not ids:
            return {}
        return {
            p.id: p for p in (await session.scalars(select(Person).where(Person.id.in_(ids)))).all()
        }

    def _switch_choices(
        self, held: Sequence[Escalation], clients: dict[int, Person]
    ) -> tuple[Choice, ...]:
        return tuple(
            Choice(
                Raw(f"#{e.id} · {clients[e.client_id].alias if e.client_id in clients else '?'}"),
                f"/switch {e.id}",
            )
            for e in held
        )

    # -- staff commands ------------------------------------------------------------------------

    async def staff_action(
        self,
        session: AsyncSession,
        staff: Person,
        action: str,
        argument: str,
        now: datetime,
        incoming: Incoming,
    ) -> list[Outgoing]:
        role = Role(staff.role)
        if action == "claim":
            if not argument.strip().isdigit():
                return [self._send(staff, Msg(N_("escalation.claim_usage")))]
            return await self.claim(session, staff, int(argument), now, incoming)
        if action == "queue":
            return await self._queue(session, staff, now, only_overdue=False)
        if action == "overdue":
            return await self._queue(session, staff, now, only_overdue=True)
        held = await self.holding(session, staff.id)
        clients = await self._clients(session, held)
        if action == "mine":
            if not held:
                return [self._send(staff, Msg(N_("escalation.mine.none")))]
            lines = [Msg(N_("escalation.mine"))] + [
                Raw(
                    f"#{e.id} · {clients[e.client_id].alias} · {e.tier}"
                    + (" ◀" if e.id == staff.selected_escalation_id else "")
                )
                for e in held
            ]
            return [self._send(staff, Lines(tuple(lines)), self._switch_choices(held, clients))]
        if action == "switch":
            wanted = argument.strip().lstrip("#")
            match = [
                e
                for e in held
                if str(e.id) == wanted
                or (
                    clients.get(e.client_id)
                    and (clients[e.client_id].alias or "").lower() == wanted.lower()
                )
            ]
            if not match:
                if not held:
                    return [self._toast_or_text(staff, incoming, Msg(N_("relay.no_chat")))]
                return [
                    self._send(
                        staff, Msg(N_("relay.choose_chat")), self._switch_choices(held, clients)
                    )
                ]
            staff.selected_escalation_id = match[0].id
            client = clients[match[0].client_id]
            out: list[Outgoing] = (
                [AnswerButton(incoming.callback_query_id)] if incoming.callback_query_id else []
            )
            return [
                *out,
                self._send(
                    staff,
                    msg(N_("relay.selected"), client=Raw(client.alias or "?"), id=match[0].id),
                ),
            ]
        if action == "assign":
            parts = argument.split()
            if role is not Role.SUPERVISOR or len(parts) != 2 or not parts[0].lstrip("#").isdigit():
                return [self._send(staff, Msg(N_("escalation.assign_usage")))]
            target = await session.scalar(
                select(Person).where(
                    func.lower(Person.alias) == parts[1].lower(), Person.role.in_(STAFF_ROLES)
                )
            )
            if target is None:
                return [
                    self._send(
                        staff, msg(N_("escalation.no_such_worker"), alias=Raw(parts[1][:32]))
                    )
                ]
            out = await self.claim(
                session, target, int(parts[0].lstrip("#")), now, None, assigned_by=staff
            )
            return [
                *out,
                self._send(
                    staff,
                    msg(
                        N_("escalation.assigned"),
                        id=int(parts[0].lstrip("#")),
                        worker=Raw(target.alias or "?"),
                    ),
                ),
            ]
        # release, transfer, note act on the chat the worker's messages go to
        route = route_worker_message(None, staff.selected_escalation_id, [e.id for e in held])
        if route.escalation_id is None:
            assert route.problem is not None
            return [self._send(staff, Msg(route.problem), self._switch_choices(held, clients))]
        esc = next(e for e in held if e.id == route.escalation_id)
        if action == "release":
            return [
                *await self.release(session, staff, esc, now),
                self._send(
                    staff,
                    msg(
                        N_("escalation.you_released"),
                        client=Raw(clients[esc.client_id].alias or "?"),
                    ),
                ),
            ]
        if action == "transfer":
            if not argument.strip():
                return [self._send(staff, Msg(N_("escalation.transfer_usage")))]
            return await self.transfer(session, staff, esc, argument, now)
        if action == "note":
            if not argument.strip():
                return [self._send(staff, Msg(N_("escalation.note_usage")))]
            existing = self.d.cipher.decrypt(esc.note) if esc.note else ""
            combined = (existing + "\n" if existing else "") + argument.strip()[:2000]
            esc.note = self.d.cipher.encrypt(combined)
            await self._event(session, esc, "note", staff, now)
            return [self._send(staff, Msg(N_("escalation.note_saved")))]
        raise AssertionError(f"unknown staff action {action}")

    async def _queue(
        self, session: AsyncSession, staff: Person, now: datetime, only_overdue: bool
    ) -> list[Outgoing]:
        await self.d.audit(session, staff, "view_overdue" if only_overdue else "view_queue", None)
        role = Role(staff.role)
        query = (
            select(Escalation)
            .where(Escalation.resolved_at.is_(None))
            .order_by(Escalation.opened_at)
        )
        if role is not Role.SUPERVISOR:
            query = query.where((Escalation.state == "open") | (Escalation.claimed_by == staff.id))
        rows = [
            e
            for e in (await session.scalars(query)).all()
            if may_see(role, staff.id, e.state, e.claimed_by)
        ]
        if only_overdue:
            rows = [
                e
                for e in rows
                if (e.claim_due_at and e.claim_due_at <= now)
                or (e.reply_due_at and e.reply_due_at <= now)
            ]
        if not rows:
            empty = (
                N_("escalation.queue.empty_overdue")
                if only_overdue
                else N_("escalation.queue.empty")
            )
            return [self._send(staff, Msg(empty))]
        clients = await self._clients(session, rows)
        workers = (
            {
                p.id: p
                for p in (
                    await session.scalars(
                        select(Person).where(
                            Person.id.in_([e.claimed_by for e in rows if e.claimed_by])
                        )
                    )
                ).all()
            }
            if any(e.claimed_by for e in rows)
            else {}
        )
        heading = N_("escalation.queue.overdue") if only_overdue else N_("escalation.queue")
        lines: list[Msg | Raw] = [Msg(heading)]
        choices: list[Choice] = []
        for e in rows[:20]:
            holder = workers.get(e.claimed_by or -1)
            lines.append(
                msg(
                    N_("escalation.queue.line"),
                    id=e.id,
                    tier=Msg(TIER_LABELS[Tier(e.tier)]),
                    client=Raw(clients[e.client_id].alias or "?"),
                    waited=max(now - e.opened_at, timedelta(seconds=1)),
                    state=Raw((holder.alias or "?") if holder else "—"),
                )
            )
            if e.state == "open":
                choices.append(
                    Choice(msg(N_("escalation.claim_numbered"), id=e.id), f"/claim {e.id}")
                )
        return [self._send(staff, Lines(tuple(lines)), tuple(choices), 2)]

    # -- blocked people --------------------------------------------------------------------------

    async def person_unreachable(
        self, session: AsyncSession, person: Person, now: datetime
    ) -> list[Outgoing]:
        """A worker who blocked the bot gives their chats back; a blocked client's chat closes."""
        out: list[Outgoing] = []
        if person.role in STAFF_ROLES:
            person.on_duty = False
            for held in await self.holding(session, person.id):
                out += await self.release(session, person, held, now, reason="worker_unreachable")
        elif person.role == Role.CLIENT.value:
            esc = await self.open_for(session, person.id)
            if esc is not None:
                if esc.state in HELD and esc.claimed_by:
                    worker = await session.get(Person, esc.claimed_by)
                    if worker is not None:
                        out.append(
                            self._send(
                                worker,
                                msg(
                                    N_("escalation.client_blocked"), client=Raw(person.alias or "?")
                                ),
                            )
                        )
                esc.state = "resolved"
                esc.resolved_at = now
                esc.outcome = "client_blocked"
                esc.reply_due_at = esc.claim_due_at = None
                await self._event(session, esc, "resolved", None, now, outcome="client_blocked")
        return out

    # -- clocks ------------------------------------------------------------------------------------

    async def tick(self, session: AsyncSession, now: datetime) -> list[Outgoing]:
        """Unclaimed past the limit → tell on-duty workers again and supervisors; claimed but
        unanswered → remind the worker, then the supervisors."""
        out: list[Outgoing] = []
        query = (
            select(Escalation)
            .where(
                Escalation.resolved_at.is_(None),
                ((Escalation.state == "open") & (Escalation.claim_due_at <= now))
                | (Escalation.state.in_(HELD) & (Escalation.reply_due_at <= now)),
            )
            .order_by(Escalation.id)
            .limit(200)
        )
        if self.d.db.is_postgres:
            query = query.with_for_update(skip_locked=True)
        for esc in (await session.scalars(query)).all():
            client = await session.get(Person, esc.client_id)
            if client is None:
                continue
            esc.reminders += 1
            await self._event(session, esc, "overdue", None, now, stage=esc.reminders)
            if esc.state == "open":
                esc.claim_due_at = now + self.limits(Tier(esc.tier))
                out += await self._notify(session, esc, client, now, "request")
                for supervisor in await self.supervisors(session):
                    out.append(
                        self._send(
                            supervisor,
                            msg(
                                N_("escalation.overdue_claim"),
                                id=esc.id,
                                client=Raw(client.alias or "?"),
                                waited=max(now - esc.opened_at, timedelta(seconds=1)),
                            ),
                        )
                    )
            else:
                worker = await session.get(Person, esc.claimed_by) if esc.claimed_by else None
                esc.reply_due_at = now + timedelta(minutes=self.settings.reply_reminder_minutes)
                if worker is not None and esc.reminders == 1:
                    out.append(
                        self._send(
                            worker,
                            msg(N_("escalation.reply_reminder"), client=Raw(client.alias or "?")),
                        )
                    )
                else:
                    for supervisor in await self.supervisors(session):
                        out.append(
                            self._send(
                                supervisor,
                                msg(
                                    N_("escalation.overdue_reply"),
                                    id=esc.id,
                                    client=Raw(client.alias or "?"),
                                    worker=Raw((worker.alias or "?") if worker else "?"),
                                ),
                            )
                        )
        return out
