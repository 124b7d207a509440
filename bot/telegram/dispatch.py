"""The single dispatch layer: load and lock the person, run the core, apply effects, send.

Every update goes through ``Dispatcher.handle_update``. Cross-cutting concerns (the crisis
scan, the database transaction, the person's lock and locale, bad input, the database
being down) live here once, not in each feature.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy import update as sql_update
from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession
from telegram import Bot, ChatMember, Update
from telegram.ext import ContextTypes

from bot.accounts import Accounts
from bot.applying import Acting, Appliers
from bot.checkin import CheckIns
from bot.escalations import STAFF_ROLES, SUBJECT_ROLES, CaseChanged, Escalations
from bot.facts import Asking, FactLoaders
from bot.family import Family
from bot.host import Host
from bot.i18n import locale_for_language_code, region_for_language_code
from bot.invites import redeem
from bot.storage import people, safety_plans
from bot.storage.encrypted import encrypt_many
from bot.storage.family_links import joined as family_joined
from bot.storage.models import (
    FlowState,
    Person,
    RiskEvent,
)
from bot.storage.schedules import reschedule
from bot.telegram import replies
from bot.telegram.events import event_for, screened_text
from bot.telegram.incoming import Incoming, classify
from bot.telegram.render import (
    AnswerButton,
    Outgoing,
    SendText,
)
from bot.telegram.sending import Sender
from bot.weekly import WeeklyCharts
from flows import conversation, crisis, escalation, questions
from flows.effects import (
    ForgetPerson,
    Notice,
    RefreshChoices,
    RefreshCommands,
    Say,
    ShowAnswer,
    ShowCrisisReply,
    UpdatePerson,
)
from flows.engine import Outcome
from flows.people import Event, PersonView
from flows.risk import Assessment, Level, assess
from flows.roles import Role
from flows.text import N_, Lines, Msg, Text

log = logging.getLogger(__name__)

CRISIS_LOOKUP_SECONDS = 2.0
ASSESSED_ROLES = SUBJECT_ROLES
ATTEMPTS = 3  # an update whose rows another transaction changed meanwhile is handled again
# PostgreSQL's "deadlock detected" and "could not serialize": nothing was written, try again.
RETRYABLE_SQLSTATES = ("40P01", "40001")


@dataclass
class Applying(Acting):
    """Applying one update's effects: the person, their flow row and what they did."""

    flow_row: FlowState | None = None
    incoming: Incoming | None = None
    answered: bool = False
    reschedule: bool = False


