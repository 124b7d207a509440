"""Plays exact transcripts (``tests/exact.py``) against the core, with its facts in memory:
no database, no python-telegram-bot Application, no scheduler; a transcript takes
milliseconds.

Around ``flows.conversation`` this does what the shell does, the in-memory way: the same
``Incoming`` (``bot.telegram.incoming.classify``) and crisis screen, the ``Event`` the
dispatcher builds, the facts the core asks for (``flows.conversation.facts_for``) from a
small store, the effects applied to that store, and every message rendered by the real
``Renderer`` and translator and sent through the real ``Outbox`` to the in-memory Bot API,
so each line compared is what the whole bot sends.

What needs the rest of the shell (the crisis path and the escalation desk, the scheduler,
role changes) is not here: an effect, a fact or a step this player does not know raises
:class:`Unplayable`, never passes silently. Such a transcript runs on the whole bot (the
default; ``runs: core`` in its header moves it here).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from functools import cache
from typing import Any

from telegram import Bot, Update

from bot.checkin import FLAG_WINDOW_DAYS
from bot.config import load_settings
from bot.escalations import STAFF_ROLES, party
from bot.facts import HISTORY_DAYS, history_days
from bot.i18n import Translator, locale_for_language_code, region_for_language_code
from bot.invites import deep_link
from bot.safety.crisis import CrisisLines
from bot.sandbox.in_memory import InMemoryBotAPI
from bot.storage import people
from bot.storage.checkins import FIELDS
from bot.storage.family_links import INVITE_DAYS
from bot.storage.models import CheckIn, WarningSign, utcnow
from bot.storage.models import Person as PersonRow
from bot.telegram import replies
from bot.telegram.callbacks import ButtonSigner
from bot.telegram.events import event_for, screened_text
from bot.telegram.incoming import Incoming, classify
from bot.telegram.outbox import Outbox
from bot.telegram.render import (
    AnswerButton,
    Outgoing,
    Renderer,
    SendText,
)
from flows import conversation, flags, questions
from flows.desk import Desk
from flows.effects import (
    CreateFamilyInvite,
    Effect,
    FinishCheckin,
    FlowSnapshot,
    ForgetPerson,
    LessonProgressed,
    Notice,
    PracticeAnswer,
    RecordAnswer,
    RefreshChoices,
    RefreshCommands,
    RemoveSign,
    RevokeFamilyLink,
    SavePlanSection,
    SaveSign,
    Say,
    ShowAnswer,
    UpdateFamilyLink,
    UpdatePerson,
)
from flows.engine import Outcome
from flows.facts import Fact
from flows.family import scope_line
from flows.flags import DayRecord
from flows.people import Event, PersonView, Rules
from flows.risk import Assessment, Level, Lexicon, assess, default_lexicon, load_lexicon
from flows.roles import Role
from flows.safety_plan import SECTIONS
from flows.schedule import local_date
from flows.text import N_, Msg, Text, msg
from tests.harness import TEST_TOKEN, Person, Reply, onboard_in_chat, region_label, replies_to


class Unplayable(Exception):
    """The transcript needs what only the whole bot has; run it full stack."""


@cache
def _translator() -> Translator:
    return Translator()  # compiles and loads the catalogs: once per process


@dataclass
class Place:
    """Where a person is in their conversation, and the step their newest buttons carry."""

    snapshot: FlowSnapshot = field(default_factory=FlowSnapshot)
    step: int = 0


@dataclass
class Turn:
    """One update's effects being applied: who acts, when, on what, with which step."""

    person: PersonRow
    now: datetime
    incoming: Incoming
    step: int
    answered: bool = False
    forgotten: bool = False


@dataclass
class Invite:
    """A way in: single use; a client's invite for a relative expires and can be revoked."""

    id: int
    role: Role
    expires_at: datetime | None = None
    used: bool = False
    revoked: bool = False


