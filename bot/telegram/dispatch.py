"""The single dispatch layer: load and lock the person, run the core, apply effects, send.

Every update goes through ``Dispatcher.handle_update``. Cross-cutting concerns (the
database transaction, the person's lock and locale, bad input, the database being down)
live here once, not in each feature.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace
from datetime import date, datetime, timedelta

from sqlalchemy import update as sql_update
from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession
from telegram import ChatMember, Update
from telegram.ext import ContextTypes

from bot.config import Settings
from bot.i18n import Translator, locale_for_language_code, region_for_language_code
from bot.invites import redeem
from bot.storage import checkins, flag_store, people
from bot.storage.schedules import reschedule
from bot.storage.db import Database
from bot.storage.models import Flag, FlowState, Person, utcnow
from bot.telegram.callbacks import ButtonSigner, ForgedButton
from bot.telegram.incoming import Incoming, classify
from bot.telegram.outbox import Outbox
from bot.telegram.render import (
    AnswerButton,
    EditMarkup,
    EditText,
    Outgoing,
    Renderer,
    SendText,
    SetCommands,
)
from flows import conversation, flags, questions
from flows.effects import (
    FinishCheckin,
    ForgetPerson,
    Notice,
    RecordAnswer,
    RefreshChoices,
    RefreshCommands,
    RemoveSign,
    Say,
    SaveSign,
    ShowAnswer,
    UpdatePerson,
)
from flows.schedule import local_date
from flows.engine import Outcome
from flows.people import Event, Role, Rules
from flows.text import N_, Msg

log = logging.getLogger(__name__)

HISTORY_DAYS = 7
FLAG_WINDOW_DAYS = 28


class Dispatcher:
    def __init__(self, db: Database, translator: Translator, settings: Settings) -> None:
        self.db = db
        self.translator = translator
        self.settings = settings
        self.rules = Rules(
            quiet_start=settings.quiet_hours_start,
            quiet_end=settings.quiet_hours_end,
            max_text_length=settings.max_text_length,
        )
        self.outbox = Outbox(translator, self.mark_blocked)
        self.flag_rules = settings.flag_rules()
        self.clock: Callable[[], datetime] = utcnow  # tests move time by replacing this
        self._renderer: Renderer | None = None

    async def start(self) -> None:
        """Load the button-signing key; call once before the first update."""
        key = await self.db.signing_key(self.settings.secret_key)
        self._renderer = Renderer(self.translator, ButtonSigner(key))

    @property
    def renderer(self) -> Renderer:
        if self._renderer is None:
            raise RuntimeError("Dispatcher.start() has not been awaited")
        return self._renderer

    # -- entry point -------------------------------------------------------------------

    async def handle_update(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        if update.my_chat_member is not None:
            await self._membership_changed(update)
            return
        incoming = classify(update)
        if incoming is None:
            return
        try:
            outgoing = await self._process(incoming)
        except (DBAPIError, SQLAlchemyError, OSError, TimeoutError) as exc:
            log.warning("update %s: storage unavailable (%s)", update.update_id, type(exc).__name__)
            outgoing = self._trouble(incoming)
        await self.outbox.deliver(context.bot, outgoing)

    async def mark_blocked(self, chat_id: int) -> None:
        try:
            async with self.db.transaction() as session:
                await session.execute(
                    sql_update(Person).where(Person.chat_id == chat_id).values(blocked_at=utcnow())
                )
        except SQLAlchemyError as exc:
            log.warning("could not mark a blocked chat: %s", type(exc).__name__)

    async def _membership_changed(self, update: Update) -> None:
        change = update.my_chat_member
        assert change is not None
        if change.chat.type != "private":
            return
        blocked = change.new_chat_member.status in (ChatMember.BANNED, ChatMember.LEFT)
        async with self.db.transaction() as session:
            await session.execute(
                sql_update(Person)
                .where(Person.telegram_user_id == change.from_user.id)
                .values(blocked_at=utcnow() if blocked else None)
            )

    def _trouble(self, incoming: Incoming) -> list[Outgoing]:
        locale = locale_for_language_code(incoming.language_code)
        text = self.translator.render(Msg(N_("error.storage_unavailable")), locale)
        if incoming.callback_query_id:
            return [AnswerButton(incoming.callback_query_id, text[:190])]
        return [SendText(incoming.chat_id, text)]

    # -- one update, one transaction ----------------------------------------------------

    async def _process(self, incoming: Incoming) -> list[Outgoing]:
        now = self.clock()
        async with self.db.transaction() as session:
            loaded = await people.load_for_update(session, incoming.user_id)
            if loaded is None:
                return await self._stranger(session, incoming, now)
            person, flow_row = loaded
            if person.blocked_at is not None:
                person.blocked_at = None
            person.chat_id = incoming.chat_id
            event_or_reply = self._event(incoming, person, flow_row, now)
            if not isinstance(event_or_reply, Event):
                return event_or_reply
            event = await self._with_facts(session, event_or_reply, person, flow_row)
            event = await self._with_data(session, event, person, flow_row, now)
            outcome = conversation.handle(
                event, people.view_of(person), people.snapshot_of(flow_row), self.rules
            )
            return await self._apply(session, person, flow_row, outcome, incoming, now)

    def _event(
        self, incoming: Incoming, person: Person, flow_row: FlowState, now: datetime
    ) -> Event | list[Outgoing]:
        if incoming.kind == "callback":
            assert incoming.callback_query_id is not None
            try:
                data = self.renderer.signer.verify(incoming.user_id, incoming.callback_data)
            except ForgedButton:
                log.info("refused a button with invalid data")
                text = self.translator.render(Msg(N_("input.forged_button")), person.locale)
                return [AnswerButton(incoming.callback_query_id, text)]
            if data.kind == "command":
                return Event("command", data.value, now=now)
            if data.step != flow_row.step:
                stale = N_("checkin.closed_button") if data.value.startswith("ci:") else N_("input.stale_button")
                text = self.translator.render(Msg(stale), person.locale)
                return [AnswerButton(incoming.callback_query_id, text)]
            return Event("choice", data.value, now=now)
        if incoming.kind == "command":
            return Event("command", incoming.command, incoming.argument, now=now)
        if incoming.kind == "text":
            command = self.renderer.menu_command(person.locale, incoming.text)
            if command is not None:
                return Event("command", command, now=now)
            return Event("text", incoming.text, now=now)
        return Event(incoming.kind, now=now)

    async def _with_facts(
        self, session: AsyncSession, event: Event, person: Person, flow_row: FlowState
    ) -> Event:
        """Look up what a flow cannot know by itself, only where it needs it."""
        if flow_row.state == "alias" and event.kind == "text":
            alias = questions.parse_alias(event)
            if alias is not None and await people.alias_taken(session, alias, person.id):
                return Event(
                    event.kind, event.value, event.argument, event.now, frozenset({"alias_taken"})
                )
        return event

    async def _with_data(
        self, session: AsyncSession, event: Event, person: Person, flow_row: FlowState, now: datetime
    ) -> Event:
        """Load what a command or flow shows or continues from, and nothing for other events."""
        data: dict[str, object] = {}
        command = event.value if event.kind == "command" else None
        today = local_date(now, person.timezone)
        if command == "checkin" and person.role == Role.CLIENT.value:
            data["checkin"] = await checkins.open_today(session, person, today, now)
        if command == "history" and person.role == Role.CLIENT.value:
            since = today - timedelta(days=HISTORY_DAYS)
            rows = (await checkins.records(session, [person.id], since))[person.id]
            complete = await checkins.completed_days(session, person.id, since)
            data["history"] = [
                {"day": r.day.isoformat(), "mood": r.mood, "sleep": r.sleep,
                 "medication": r.medication, "signs_yes": r.signs_yes, "complete": r.day in complete}
                for r in rows
            ]
            data["today"] = today
        if command == "warningsigns" or (command is None and flow_row.flow == "warningsigns"):
            data["signs"] = [[s.id, s.text] for s in await checkins.active_signs(session, person.id)]
        if not data:
            return event
        return replace(event, data=data)

    async def _apply(
        self,
        session: AsyncSession,
        person: Person,
        flow_row: FlowState,
        outcome: Outcome,
        incoming: Incoming,
        now: datetime,
    ) -> list[Outgoing]:
        """Apply effects in order, rendering each message in the person's language at that point."""
        outgoing: list[Outgoing] = []
        answered = forgotten = False
        if any(isinstance(e, Say) and e.choices for e in outcome.effects):
            flow_row.step += 1
        reschedule_needed = False
        for effect in outcome.effects:
            if isinstance(effect, UpdatePerson):
                people.apply_update(person, effect, now)
                reschedule_needed |= any(
                    value is not None
                    for value in (effect.timezone, effect.checkin_time, effect.paused)
                ) or effect.onboarded
            elif isinstance(effect, RecordAnswer):
                await checkins.record(session, person.id, date.fromisoformat(effect.day), effect.field, effect.value)
            elif isinstance(effect, FinishCheckin):
                await self._finished_checkin(session, person, date.fromisoformat(effect.day), now)
            elif isinstance(effect, SaveSign):
                await checkins.save_sign(session, person.id, effect.sign_id, effect.text)
            elif isinstance(effect, RemoveSign):
                await checkins.remove_sign(session, person.id, effect.sign_id, now)
            elif isinstance(effect, RefreshChoices):
                if incoming.message_id is not None:
                    outgoing.append(
                        EditMarkup(
                            incoming.chat_id,
                            incoming.message_id,
                            self.translator.render(effect.text, person.locale, person.timezone),
                            self.renderer.inline_keyboard(
                                person.telegram_user_id, flow_row.step, effect.choices, effect.columns, person.locale
                            ),
                        )
                    )
            elif isinstance(effect, Say):
                outgoing.append(self._say(person, flow_row.step, effect))
            elif isinstance(effect, ShowAnswer):
                if incoming.message_id is not None and incoming.message_text is not None:
                    answer = self.translator.render(effect.answer, person.locale, person.timezone)
                    outgoing.append(
                        EditText(
                            incoming.chat_id,
                            incoming.message_id,
                            f"{incoming.message_text}\n\n→ {answer}",
                        )
                    )
            elif isinstance(effect, Notice) and incoming.callback_query_id:
                text = self.translator.render(effect.text, person.locale, person.timezone)
                outgoing.insert(0, AnswerButton(incoming.callback_query_id, text[:190]))
                answered = True
            elif isinstance(effect, RefreshCommands):
                outgoing.append(SetCommands(person.chat_id, Role(person.role), person.locale))
            elif isinstance(effect, ForgetPerson):
                await people.forget(session, person, flow_row)
                forgotten = True
        if not forgotten:
            people.store_snapshot(flow_row, outcome.snapshot)
            if reschedule_needed:
                await self.reschedule(session, person, now)
        return [*self._callback_ack(incoming, answered), *outgoing]

    async def reschedule(self, session: AsyncSession, person: Person, now: datetime) -> None:
        await reschedule(
            session,
            person,
            now,
            timedelta(minutes=self.settings.reminder_after_minutes),
            self.settings.weekly_summary_day,
            self.rules.is_quiet,
        )

    async def _finished_checkin(self, session: AsyncSession, person: Person, day: date, now: datetime) -> None:
        """Close today's check-in and look at it against the person's own recent baseline."""
        await checkins.finish(session, person.id, day, now)
        history = (await checkins.records(session, [person.id], day - timedelta(days=FLAG_WINDOW_DAYS)))[person.id]
        hits = flags.evaluate(history, day, self.flag_rules)
        raised = await flag_store.apply(session, person, hits, now, rules=flags.RULE_NAMES)
        if raised:
            log.info("person %s: %d early-warning flag(s) raised", person.id, len(raised))
            await self.flags_raised(session, person, raised, now)

    async def flags_raised(self, session: AsyncSession, person: Person, raised: list[Flag], now: datetime) -> None:
        """The one interface to the escalation module; flags stay listed by `tongban flags list`."""

    @staticmethod
    def _callback_ack(incoming: Incoming, answered: bool) -> list[Outgoing]:
        if incoming.callback_query_id and not answered:
            return [AnswerButton(incoming.callback_query_id)]
        return []

    def _say(self, person: Person, step: int, say: Say) -> SendText:
        locale, zone = person.locale, person.timezone
        text = self.translator.render(say.text, locale, zone)
        role = Role(person.role)
        if say.choices:
            markup = self.renderer.inline_keyboard(
                person.telegram_user_id, step, say.choices, say.columns, locale
            )
            return SendText(person.chat_id, text, markup)
        if say.menu:
            return SendText(person.chat_id, text, self.renderer.menu_keyboard(role, locale))
        return SendText(person.chat_id, text)

    # -- people without a role ------------------------------------------------------------

    async def _stranger(
        self, session: AsyncSession, incoming: Incoming, now: datetime
    ) -> list[Outgoing]:
        """Someone with no role: only a valid invite gets them in; otherwise nothing is stored."""
        locale = locale_for_language_code(incoming.language_code)
        if incoming.kind == "command" and incoming.command == "start" and incoming.argument:
            invite = await redeem(session, incoming.argument, now)
            if invite is not None:
                return await self._welcome(session, incoming, Role(invite.role), invite.id, now)
            reason = N_("access.invite_invalid")
        else:
            reason = N_("access.invite_only")
        text = self.translator.render(Msg(reason), locale)
        if incoming.callback_query_id:
            return [AnswerButton(incoming.callback_query_id, text[:190])]
        return [SendText(incoming.chat_id, text)]

    async def _welcome(
        self, session: AsyncSession, incoming: Incoming, role: Role, invite_id: int, now: datetime
    ) -> list[Outgoing]:
        region = region_for_language_code(incoming.language_code)
        zones = questions.ZONES_BY_REGION.get(region or "")
        person = Person(
            telegram_user_id=incoming.user_id,
            chat_id=incoming.chat_id,
            role=role.value,
            locale=locale_for_language_code(incoming.language_code),
            timezone=zones[0] if zones else self.settings.default_timezone,
            region=region,
            checkin_time=self.settings.default_checkin_time if role is Role.CLIENT else None,
            on_duty=False,
            paused=False,
            invite_id=invite_id,
            created_at=now,
        )
        session.add(person)
        await session.flush()
        flow_row = FlowState(person_id=person.id, context={}, step=0)
        session.add(flow_row)
        outcome = conversation.start_flow(
            "onboarding", people.view_of(person), Event("start", now=now), self.rules
        )
        return await self._apply(session, person, flow_row, outcome, incoming, now)
