"""The core player's stage: one update at a time, as ``bot.telegram.dispatch`` handles it,
without storage (the tables are in memory) and without python-telegram-bot's Application."""

from __future__ import annotations

import itertools
from collections import deque
from collections.abc import Iterator, Sequence
from dataclasses import replace
from datetime import date, datetime, timedelta
from typing import Any

from telegram import Bot, Update

from bot.escalations import STAFF_ROLES, SUBJECT_ROLES
from bot.i18n import locale_for_language_code, region_for_language_code
from bot.sandbox.in_memory import InMemoryBotAPI
from bot.storage import people
from bot.storage.models import CheckIn
from bot.storage.models import Person as PersonRow
from bot.telegram import replies
from bot.telegram.events import event_for, screened_text, with_risk
from bot.telegram.incoming import Incoming, classify
from bot.telegram.outbox import Outbox
from bot.telegram.render import AnswerButton, Outgoing, SendText
from bot.telegram.sending import after_delivery
from flows import conversation, questions
from flows.effects import (
    Effect,
    ForgetPerson,
    Notice,
    RefreshChoices,
    RefreshCommands,
    Say,
    ShowAnswer,
    UpdatePerson,
)
from flows.engine import Outcome
from flows.facts import Fact
from flows.people import Event, PersonView
from flows.risk import Assessment, Level, assess
from flows.risk.context import LAYER, in_context, joined, kept, recent
from flows.roles import Role
from flows.text import N_, Msg
from tests.core_player.checkins import CheckIns
from tests.core_player.crisis import Crisis
from tests.core_player.escalations import Escalations
from tests.core_player.family import Family
from tests.core_player.host import Applier, Expander, Feature, Host, Loader, Turn, Unplayable
from tests.core_player.memory import Invite, Place
from tests.harness import TEST_TOKEN, Person, Reply, onboard_in_chat, region_label, replies_to