@dataclass
class Link:
    """A client's family link: pending (an invite) until the relative joins through it."""

    id: int
    client_id: int
    invite_id: int
    summary: bool
    alerts: bool
    family_id: int | None = None
    revoked: bool = False


class Memory:
    """What the database would hold for people's conversations with the bot: people (as
    unsaved ``bot.storage.models`` rows, so the shell's own functions read and change them)
    and their place, check-ins and warning-sign answers, warning signs, safety plans,
    lesson progress, invites and family links."""

    def __init__(self) -> None:
        self.people: dict[int, PersonRow] = {}  # by Telegram user id
        self.places: dict[int, Place] = {}  # by person id
        self.checkins: dict[tuple[int, date], CheckIn] = {}
        self.sign_answers: dict[tuple[int, date], dict[int, bool]] = {}
        self.signs: dict[int, WarningSign] = {}  # by id, oldest first
        self.plans: dict[int, dict[str, str]] = {}
        self.lessons: dict[tuple[int, str], str] = {}  # (person, slug) → started | done
        self.practice: dict[tuple[int, str], dict[str, object]] = {}  # tried, helped
        self.invites: dict[str, Invite] = {}  # by code
        self.links: dict[int, Link] = {}  # by id, oldest first
        self.ids = itertools.count(1)

    def person(self, person_id: int | None) -> PersonRow | None:
        return next((p for p in self.people.values() if p.id == person_id), None)

    def new_invite(self, role: Role, expires_at: datetime | None = None) -> tuple[str, Invite]:
        invite = Invite(next(self.ids), role, expires_at)
        code = f"core{invite.id}"
        self.invites[code] = invite
        return code, invite

    def usable(self, invite: Invite | None, now: datetime) -> bool:
        expired = invite is not None and invite.expires_at is not None and invite.expires_at <= now
        return invite is not None and not (invite.used or invite.revoked or expired)

    def redeem(self, code: str, now: datetime) -> Invite | None:
        invite = self.invites.get(code)
        if invite is None or not self.usable(invite, now):
            return None
        invite.used = True
        return invite

    def invite_of(self, invite_id: int | None) -> Invite | None:
        return next((i for i in self.invites.values() if i.id == invite_id), None)

    def forget(self, person: PersonRow) -> None:
        """Nothing about them is kept; their invite can be used again (as ``people.forget``)."""
        del self.people[person.telegram_user_id]
        self.places.pop(person.id, None)
        for key in [k for k in self.checkins if k[0] == person.id]:
            del self.checkins[key]
            self.sign_answers.pop(key, None)
        for sign_id in [i for i, s in self.signs.items() if s.person_id == person.id]:
            del self.signs[sign_id]
        self.plans.pop(person.id, None)
        for key in [k for k in self.lessons if k[0] == person.id]:
            del self.lessons[key]
            self.practice.pop(key, None)
        invite = self.invite_of(person.invite_id)
        if invite is not None:
            invite.used = False
        for link in self.links.values():  # a client's link stays open for a later try
            if link.family_id == person.id:
                link.family_id = None

    # -- check-ins ----------------------------------------------------------------------

    def checkin(self, person_id: int, day: date, now: datetime) -> CheckIn:
        row = self.checkins.get((person_id, day))
        if row is None:
            row = CheckIn(id=next(self.ids), person_id=person_id, local_date=day, started_at=now)
            self.checkins[(person_id, day)] = row
        return row

    def active_signs(self, person_id: int) -> list[WarningSign]:
        return [s for s in self.signs.values() if s.person_id == person_id and s.removed_at is None]

    def records(self, person_id: int, since: date) -> list[DayRecord]:
        """As ``bot.storage.checkins.records``: days with an answer, oldest first."""
        found = []
        for (owner, day), row in sorted(self.checkins.items(), key=lambda item: item[0][1]):
            answers = self.sign_answers.get((owner, day), {})
            if owner != person_id or day < since:
                continue
            if row.mood is None and row.sleep is None and row.medication is None and not answers:
                continue
            yes = sum(answers.values()) if answers else None
            found.append(DayRecord(day, row.mood, row.sleep, row.medication, yes))
        return found