class Dispatcher:
    """One update at a time: assess it, load and lock the person, run the core, apply what
    it decided, send."""

    def __init__(self, host: Host) -> None:
        self.host = host
        self.appliers = Appliers()
        self.escalations = Escalations(host, self.appliers)
        self.family = Family(host, self.appliers, self.escalations)
        self.sender = Sender(host, self.appliers, self.escalations)
        self.checkins = CheckIns(host, self.appliers, self.escalations)
        self.accounts = Accounts(host, self.appliers, self.escalations)
        WeeklyCharts(host.translator, self.appliers)
        self.facts = FactLoaders(host.cipher)
        self.appliers.register(
            {
                UpdatePerson: self._update_person,
                Say: self._say_effect,
                ShowAnswer: self._show_answer,
                RefreshChoices: self._refresh_choices,
                Notice: self._notice,
                RefreshCommands: self._refresh_commands,
                ForgetPerson: self._forget_person,
                ShowCrisisReply: self._show_crisis_reply,
            }
        )

    # -- entry point -------------------------------------------------------------------

    async def handle_update(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        if update.my_chat_member is not None:
            await self._membership_changed(context.bot, update)
            return
        incoming = classify(update)
        if incoming is None:
            return
        risk = self._assess(incoming)
        if risk is not None and risk.level is Level.CRISIS:
            # Safety first: the crisis reply goes out before anything is stored or decided.
            about_others = "third_party" in risk.categories
            await self.sender.send(context.bot, await self._crisis_reply(incoming, about_others))
        try:
            outgoing = await self._process_on_a_live_connection(incoming, risk)
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
        await self.sender.send(context.bot, outgoing)

    def _assess(self, incoming: Incoming) -> Assessment | None:
        text = screened_text(incoming)
        return None if text is None else assess(text, self.host.lexicon)

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
            return self._sos_without_a_person(incoming)  # the numbers need no database
        return [SendText(incoming.chat_id, text)]

    # -- the numbers and the crisis reply ------------------------------------------------

    def _sos_without_a_person(self, incoming: Incoming) -> list[Outgoing]:
        """/sos from someone without a role, or while the database is failing: the numbers
        for their language code's region."""
        locale = locale_for_language_code(incoming.language_code, self.host.settings.default_locale)
        numbers = self.host.lines.numbers_for(region_for_language_code(incoming.language_code))
        text, _ = crisis.sos(numbers, crisis.Audience.AT_RISK)
        return [SendText(incoming.chat_id, self.host.translator.render(text, locale))]

    async def _crisis_reply(self, incoming: Incoming, about_others: bool) -> list[Outgoing]:
        """Built from what can be read in a moment; from the language code alone if not."""
        locale = locale_for_language_code(incoming.language_code, self.host.settings.default_locale)
        facts = await self._crisis_facts(
            incoming.user_id, locale, region_for_language_code(incoming.language_code), about_others
        )
        reply = crisis.first_reply(facts)
        if reply is None:
            return []
        text, choices = reply
        markup = (
            self.host.renderer.inline_keyboard(incoming.user_id, 0, choices, 1, facts.locale)
            if choices
            else None
        )
        return [SendText(incoming.chat_id, self.host.translator.render(text, facts.locale), markup)]

    async def _crisis_facts(
        self, user_id: int | None, locale: str, region: str | None, about_others: bool
    ) -> crisis.CrisisFacts:
        """Who wrote (their region, role, safety plan), whether a worker holds their chat or
        anyone is on duty — or, if the database does not answer within two seconds, only
        what the language code says (and no promise of a person)."""
        facts = crisis.CrisisFacts(
            crisis.Audience.AT_RISK,
            locale,
            self.host.lines.numbers_for(region),
            after_hours_note=self.host.settings.after_hours_note,
            now=self.host.clock(),
        )
        if user_id is None:
            return facts
        try:
            async with asyncio.timeout(CRISIS_LOOKUP_SECONDS), self.host.db.sessions() as session:
                person = await session.scalar(
                    select(Person).where(Person.telegram_user_id == user_id)
                )
                if person is None:
                    return facts
                return await self._facts_of(session, person, facts, about_others)
        except Exception as exc:  # any failure here must not delay the reply
            log.warning("crisis reply without stored details: %s", type(exc).__name__)
            return facts

    async def _facts_of(
        self,
        session: AsyncSession,
        person: Person,
        facts: crisis.CrisisFacts,
        about_others: bool,
    ) -> crisis.CrisisFacts:
        audience = (
            crisis.Audience.STAFF
            if person.role in STAFF_ROLES
            else crisis.Audience.RELATIVE
            if person.role == Role.FAMILY.value and about_others
            else crisis.Audience.AT_RISK
        )
        # Staff are not sent the crisis reply, so their own safety plan is not read for it.
        plan = (
            {}
            if audience is crisis.Audience.STAFF
            else await safety_plans.load(session, person.id, self.host.cipher)
        )
        numbers = facts.numbers
        if person.region is not None:
            numbers = self.host.lines.numbers_for(person.region)
        worker = await self.escalations.holder_alias(session, person.id)
        return replace(
            facts,
            audience=audience,
            locale=person.locale,
            numbers=numbers,
            helpers=plan.get("helpers"),
            professionals=plan.get("professionals"),
            help=await self._who_answers(session, person, worker),
            worker=worker,
            last_alert=await session.scalar(
                select(func.max(RiskEvent.at)).where(
                    RiskEvent.person_id == person.id, RiskEvent.level == "crisis"
                )
            ),
        )

    async def _who_answers(
        self, session: AsyncSession, person: Person, worker: str | None
    ) -> crisis.Help:
        if worker:
            return crisis.Help.WITH_WORKER
        if person.role not in ASSESSED_ROLES:
            return crisis.Help.UNKNOWN  # nothing is opened for staff
        roster = await self.escalations.roster(session)
        return crisis.Help.ASKING if roster.on_duty else crisis.Help.NOBODY_ON_DUTY

    # -- one update, one transaction ----------------------------------------------------

    async def _process_on_a_live_connection(
        self, incoming: Incoming, risk: Assessment | None
    ) -> list[Outgoing]:
        """``_process``, again when nothing it did was stored and trying again can succeed:
        its pooled connection had died (the pool has dropped the dead ones, so the next try
        gets a new one), another transaction changed an escalation it had read, or
        PostgreSQL broke a deadlock by choosing it."""
        for attempt in range(1, ATTEMPTS + 1):
            try:
                return await self._process(incoming, risk)
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

    async def _process(self, incoming: Incoming, risk: Assessment | None) -> list[Outgoing]:
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
            first: list[Outgoing] = []
            if risk is not None and risk.level is not Level.NONE and person.role in ASSESSED_ROLES:
                first = await self._risk(session, person, risk, now, incoming.text)
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
            if risk is not None and person.role in ASSESSED_ROLES:
                event = replace(
                    event,
                    risk=risk.level.value,
                    risk_about_others="third_party" in risk.categories,
                    risk_softened=risk.softened,
                )
            if person.role in STAFF_ROLES and incoming.reply_to_message_id is not None:
                replied = await self.escalations.reply_case(
                    session, person.chat_id, incoming.reply_to_message_id
                )
                event = replace(event, reply_case=replied, reply_unknown=replied is None)
            # A crisis may have just opened an escalation: then look again.
            view = await self._view(
                session, person, loaded.escalation_state is not None or bool(first)
            )
            outcome = conversation.handle(
                event, view, people.snapshot_of(flow_row), self.host.rules
            )
            applied = await self._apply(session, person, flow_row, outcome, incoming, now)
            return first + applied

    async def _risk(
        self, session: AsyncSession, person: Person, risk: Assessment, now: datetime, text: str
    ) -> list[Outgoing]:
        """Record what was found (never the message itself) and bring a person in."""
        session.add(
            RiskEvent(
                person_id=person.id,
                level=risk.level.value,
                categories=list(risk.categories),
                matched=encrypt_many(self.host.cipher, list(risk.matched)),
                at=now,
            )
        )
        log.info(
            "person %s: %s language (%s; found by %s)",
            person.id,
            risk.level.value,
            ",".join(risk.categories),
            "+".join(risk.layers) or "lexicon",
        )
        if risk.level is not Level.CRISIS:
            return []
        detail: tuple[tuple[str, object], ...] = (
            ("categories", list(risk.categories)),
            ("layers", list(risk.layers)),
        )
        subject = person
        if person.role == Role.FAMILY.value and "third_party" in risk.categories:
            # A relative reporting danger now: the escalation is about the relative they are
            # linked to (when that client shares alerts), urgent, and says who raised it.
            subject = await self.family.linked_client(session, person) or person
        reason = (
            # their words go with it (encrypted; gone when they erase their data)
            escalation.Reason(
                "family_danger", (*detail, ("about", "relative")), person.id, text[:2000]
            )
            if subject is not person
            else escalation.Reason("crisis", detail)
        )
        _, effects = await self.escalations.raise_for(session, subject, reason, now)
        return await self.appliers.apply(session, effects, Acting(person, now))

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

    # -- appliers: the person acting -----------------------------------------------------------

    async def _update_person(
        self, session: AsyncSession, effect: UpdatePerson, acting: Applying
    ) -> list[Outgoing]:
        assert acting.person is not None
        people.apply_update(acting.person, effect, acting.now)
        acting.reschedule |= effect.onboarded or any(
            value is not None
            for value in (effect.timezone, effect.checkin_time, effect.paused, effect.lesson_days)
        )
        return []

    async def _say_effect(
        self, session: AsyncSession, effect: Say, acting: Acting
    ) -> list[Outgoing]:
        assert acting.person is not None
        return [replies.say(self.host.renderer, acting.person, acting.step, effect)]

    async def _show_answer(
        self, session: AsyncSession, effect: ShowAnswer, acting: Applying
    ) -> list[Outgoing]:
        if acting.incoming is None or acting.person is None:
            return []
        return replies.show_answer(self.host.renderer, acting.person, acting.incoming, effect)

    async def _refresh_choices(
        self, session: AsyncSession, effect: RefreshChoices, acting: Applying
    ) -> list[Outgoing]:
        incoming, person = acting.incoming, acting.person
        if incoming is None or person is None:
            return []
        return replies.refresh_choices(self.host.renderer, person, incoming, acting.step, effect)

    async def _notice(
        self, session: AsyncSession, effect: Notice, acting: Applying
    ) -> list[Outgoing]:
        if acting.incoming is None or acting.person is None:
            return []
        out = replies.notice(self.host.renderer, acting.person, acting.incoming, effect)
        acting.answered |= bool(out)
        return out

    async def _refresh_commands(
        self, session: AsyncSession, effect: RefreshCommands, acting: Applying
    ) -> list[Outgoing]:
        assert acting.person is not None
        return replies.refresh_commands(acting.person, effect)

    async def _forget_person(
        self, session: AsyncSession, effect: ForgetPerson, acting: Applying
    ) -> list[Outgoing]:
        assert acting.person is not None and acting.flow_row is not None
        acting.forgotten = True
        await people.forget(session, acting.person, acting.flow_row)
        return []

    async def _show_crisis_reply(
        self, session: AsyncSession, effect: ShowCrisisReply, acting: Applying
    ) -> list[Outgoing]:
        assert acting.person is not None
        person = acting.person
        base = await self._crisis_facts(None, person.locale, person.region, effect.about_others)
        reply = crisis.first_reply(await self._facts_of(session, person, base, effect.about_others))
        if reply is None:
            return []
        text, choices = reply
        return [replies.say(self.host.renderer, person, acting.step, Say(text, choices))]

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
            reason = N_("access.invite_invalid")
        elif command == "sos":
            return self._sos_without_a_person(incoming)
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
