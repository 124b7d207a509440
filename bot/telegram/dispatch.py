"""The single dispatch layer: load and lock the person, run the core, apply effects, send.

Every update goes through ``Dispatcher.handle_update``. Cross-cutting concerns (the crisis
scan, the database transaction, the person's lock and locale, bad input, the database
being down) live here once, not in each feature.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import replace
from datetime import datetime, timedelta

from sqlalchemy import update as sql_update
from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession
from telegram import Bot, ChatMember, Update
from telegram.ext import ContextTypes

from bot.accounts import Accounts
from bot.activities import Activities
from bot.applying import Appliers, Applying
from bot.checkin import CheckIns
from bot.coping import Coping
from bot.escalations import STAFF_ROLES, SUBJECT_ROLES, CaseChanged, Escalations
from bot.facts import Asking, FactLoaders
from bot.family import Family
from bot.host import Host
from bot.i18n import locale_for_language_code, region_for_language_code
from bot.invites import ever_made, redeem
from bot.measures import Measures
from bot.rooms import Rooms
from bot.safety.crisis_path import ASSESSED_ROLES, CRISIS_LOOKUP_SECONDS, CrisisPath
from bot.storage import people, recent_words
from bot.storage.family_links import joined as family_joined
from bot.storage.models import (
    FlowState,
    Person,
)
from bot.storage.schedules import reschedule
from bot.supervision import Supervision
from bot.telegram import replies
from bot.telegram.events import event_for, screened_text, with_risk
from bot.telegram.fanout import RoomFanout
from bot.telegram.incoming import Incoming, classify
from bot.telegram.render import (
    AnswerButton,
    Outgoing,
    SendText,
)
from bot.telegram.sending import Sender
from bot.weekly import WeeklyCharts
from flows import conversation, crisis, escalation, questions, rooms
from flows.effects import (
    Say,
)
from flows.engine import Outcome
from flows.people import Event, PersonView
from flows.risk import Assessment, Level, assess
from flows.risk.context import LAYER, in_context, joined
from flows.roles import Role
from flows.text import N_, Lines, Msg, Text

log = logging.getLogger(__name__)

ATTEMPTS = 3  # an update whose rows another transaction changed meanwhile is handled again
# PostgreSQL's "deadlock detected" and "could not serialize": nothing was written, try again.
RETRYABLE_SQLSTATES = ("40P01", "40001")


class Dispatcher:
    """One update at a time: assess it, load and lock the person, run the core, apply what
    it decided, send."""

    def __init__(self, host: Host) -> None:
        self.host = host
        self.appliers = Appliers()
        self.escalations = Escalations(host, self.appliers)
        self.family = Family(host, self.appliers, self.escalations)
        self.fanout = RoomFanout(host.settings.room_copies_per_second)
        self.sender = Sender(host, self.appliers, self.escalations, self.fanout)
        self.checkins = CheckIns(host, self.appliers, self.escalations)
        self.accounts = Accounts(host, self.appliers, self.escalations)
        self.crisis = CrisisPath(host, self.appliers, self.escalations, self.family)
        self.supervision = Supervision(host, self.appliers, self.escalations)
        self.measures = Measures(host, self.appliers)
        self.rooms = Rooms(host, self.appliers, self.fanout)
        self.activities = Activities(host, self.appliers, self.rooms)
        WeeklyCharts(host.translator, self.appliers)
        Coping(self.appliers)
        self.facts = FactLoaders(host.cipher)
        replies.Replies(host, self.appliers)

    # -- entry point -------------------------------------------------------------------

    async def handle_update(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        started = time.perf_counter()
        try:
            await self._handle(update, context)
        finally:
            self.host.metrics.handled(_kind(update), time.perf_counter() - started)

    async def _handle(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        if update.my_chat_member is not None:
            await self._membership_changed(context.bot, update)
            return
        incoming = classify(update)
        if incoming is None:
            return
        risk = self._assess(incoming)
        earlier: list[recent_words.Said] = []
        if risk is not None and risk.level is not Level.CRISIS:
            # Below crisis alone: read it with what they said just before (one short read).
            earlier = await self._earlier(incoming)
            if earlier:
                text = screened_text(incoming)
                assert text is not None
                risk = in_context(risk, _texts(earlier), text, self.host.lexicon)
        if risk is not None and risk.level is Level.CRISIS:
            # Safety first: the crisis reply goes out before anything is stored or decided.
            about_others = "third_party" in risk.categories
            sent = await self.sender.send(
                context.bot, await self.crisis.first_reply(incoming, about_others)
            )
            if any(not delivery.failed for delivery in sent):
                self.host.metrics.crisis_replies.inc()
        late: list[Outgoing] = []  # a crisis reply found only under the person's lock
        try:
            outgoing = await self._process_on_a_live_connection(incoming, risk, earlier, late)
        except (
            DBAPIError,
            SQLAlchemyError,
            OSError,
            TimeoutError,
            CaseChanged,
            escalation.InvalidChange,
        ) as exc:
            log.warning("update %s: storage unavailable (%s)", update.update_id, type(exc).__name__)
            outgoing = self._trouble(
                incoming, crisis_sent=risk is not None and risk.level is Level.CRISIS
            )
        sent = await self.sender.send(context.bot, outgoing)
        if any(not delivery.failed and delivery.request in late for delivery in sent):
            self.host.metrics.crisis_replies.inc()

    def _assess(self, incoming: Incoming) -> Assessment | None:
        text = screened_text(incoming)
        return None if text is None else assess(text, self.host.lexicon)

    def _window(self) -> timedelta:
        return timedelta(minutes=self.host.settings.context_window_minutes)

    async def _earlier(self, incoming: Incoming) -> list[recent_words.Said]:
        """The sender's previous screened messages still in the window; none if the
        database does not answer within two seconds (the message is then read alone here,
        and again with them once the person's row is locked: ``_screened``)."""
        if not self._window():
            return []
        try:
            async with asyncio.timeout(CRISIS_LOOKUP_SECONDS), self.host.db.sessions() as session:
                return await recent_words.earlier(
                    session, incoming.user_id, self.host.clock(), self._window(), self.host.cipher
                )
        except Exception as exc:  # reading alone is the answer without the database
            log.warning("earlier messages not read: %s", type(exc).__name__)
            return []

    async def _membership_changed(self, bot: Bot, update: Update) -> None:
        change = update.my_chat_member
        assert change is not None
        if change.chat.type != "private":
            return
        blocked = change.new_chat_member.status in (ChatMember.BANNED, ChatMember.LEFT)
        if blocked:
            await self.sender.mark_blocked(bot, change.chat.id)
            return
        async with self.host.db.transaction() as session:
            await session.execute(
                sql_update(Person)
                .where(Person.telegram_user_id == change.from_user.id)
                .values(blocked_at=None)
            )

    def _trouble(self, incoming: Incoming, crisis_sent: bool) -> list[Outgoing]:
        locale = locale_for_language_code(incoming.language_code, self.host.settings.default_locale)
        text = self.host.translator.render(Msg(N_("error.storage_unavailable")), locale)
        if incoming.callback_query_id:
            return [AnswerButton(incoming.callback_query_id, text[:190])]
        if crisis_sent:
            return []  # the crisis reply already told them where to get help now
        if incoming.kind == "command" and incoming.command == "sos":
            return self.crisis.sos_without_a_person(incoming)  # the numbers need no database
        return [SendText(incoming.chat_id, text)]

    # -- one update, one transaction ----------------------------------------------------

    async def _process_on_a_live_connection(
        self,
        incoming: Incoming,
        risk: Assessment | None,
        earlier: list[recent_words.Said],
        late: list[Outgoing],
    ) -> list[Outgoing]:
        """``_process``, again when nothing it did was stored and trying again can succeed:
        its pooled connection had died (the pool has dropped the dead ones, so the next try
        gets a new one), another transaction changed an escalation it had read, or
        PostgreSQL broke a deadlock by choosing it."""
        for attempt in range(1, ATTEMPTS + 1):
            try:
                late.clear()
                return await self._process(incoming, risk, earlier, late)
            except (CaseChanged, escalation.InvalidChange):
                # decided on rows another transaction changed meanwhile: decide again
                if attempt == ATTEMPTS:
                    raise
            except DBAPIError as exc:
                retry = self.host.db.lost_connection(exc) or (
                    getattr(exc.orig, "sqlstate", None) in RETRYABLE_SQLSTATES
                )
                if not retry or attempt == ATTEMPTS:
                    raise
            log.info("update %s: trying again (%d)", incoming.update_id, attempt)
        raise AssertionError("unreachable")

    async def _process(
        self,
        incoming: Incoming,
        risk: Assessment | None,
        earlier: list[recent_words.Said],
        late: list[Outgoing],
    ) -> list[Outgoing]:
        now = self.host.clock()
        async with self.host.db.transaction() as session:
            fresh, loaded = await people.arrive(session, incoming.user_id, incoming.update_id, now)
            if not fresh:
                log.info("update %s was delivered again; ignored", incoming.update_id)
                return []
            if loaded is None:
                return await self._stranger(session, incoming, now)
            person, flow_row = loaded.person, loaded.flow
            if person.blocked_at is not None:
                person.blocked_at = None
            if person.chat_id != incoming.chat_id:  # an unchanged person is not written back
                person.chat_id = incoming.chat_id
            screened = risk if person.role in ASSESSED_ROLES else None  # staff are not
            first: list[Outgoing] = []
            if screened is not None:
                screened, first = await self._screened(
                    session, person, incoming, screened, earlier, now, late
                )
            event_or_reply = event_for(
                incoming,
                self.host.renderer,
                person,
                flow_row.step,
                flow_row.flow is not None,
                now,
            )
            if not isinstance(event_or_reply, Event):
                return first + event_or_reply
            event = await self._with_facts(session, event_or_reply, person, flow_row, now)
            if screened is not None:
                event = with_risk(event, screened)
            elif risk is not None and flow_row.flow == rooms.NAME:
                # in a group room everyone's words are screened, a leader's too: crisis
                # language is never passed to the group (no escalation is about staff)
                event = with_risk(event, risk)
            if person.role in STAFF_ROLES and incoming.reply_to_message_id is not None:
                replied = await self.escalations.reply_case(
                    session, person.chat_id, incoming.reply_to_message_id
                )
                event = replace(event, reply_case=replied, reply_unknown=replied is None)
            # Crisis language has opened an escalation about them (or about the client a
            # relative wrote of) whether or not anyone was told: look for it, so this very
            # message is kept for a peer worker.
            crisis_language = screened is not None and screened.level is Level.CRISIS
            view = await self._view(
                session, person, loaded.escalation_state is not None or crisis_language
            )
            outcome = conversation.handle(
                event, view, people.snapshot_of(flow_row), self.host.rules
            )
            applied = await self._apply(session, person, flow_row, outcome, incoming, now)
            return first + applied

    async def _screened(
        self,
        session: AsyncSession,
        person: Person,
        incoming: Incoming,
        risk: Assessment,
        earlier: list[recent_words.Said],
        now: datetime,
        late: list[Outgoing],
    ) -> tuple[Assessment, list[Outgoing]]:
        """Read the message again with what the person said before it, as it stands under
        their lock; keep it for reading the next one with it; record what was found.

        The first reading (``earlier``, before the lock) can lack words: it gave up waiting
        for a busy database after two seconds, or another worker was still storing the
        message before this one. If what is kept now differs, the message is read again
        with it, and a crisis found only now gets the crisis reply first (``late``, for
        counting it once delivered)."""
        text = screened_text(incoming)
        assert text is not None
        first: list[Outgoing] = []
        if self._window():
            window, cipher = self._window(), self.host.cipher
            said = await recent_words.locked(session, person.id, now, window, cipher)
            if risk.level is not Level.CRISIS and _texts(said) != _texts(earlier):
                risk, earlier = in_context(risk, _texts(said), text, self.host.lexicon), said
                if risk.level is Level.CRISIS:
                    about_others = "third_party" in risk.categories
                    first = await self.crisis.first_reply_locked(
                        session, person, incoming, about_others
                    )
                    late.extend(first)
            await recent_words.remember(
                session, person.id, said, text, risk.level, now, window, cipher
            )
        if risk.level is Level.NONE:
            return risk, first
        # Found with the messages before it: their words go with a relative's report too.
        words = joined(_texts(earlier), text) if LAYER in risk.layers else incoming.text
        return risk, first + await self.crisis.record(session, person, risk, now, words)

    async def _view(self, session: AsyncSession, person: Person, has_case: bool) -> PersonView:
        """What the flows may know of the person: a staff member's desk; the escalation about
        a client or relative (its row locked), when the locking query saw one or a crisis has
        just opened one."""
        view = replace(people.view_of(person), numbers=self.host.lines.numbers_for(person.region))
        if person.role in STAFF_ROLES:
            return replace(view, desk=await self.escalations.desk(session, person))
        if has_case and person.role in SUBJECT_ROLES:
            return replace(view, case=await self.escalations.case_about(session, person.id))
        return view

    async def _with_facts(
        self,
        session: AsyncSession,
        event: Event,
        person: Person,
        flow_row: FlowState,
        now: datetime,
    ) -> Event:
        """Load what the core says this event needs, and nothing else."""
        facts = conversation.facts_for(event, Role(person.role), flow_row.flow, flow_row.state)
        if not facts:
            return event
        data = await self.facts.load(session, facts, Asking(person, event, now))
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
        """Apply the core's effects in order, then save where the person now is."""
        step = flow_row.step  # the number new buttons carry; older buttons become stale
        if any(isinstance(e, Say) and e.choices for e in outcome.effects):
            step += 1
        acting = Applying(person, now, flow_row=flow_row, incoming=incoming, step=step)
        outgoing = await self.appliers.apply(session, outcome.effects, acting)
        outgoing += await acting.make_deferred()  # none on an update today: timers draw charts
        if not acting.forgotten:
            await people.store_snapshot(session, flow_row, outcome.snapshot, step)
            if acting.reschedule:
                await reschedule(session, person, now, self.host.timing)
        return [*self._callback_ack(incoming, acting.answered), *outgoing]

    @staticmethod
    def _callback_ack(incoming: Incoming, answered: bool) -> list[Outgoing]:
        if incoming.callback_query_id and not answered:
            return [AnswerButton(incoming.callback_query_id)]
        return []

    # -- people without a role ------------------------------------------------------------

    async def _stranger(
        self, session: AsyncSession, incoming: Incoming, now: datetime
    ) -> list[Outgoing]:
        """Someone with no role: only a valid invite gets them in; otherwise nothing is stored."""
        locale = locale_for_language_code(incoming.language_code, self.host.settings.default_locale)
        command = incoming.command if incoming.kind == "command" else None
        if command == "start" and incoming.argument:
            invite = await redeem(session, incoming.argument, now)
            if invite is not None:
                return await self._welcome(session, incoming, Role(invite.role), invite.id, now)
            known = await ever_made(session, incoming.argument)
            reason = N_("access.invite_invalid") if known else N_("access.invite_unknown")
        elif command == "sos":
            return self.crisis.sos_without_a_person(incoming)
        else:
            reason = N_("access.invite_only")
        answer: Text = Msg(reason)
        if command == "help":
            numbers = self.host.lines.numbers_for(region_for_language_code(incoming.language_code))
            answer = Lines((Msg(reason), Msg(N_("crisis.emergency")), *crisis.block(numbers).parts))
        text = self.host.translator.render(answer, locale)
        if incoming.callback_query_id:
            return [AnswerButton(incoming.callback_query_id, text[:190])]
        return [SendText(incoming.chat_id, text)]

    async def _welcome(
        self, session: AsyncSession, incoming: Incoming, role: Role, invite_id: int, now: datetime
    ) -> list[Outgoing]:
        region = region_for_language_code(incoming.language_code)
        zones = questions.ZONES_BY_REGION.get(region or "")
        alias = None
        if role in (Role.CLIENT, Role.FAMILY):
            alias = await people.free_alias(session)
        person = Person(
            telegram_user_id=incoming.user_id,
            chat_id=incoming.chat_id,
            role=role.value,
            locale=locale_for_language_code(
                incoming.language_code, self.host.settings.default_locale
            ),
            timezone=zones[0] if zones else self.host.settings.default_timezone,
            region=region,
            checkin_time=(
                self.host.settings.default_checkin_time
                if role in (Role.CLIENT, Role.FAMILY)
                else None
            ),
            lesson_days=self.host.settings.lesson_days if role is Role.FAMILY else None,
            alias=alias,
            on_duty=False,
            paused=False,
            invite_id=invite_id,
            created_at=now,
        )
        session.add(person)
        await session.flush()
        if role is Role.FAMILY:
            await family_joined(session, invite_id, person)
        flow_row = FlowState(person_id=person.id, context={}, step=0)
        session.add(flow_row)
        view = replace(people.view_of(person), numbers=self.host.lines.numbers_for(person.region))
        outcome = conversation.start_flow(
            "onboarding", view, Event("start", now=now), self.host.rules
        )
        return await self._apply(session, person, flow_row, outcome, incoming, now)


__all__ = ["Dispatcher"]


def _kind(update: Update) -> str:
    """The kind of an update, for the metrics (never anything from inside it)."""
    for kind in ("message", "edited_message", "callback_query", "my_chat_member"):
        if getattr(update, kind) is not None:
            return kind
    return "other"


def _texts(said: list[recent_words.Said]) -> list[str]:
    return [text for _, text in said]