class CoreStage:
    """A ``tests.exact.Stage``: people's updates go to ``flows.conversation`` with their
    facts from :class:`Memory`; what the core decides is applied there and sent to ``api``."""

    def __init__(self, **settings: Any) -> None:
        self.api = InMemoryBotAPI()
        self.bot = Bot(TEST_TOKEN, request=self.api, get_updates_request=self.api)
        self.memory = Memory()
        self.translator = _translator()
        self.renderer = Renderer(self.translator, ButtonSigner(b"core player"))
        self.outbox = Outbox(self.translator, self._blocked)
        self.update_ids = itertools.count(1_000_000)
        self.query_ids = itertools.count(1)
        self.user_ids = itertools.count(500_001)
        self.now: datetime | None = None  # None: the real time, as the bot's clock
        self._configure(settings)
        self.facts: dict[Fact, Callable[[PersonRow, Event, datetime], Any]] = {
            Fact.CHECKIN: self._checkin_fact,
            Fact.HISTORY: self._history_fact,
            Fact.TODAY: lambda person, _, now: local_date(now, person.timezone),
            Fact.SIGNS: self._signs_fact,
            Fact.PROGRESS: self._progress_fact,
            Fact.LINKS: self._links_fact,
            Fact.PLAN: self._plan_fact,
            Fact.ALIAS_TAKEN: self._alias_taken_fact,
        }
        self.appliers: dict[type, Callable[[Any, Turn], list[Outgoing]]] = {
            Say: self._say,
            ShowAnswer: self._show_answer,
            RefreshChoices: self._refresh_choices,
            Notice: self._notice,
            UpdatePerson: self._update_person,
            RefreshCommands: self._refresh_commands,
            ForgetPerson: self._forget_person,
            RecordAnswer: self._record_answer,
            FinishCheckin: self._finish_checkin,
            SaveSign: self._save_sign,
            RemoveSign: self._remove_sign,
            SavePlanSection: self._save_plan_section,
            LessonProgressed: self._lesson_progressed,
            PracticeAnswer: self._practice_answer,
            CreateFamilyInvite: self._create_family_invite,
            UpdateFamilyLink: self._update_family_link,
            RevokeFamilyLink: self._revoke_family_link,
        }

    def _configure(self, overrides: dict[str, Any]) -> None:
        self.settings = load_settings(telegram_bot_token=TEST_TOKEN, **overrides)
        self.rules = Rules(
            quiet_start=self.settings.quiet_hours_start,
            quiet_end=self.settings.quiet_hours_end,
            max_text_length=self.settings.max_text_length,
        )
        self.flag_rules = self.settings.flag_rules()
        self.lines = CrisisLines.load(self.settings.crisis_lines_file, self.settings.default_region)
        file = self.settings.risk_lexicon_file
        self.lexicon: Lexicon = load_lexicon(file) if file else default_lexicon()

    async def start(self) -> None:
        await self.bot.initialize()

    async def _blocked(self, bot: Bot, chat_id: int) -> None:
        raise Unplayable("a chat blocked the bot")

    def clock(self) -> datetime:
        return self.now or utcnow()

    # -- tests.exact.Stage ------------------------------------------------------------------

    async def configure(self, settings: dict[str, str]) -> None:
        self._configure(settings)

    def set_now(self, now: datetime) -> None:
        self.now = now

    def person(self, language_code: str | None = "en") -> Person:
        return Person(self, next(self.user_ids), language_code)

    async def join(self, role: Role, language_code: str, alias: str) -> Person:
        """Onboarded through the chat as on the whole bot; a client's or relative's alias is
        then the cast's."""
        person = self.person(language_code)
        region = region_label(self.translator, language_code)
        await onboard_in_chat(person, await self.invite(role), role, region, alias)
        self.memory.people[person.user_id].alias = alias
        return person

    async def invite(self, role: Role) -> str:
        return self.memory.new_invite(role)[0]

    async def tick(self) -> None:
        raise Unplayable("tick: the scheduler is not part of the core player")

    async def restart(self) -> None:
        """The core keeps nothing between updates but what is stored, so nothing changes."""

    async def set_role(self, person: Person, role: Role) -> None:
        raise Unplayable("role: a role change closes escalations (the whole bot)")

    async def link(self, client: Person, relative: Person) -> None:
        raise Unplayable("linked to: a link made by hand (the whole bot)")

    async def stored(self, person: Person) -> PersonRow | None:
        return self.memory.people.get(person.user_id)

    async def checkin(self, person: Person, day: date) -> tuple[CheckIn | None, list[bool]]:
        row = self.memory.people.get(person.user_id)
        key = (row.id if row is not None else -1, day)
        return self.memory.checkins.get(key), list(self.memory.sign_answers.get(key, {}).values())

    # -- tests.harness.Chats --------------------------------------------------------------

    async def feed(
        self, person: Person, payload: dict[str, Any], update_id: int | None = None
    ) -> list[Reply]:
        before = len(self.api.calls)
        number = update_id if update_id is not None else next(self.update_ids)
        incoming = classify(Update.de_json({"update_id": number, **payload}, self.bot))
        assert incoming is not None, "a private message, edit or button press"
        await self.outbox.deliver(self.bot, self._handle(incoming))
        return replies_to(person, self.api.calls[before:])

    # -- one update (bot.telegram.dispatch, without storage) ---------------------------------

    def _handle(self, incoming: Incoming) -> list[Outgoing]:
        now = self.clock()
        risk = self._assess(incoming)
        if risk is not None and risk.level is not Level.NONE:
            # the crisis reply, the question asked about worrying words, an escalation
            raise Unplayable(f"{risk.level.value} language: the crisis path (whole bot)")
        person = self.memory.people.get(incoming.user_id)
        if person is None:
            return self._stranger(incoming, now)
        place = self.memory.places[person.id]
        event = event_for(incoming, self.renderer, person, place.step, not place.snapshot.idle, now)
        if not isinstance(event, Event):
            return event
        flow, state = place.snapshot.flow, place.snapshot.state
        wanted = conversation.facts_for(event, Role(person.role), flow, state)
        if wanted:
            event = replace(
                event, data={f.value: self._fact(f, person, event, now) for f in wanted}
            )
        if person.role in STAFF_ROLES and incoming.reply_to_message_id is not None:
            raise Unplayable("a worker's Telegram reply: the relay (whole bot)")
        outcome = conversation.handle(event, self._view(person), place.snapshot, self.rules)
        return self._apply(person, place, outcome, incoming, now)

    def _assess(self, incoming: Incoming) -> Assessment | None:
        text = screened_text(incoming)
        return None if text is None else assess(text, self.lexicon)

    def _view(self, person: PersonRow) -> PersonView:
        """No escalation is ever open here: a subject has no case, a worker holds nothing."""
        view = replace(people.view_of(person), numbers=self.lines.numbers_for(person.region))
        if person.role in STAFF_ROLES:
            return replace(view, desk=Desk(party(person), (), person.selected_escalation_id))
        return view

    def _fact(self, fact: Fact, person: PersonRow, event: Event, now: datetime) -> Any:
        loader = self.facts.get(fact)
        if loader is None:
            raise Unplayable(f"fact {fact.value!r} is not in the core player's memory")
        return loader(person, event, now)

    def _apply(
        self, person: PersonRow, place: Place, outcome: Outcome, incoming: Incoming, now: datetime
    ) -> list[Outgoing]:
        """Each effect by its applier, in order, then the new place (as ``Dispatcher._apply``)."""
        asks = any(isinstance(e, Say) and e.choices for e in outcome.effects)
        turn = Turn(person, now, incoming, place.step + 1 if asks else place.step)
        outgoing: list[Outgoing] = []
        for effect in outcome.effects:
            outgoing += self._applier(effect)(effect, turn)
        if not turn.forgotten:
            self.memory.places[person.id] = Place(outcome.snapshot, turn.step)
        if incoming.callback_query_id and not turn.answered:
            outgoing.insert(0, AnswerButton(incoming.callback_query_id))
        return outgoing

    def _applier(self, effect: Effect) -> Callable[[Any, Turn], list[Outgoing]]:
        applier = self.appliers.get(type(effect))
        if applier is None:
            raise Unplayable(f"{type(effect).__name__}: not applied by the core player")
        return applier

    # -- someone without a role ------------------------------------------------------------

    def _stranger(self, incoming: Incoming, now: datetime) -> list[Outgoing]:
        """Only a valid invite gets someone in; anything else is answered and not kept."""
        command = incoming.command if incoming.kind == "command" else None
        if command in ("sos", "help"):
            raise Unplayable(f"/{command} from someone without a role (whole bot)")
        reason = N_("access.invite_only")
        if command == "start" and incoming.argument:
            invite = self.memory.redeem(incoming.argument, now)
            if invite is not None:
                return self._welcome(incoming, invite, now)
            reason = N_("access.invite_invalid")
        locale = locale_for_language_code(incoming.language_code, self.settings.default_locale)
        text = self.translator.render(Msg(reason), locale)
        if incoming.callback_query_id:
            return [AnswerButton(incoming.callback_query_id, text[:190])]
        return [SendText(incoming.chat_id, text)]

    def _welcome(self, incoming: Incoming, invite: Invite, now: datetime) -> list[Outgoing]:
        settings, role = self.settings, invite.role
        region = region_for_language_code(incoming.language_code)
        zones = questions.ZONES_BY_REGION.get(region or "")
        subject = role in (Role.CLIENT, Role.FAMILY)
        person = PersonRow(
            id=next(self.memory.ids),
            telegram_user_id=incoming.user_id,
            chat_id=incoming.chat_id,
            role=role.value,
            locale=locale_for_language_code(incoming.language_code, settings.default_locale),
            timezone=zones[0] if zones else settings.default_timezone,
            region=region,
            checkin_time=settings.default_checkin_time if subject else None,
            lesson_days=settings.lesson_days if role is Role.FAMILY else None,
            alias=self._free_alias() if subject else None,
            on_duty=False,
            paused=False,
            invite_id=invite.id,
            created_at=now,
        )
        self.memory.people[person.telegram_user_id] = person
        for link in self.memory.links.values():  # a relative joins through a client's link
            if link.invite_id == invite.id and not link.revoked:
                link.family_id = person.id
        place = self.memory.places[person.id] = Place()
        view = replace(people.view_of(person), numbers=self.lines.numbers_for(person.region))
        outcome = conversation.start_flow("onboarding", view, Event("start", now=now), self.rules)
        return self._apply(person, place, outcome, incoming, now)

    def _free_alias(self) -> str:
        taken = {p.alias.lower() for p in self.memory.people.values() if p.alias}
        alias = people.person_alias()
        while alias.lower() in taken:
            alias = people.person_alias()
        return alias

    # -- facts --------------------------------------------------------------------------

    def _checkin_fact(self, person: PersonRow, event: Event, now: datetime) -> dict[str, Any]:
        """Today's check-in as the flow saves it, opened on first use (``checkins.open_today``)."""
        day = local_date(now, person.timezone)
        row = self.memory.checkin(person.id, day, now)
        answered = self.memory.sign_answers.get((person.id, day), {})
        return {
            "day": day.isoformat(),
            "answers": {f: getattr(row, f) for f in FIELDS if getattr(row, f) is not None},
            "signs": [sign.id for sign in self.memory.active_signs(person.id)],
            "signs_answered": list(answered),
            "completed": row.completed_at is not None,
        }

    def _history_fact(self, person: PersonRow, event: Event, now: datetime) -> list[dict[str, Any]]:
        since = local_date(now, person.timezone) - timedelta(days=HISTORY_DAYS)
        complete = {
            day
            for (owner, day), row in self.memory.checkins.items()
            if owner == person.id and row.completed_at is not None
        }
        return history_days(self.memory.records(person.id, since), complete)

    def _signs_fact(self, person: PersonRow, event: Event, now: datetime) -> list[list[Any]]:
        return [[sign.id, sign.text] for sign in self.memory.active_signs(person.id)]

    def _progress_fact(self, person: PersonRow, event: Event, now: datetime) -> dict[str, str]:
        return {
            slug: how for (owner, slug), how in self.memory.lessons.items() if owner == person.id
        }

    def _links_fact(self, person: PersonRow, event: Event, now: datetime) -> list[dict[str, Any]]:
        """Joined links and pending invites that can still be used (``links_data``)."""
        shown = [
            link
            for link in self.memory.links.values()
            if link.client_id == person.id and not link.revoked
        ]
        return [
            {
                "id": link.id,
                "joined": link.family_id is not None,
                "summary": link.summary,
                "alerts": link.alerts,
            }
            for link in shown
            if link.family_id is not None
            or self.memory.usable(self.memory.invite_of(link.invite_id), now)
        ]

    def _plan_fact(self, person: PersonRow, event: Event, now: datetime) -> dict[str, str]:
        plan = self.memory.plans.get(person.id, {})
        return {section: plan[section] for section in SECTIONS if section in plan}

    def _alias_taken_fact(self, person: PersonRow, event: Event, now: datetime) -> bool:
        alias = questions.parse_alias(event)
        return alias is not None and any(
            (other.alias or "").lower() == alias.lower() and other.id != person.id
            for other in self.memory.people.values()
        )

    # -- appliers: messages ------------------------------------------------------------------

    def _say(self, effect: Say, turn: Turn) -> list[Outgoing]:
        return [replies.say(self.renderer, turn.person, turn.step, effect)]

    def _show_answer(self, effect: ShowAnswer, turn: Turn) -> list[Outgoing]:
        return replies.show_answer(self.renderer, turn.person, turn.incoming, effect)

    def _refresh_choices(self, effect: RefreshChoices, turn: Turn) -> list[Outgoing]:
        return replies.refresh_choices(self.renderer, turn.person, turn.incoming, turn.step, effect)

    def _notice(self, effect: Notice, turn: Turn) -> list[Outgoing]:
        out = replies.notice(self.renderer, turn.person, turn.incoming, effect)
        turn.answered |= bool(out)
        return out

    def _refresh_commands(self, effect: RefreshCommands, turn: Turn) -> list[Outgoing]:
        return replies.refresh_commands(turn.person, effect)

    # -- appliers: what is stored ------------------------------------------------------------

    def _update_person(self, effect: UpdatePerson, turn: Turn) -> list[Outgoing]:
        people.apply_update(turn.person, effect, turn.now)
        return []

    def _forget_person(self, effect: ForgetPerson, turn: Turn) -> list[Outgoing]:
        turn.forgotten = True
        self.memory.forget(turn.person)
        return []

    def _record_answer(self, effect: RecordAnswer, turn: Turn) -> list[Outgoing]:
        day = date.fromisoformat(effect.day)
        row = self.memory.checkin(turn.person.id, day, turn.now)
        if effect.field == "sign":
            assert isinstance(effect.value, list | tuple)
            sign_id, present = effect.value
            answers = self.memory.sign_answers.setdefault((turn.person.id, day), {})
            answers[int(sign_id)] = bool(present)
        elif effect.field in (*FIELDS, "note"):
            setattr(row, effect.field, effect.value)
        else:
            raise ValueError(f"unknown check-in field {effect.field}")
        return []

    def _finish_checkin(self, effect: FinishCheckin, turn: Turn) -> list[Outgoing]:
        """The day is complete; an early-warning flag would bring a person in (whole bot)."""
        day = date.fromisoformat(effect.day)
        row = self.memory.checkin(turn.person.id, day, turn.now)
        if row.completed_at is None:
            row.completed_at = turn.now
        since = day - timedelta(days=max(FLAG_WINDOW_DAYS, self.flag_rules.baseline_days + 1))
        hits = flags.evaluate(self.memory.records(turn.person.id, since), day, self.flag_rules)
        if hits:
            raise Unplayable(f"early-warning flags {[h.rule for h in hits]} open an escalation")
        return []

    def _save_sign(self, effect: SaveSign, turn: Turn) -> list[Outgoing]:
        person_id = turn.person.id
        if effect.sign_id is None:
            sign = WarningSign(id=next(self.memory.ids), person_id=person_id, text=effect.text)
            self.memory.signs[sign.id] = sign
            return []
        sign = self.memory.signs.get(effect.sign_id)
        if sign is not None and sign.person_id == person_id and sign.removed_at is None:
            sign.text = effect.text
        return []

    def _remove_sign(self, effect: RemoveSign, turn: Turn) -> list[Outgoing]:
        sign = self.memory.signs.get(effect.sign_id)
        if sign is not None and sign.person_id == turn.person.id:
            sign.removed_at = turn.now
        return []

    def _save_plan_section(self, effect: SavePlanSection, turn: Turn) -> list[Outgoing]:
        plan = self.memory.plans.setdefault(turn.person.id, {})
        if effect.text:
            plan[effect.section] = effect.text
        else:
            plan.pop(effect.section, None)
        return []

    def _lesson_progressed(self, effect: LessonProgressed, turn: Turn) -> list[Outgoing]:
        key = (turn.person.id, effect.slug)
        if effect.finished or key not in self.memory.lessons:
            self.memory.lessons[key] = "done" if effect.finished else "started"
        return []

    def _practice_answer(self, effect: PracticeAnswer, turn: Turn) -> list[Outgoing]:
        """Kept once the lesson was started, as the whole bot keeps it."""
        key = (turn.person.id, effect.slug)
        if key in self.memory.lessons:
            answers = {"tried": effect.tried, "helped": effect.helped}
            self.memory.practice.setdefault(key, {}).update(
                (name, value) for name, value in answers.items() if value is not None
            )
        return []

    # -- appliers: family links ----------------------------------------------------------------

    def _create_family_invite(self, effect: CreateFamilyInvite, turn: Turn) -> list[Outgoing]:
        expires = turn.now + timedelta(days=INVITE_DAYS)
        code, invite = self.memory.new_invite(Role.FAMILY, expires)
        link_id = next(self.memory.ids)
        link = Link(link_id, turn.person.id, invite.id, effect.share_summary, effect.share_alerts)
        self.memory.links[link_id] = link
        where = deep_link(self.settings.bot_username or self.bot.username, code)
        text = msg(N_("family.invite_created"), link=where, days=INVITE_DAYS)
        return [self.renderer.message(turn.person, text)]

    def _update_family_link(self, effect: UpdateFamilyLink, turn: Turn) -> list[Outgoing]:
        link = self._own_link(effect.link_id, turn)
        if link is None:
            return []
        link.summary, link.alerts = effect.share_summary, effect.share_alerts
        return self._tell_relative(
            link, msg(N_("family.access_changed"), scope=scope_line(link.summary, link.alerts))
        )

    def _revoke_family_link(self, effect: RevokeFamilyLink, turn: Turn) -> list[Outgoing]:
        link = self._own_link(effect.link_id, turn)
        if link is None:
            return []
        link.revoked = True
        invite = self.memory.invite_of(link.invite_id)
        if invite is not None:
            invite.revoked = True
        return self._tell_relative(link, Msg(N_("family.access_removed")))

    def _own_link(self, link_id: int, turn: Turn) -> Link | None:
        link = self.memory.links.get(link_id)
        if link is None or link.client_id != turn.person.id or link.revoked:
            return None
        return link

    def _tell_relative(self, link: Link, text: Text) -> list[Outgoing]:
        relative = self.memory.person(link.family_id)
        return [] if relative is None else [self.renderer.message(relative, text)]