class CoreStage:
    """A ``tests.exact.Stage``: people's updates go to ``flows.conversation`` with their
    facts from memory; what the core decides is applied there and sent to ``api``."""

    def __init__(self, **settings: Any) -> None:
        self.api = InMemoryBotAPI()
        self.bot = Bot(TEST_TOKEN, request=self.api, get_updates_request=self.api)
        self.host = Host(**settings)
        self.memory = self.host.memory
        self.outbox = Outbox(self.host.translator, self._blocked)
        self.update_ids = itertools.count(1_000_000)
        # each person's last screened messages, as bot/storage/recent_words.py keeps them
        self.recent: dict[int, list[tuple[datetime, str]]] = {}
        self.query_ids: Iterator[int] = itertools.count(1)
        self.user_ids = itertools.count(500_001)
        self.checkins = CheckIns(self.host)
        self.escalations = Escalations(self.host, self.checkins)
        self.family = Family(self.host, self.escalations)
        self.crisis = Crisis(self.host, self.checkins, self.escalations, self.family)
        self.facts: dict[Fact, Loader] = {Fact.ALIAS_TAKEN: self._alias_taken_fact}
        self.appliers: dict[type, Applier] = {
            Say: self._say,
            ShowAnswer: self._show_answer,
            RefreshChoices: self._refresh_choices,
            Notice: self._notice,
            UpdatePerson: self._update_person,
            RefreshCommands: self._refresh_commands,
            ForgetPerson: self._forget_person,
        }
        self.expanders: dict[type, Expander] = {}
        for feature in (self.checkins, self.escalations, self.family, self.crisis):
            self._register(feature.feature)

    def _register(self, feature: Feature) -> None:
        """Each fact has one loader and each effect one applier or expander."""
        known = set(self.facts) | set(self.appliers) | set(self.expanders)
        added = set(feature.facts) | set(feature.appliers) | set(feature.expanders)
        assert not known & added, f"registered twice: {known & added}"
        self.facts.update(feature.facts)
        self.appliers.update(feature.appliers)
        self.expanders.update(feature.expanders)

    async def start(self) -> None:
        await self.bot.initialize()
        self.host.bot_username = self.host.settings.bot_username or self.bot.username

    async def _blocked(self, bot: Bot, chat_id: int) -> None:
        raise Unplayable("a chat blocked the bot")

    # -- tests.exact.Stage ------------------------------------------------------------------

    async def configure(self, settings: dict[str, str]) -> None:
        self.host.configure(settings)
        self.host.bot_username = self.host.settings.bot_username or self.bot.username

    def set_now(self, now: datetime) -> None:
        self.host.now = now

    def person(self, language_code: str | None = "en") -> Person:
        return Person(self, next(self.user_ids), language_code)

    async def join(self, role: Role, language_code: str, alias: str) -> Person:
        """Onboarded through the chat as on the whole bot; a client's or relative's alias is
        then the cast's."""
        person = self.person(language_code)
        region = region_label(self.host.translator, language_code)
        await onboard_in_chat(person, await self.invite(role), role, region, alias)
        self.memory.people[person.user_id].alias = alias
        return person

    async def invite(self, role: Role) -> str:
        return self.memory.new_invite(role)[0]

    async def tick(self) -> None:
        raise Unplayable("tick: the scheduler is not part of the core player")

    async def cli(self, command: str) -> list[str]:
        raise Unplayable("cli: the command line writes to the database (the whole bot)")

    async def restart(self) -> None:
        """The core keeps nothing between updates but what is stored, so nothing changes."""

    async def set_role(self, person: Person, role: Role) -> None:
        raise Unplayable("role: a role change closes escalations (the whole bot)")

    async def link(self, client: Person, relative: Person) -> None:
        linked = self.memory.people.get(client.user_id), self.memory.people.get(relative.user_id)
        assert linked[0] is not None and linked[1] is not None
        self.family.link(linked[0], linked[1])

    async def lessons_done(self, person: Person, slugs: list[str]) -> None:
        row = self.memory.people[person.user_id]
        for slug in slugs:
            self.memory.lessons[(row.id, slug)] = "done"

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
        """As ``Dispatcher.handle_update``: crisis language is answered first, before the
        update is handled."""
        before = len(self.api.calls)
        number = update_id if update_id is not None else next(self.update_ids)
        incoming = classify(Update.de_json({"update_id": number, **payload}, self.bot))
        assert incoming is not None, "a private message, edit or button press"
        text = screened_text(incoming)
        risk = None if text is None else assess(text, self.host.lexicon)
        earlier: list[tuple[datetime, str]] = []
        if text is not None and risk is not None and risk.level is not Level.CRISIS:
            earlier = self._earlier(incoming.user_id)
            if earlier:
                risk = in_context(risk, [t for _, t in earlier], text, self.host.lexicon)
        if risk is not None and risk.level is Level.CRISIS:
            await self._send(self.crisis.reply(incoming, "third_party" in risk.categories))
        await self._send(self._handle(incoming, risk, earlier))
        return replies_to(person, self.api.calls[before:])

    async def _send(self, outgoing: Sequence[Outgoing]) -> None:
        """Deliver, then remember where cards and relays landed and send what their delivery
        calls for (``Sender.send``)."""
        deliveries = await self.outbox.deliver(self.bot, outgoing)
        if any(getattr(d.request, "tag", None) for d in deliveries):
            landed, follow_up = after_delivery(deliveries, self.host.translator)
            self.escalations.landed(landed)
            if follow_up:
                await self._send(follow_up)

    # -- one update (Dispatcher._process, without storage) -----------------------------------

    def _window(self) -> timedelta:
        return timedelta(minutes=self.host.settings.context_window_minutes)

    def _earlier(self, user_id: int) -> list[tuple[datetime, str]]:
        """As ``Dispatcher._earlier``: what they said within the window."""
        return recent(self.recent.get(user_id, []), self.host.clock(), self._window())

    def _handle(
        self, incoming: Incoming, risk: Assessment | None, earlier: list[tuple[datetime, str]]
    ) -> list[Outgoing]:
        now = self.host.clock()
        person = self.memory.people.get(incoming.user_id)
        if person is None:
            return self._stranger(incoming, now)
        person.blocked_at = None
        person.chat_id = incoming.chat_id
        place = self.memory.places[person.id]
        had_case = self.memory.unresolved_about(person.id) is not None
        screened = risk if person.role in SUBJECT_ROLES else None  # staff are not
        first: list[Outgoing] = []
        text = screened_text(incoming)
        if screened is not None and text is not None and self._window():
            texts = kept([t for _, t in earlier], text, screened.level)
            times = [at for at, _ in earlier] + [now]
            said = zip(times[len(times) - len(texts) :], texts, strict=True)
            self.recent[incoming.user_id] = list(said)
        if screened is not None and screened.level is not Level.NONE:
            words = incoming.text or ""
            if text is not None and LAYER in screened.layers:
                words = joined([t for _, t in earlier], text)
            first = self._apply_all(self.crisis.risk(person, screened, words), Turn(person, now))
        event = event_for(
            incoming, self.host.renderer, person, place.step, not place.snapshot.idle, now
        )
        if not isinstance(event, Event):
            return first + event
        flow, state = place.snapshot.flow, place.snapshot.state
        wanted = conversation.facts_for(event, Role(person.role), flow, state)
        if wanted:
            event = replace(
                event, data={f.value: self._fact(f, person, event, now) for f in wanted}
            )
        if screened is not None:
            event = with_risk(event, screened)
        if person.role in STAFF_ROLES and incoming.reply_to_message_id is not None:
            replied = self.escalations.reply_case(person.chat_id, incoming.reply_to_message_id)
            event = replace(event, reply_case=replied, reply_unknown=replied is None)
        # As the dispatcher: crisis language has opened an escalation (told to anyone or
        # not), so the case is looked for again.
        crisis_language = screened is not None and screened.level is Level.CRISIS
        view = self._view(person, had_case or crisis_language)
        outcome = conversation.handle(event, view, place.snapshot, self.host.rules)
        return first + self._apply(person, place, outcome, incoming, now)

    def _view(self, person: PersonRow, has_case: bool) -> PersonView:
        """A staff member's desk; the escalation about a client or relative (``Dispatcher._view``)."""
        view = replace(people.view_of(person), numbers=self.host.lines.numbers_for(person.region))
        if person.role in STAFF_ROLES:
            return replace(view, desk=self.escalations.desk(person))
        if has_case and person.role in SUBJECT_ROLES:
            return replace(view, case=self.escalations.case_about(person.id))
        return view

    def _fact(self, fact: Fact, person: PersonRow, event: Event, now: datetime) -> Any:
        loader = self.facts.get(fact)
        if loader is None:
            raise Unplayable(f"fact {fact.value!r} is not in the core player's memory")
        return loader(person, event, now)

    def _apply(
        self, person: PersonRow, place: Place, outcome: Outcome, incoming: Incoming, now: datetime
    ) -> list[Outgoing]:
        """The effects, then the new place (``Dispatcher._apply``)."""
        asks = any(isinstance(e, Say) and e.choices for e in outcome.effects)
        turn = Turn(person, now, incoming, place.step + 1 if asks else place.step)
        outgoing = self._apply_all(outcome.effects, turn)
        if not turn.forgotten:
            self.memory.places[person.id] = Place(outcome.snapshot, turn.step)
        if incoming.callback_query_id and not turn.answered:
            outgoing.insert(0, AnswerButton(incoming.callback_query_id))
        return outgoing

    def _apply_all(self, effects: Sequence[Effect], turn: Turn) -> list[Outgoing]:
        """Each effect by its one applier, in order; an expander's effects take its place
        (``bot.applying.Appliers.apply``)."""
        outgoing: list[Outgoing] = []
        pending: deque[Effect] = deque(effects)
        while pending:
            effect = pending.popleft()
            expand = self.expanders.get(type(effect))
            if expand is not None:
                pending.extendleft(reversed(expand(effect, turn)))
                continue
            applier = self.appliers.get(type(effect))
            if applier is None:
                raise Unplayable(f"{type(effect).__name__}: not applied by the core player")
            outgoing += applier(effect, turn)
        return outgoing

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
            # As the whole bot: a code once made is spent, a code nobody made is mistyped.
            made = incoming.argument in self.memory.invites
            reason = N_("access.invite_invalid") if made else N_("access.invite_unknown")
        settings = self.host.settings
        locale = locale_for_language_code(incoming.language_code, settings.default_locale)
        text = self.host.translator.render(Msg(reason), locale)
        if incoming.callback_query_id:
            return [AnswerButton(incoming.callback_query_id, text[:190])]
        return [SendText(incoming.chat_id, text)]

    def _welcome(self, incoming: Incoming, invite: Invite, now: datetime) -> list[Outgoing]:
        settings, role = self.host.settings, invite.role
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
        view = replace(people.view_of(person), numbers=self.host.lines.numbers_for(person.region))
        event = Event("start", now=now)
        outcome = conversation.start_flow("onboarding", view, event, self.host.rules)
        return self._apply(person, place, outcome, incoming, now)

    def _free_alias(self) -> str:
        taken = {p.alias.lower() for p in self.memory.people.values() if p.alias}
        alias = people.person_alias()
        while alias.lower() in taken:
            alias = people.person_alias()
        return alias

    def _alias_taken_fact(self, person: PersonRow, event: Event, now: datetime) -> bool:
        alias = questions.parse_alias(event)
        return alias is not None and any(
            (other.alias or "").lower() == alias.lower() and other.id != person.id
            for other in self.memory.people.values()
        )

    # -- appliers: the person acting ----------------------------------------------------------

    def _say(self, effect: Say, turn: Turn) -> list[Outgoing]:
        return [replies.say(self.host.renderer, turn.acting, turn.step, effect)]

    def _show_answer(self, effect: ShowAnswer, turn: Turn) -> list[Outgoing]:
        if turn.incoming is None:
            return []
        return replies.show_answer(self.host.renderer, turn.acting, turn.incoming, effect)

    def _refresh_choices(self, effect: RefreshChoices, turn: Turn) -> list[Outgoing]:
        if turn.incoming is None:
            return []
        renderer, person, incoming = self.host.renderer, turn.acting, turn.incoming
        return replies.refresh_choices(renderer, person, incoming, turn.step, effect)

    def _notice(self, effect: Notice, turn: Turn) -> list[Outgoing]:
        if turn.incoming is None:
            return []
        out = replies.notice(self.host.renderer, turn.acting, turn.incoming, effect)
        turn.answered |= bool(out)
        return out

    def _refresh_commands(self, effect: RefreshCommands, turn: Turn) -> list[Outgoing]:
        return replies.refresh_commands(turn.acting, effect)

    def _update_person(self, effect: UpdatePerson, turn: Turn) -> list[Outgoing]:
        people.apply_update(turn.acting, effect, turn.now)
        return []

    def _forget_person(self, effect: ForgetPerson, turn: Turn) -> list[Outgoing]:
        turn.forgotten = True
        self.memory.forget(turn.acting)
        return []
