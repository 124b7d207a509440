"""The daily check-in, warning signs and the safety plan, in memory (``bot.checkin``,
``bot.facts``)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from bot.checkin import FLAG_WINDOW_DAYS
from bot.facts import HISTORY_DAYS, history_days, joined_day
from bot.storage.checkins import FIELDS
from bot.storage.models import Person as PersonRow
from bot.storage.models import WarningSign
from bot.telegram.render import Outgoing
from flows import flags
from flows.effects import (
    CopingHelped,
    FinishCheckin,
    RecordAnswer,
    RemoveSign,
    SavePlanSection,
    SaveSign,
    ShowCopingCard,
)
from flows.facts import Fact
from flows.people import Event
from flows.safety_plan import SECTIONS
from flows.schedule import local_date
from tests.core_player.host import Feature, Host, Turn, Unplayable


class CheckIns:
    def __init__(self, host: Host) -> None:
        self.host = host
        self.memory = host.memory
        self.feature = Feature(
            facts={
                Fact.CHECKIN: self._checkin_fact,
                Fact.HISTORY: self._history_fact,
                Fact.TODAY: lambda person, _, now: local_date(now, person.timezone),
                Fact.JOINED: lambda person, _, now: joined_day(person),
                Fact.SIGNS: self._signs_fact,
                Fact.PLAN: lambda person, _, now: self.plan(person.id),
            },
            appliers={
                RecordAnswer: self._record_answer,
                FinishCheckin: self._finish_checkin,
                SaveSign: self._save_sign,
                RemoveSign: self._remove_sign,
                SavePlanSection: self._save_plan_section,
                ShowCopingCard: self._coping_card_shown,
                CopingHelped: self._coping_helped,
            },
            expanders={},
        )

    def plan(self, person_id: int) -> dict[str, str]:
        """The safety plan's sections in plan order (``safety_plans.load``)."""
        plan = self.memory.plans.get(person_id, {})
        return {section: plan[section] for section in SECTIONS if section in plan}

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

    # -- appliers -----------------------------------------------------------------------

    def _record_answer(self, effect: RecordAnswer, turn: Turn) -> list[Outgoing]:
        person_id, day = turn.acting.id, date.fromisoformat(effect.day)
        row = self.memory.checkin(person_id, day, turn.now)
        if effect.field == "sign":
            assert isinstance(effect.value, list | tuple)
            sign_id, present = effect.value
            answers = self.memory.sign_answers.setdefault((person_id, day), {})
            answers[int(sign_id)] = bool(present)
        elif effect.field in (*FIELDS, "note"):
            setattr(row, effect.field, effect.value)
        else:
            raise ValueError(f"unknown check-in field {effect.field}")
        return []

    def _finish_checkin(self, effect: FinishCheckin, turn: Turn) -> list[Outgoing]:
        """The day is complete; an early-warning flag would bring a person in (whole bot:
        which flags are new is ``bot.storage.flag_store``'s)."""
        person_id, day = turn.acting.id, date.fromisoformat(effect.day)
        row = self.memory.checkin(person_id, day, turn.now)
        if row.completed_at is None:
            row.completed_at = turn.now
        rules = self.host.flag_rules
        since = day - timedelta(days=max(FLAG_WINDOW_DAYS, rules.baseline_days + 1))
        hits = flags.evaluate(self.memory.records(person_id, since), day, rules)
        if hits:
            raise Unplayable(f"early-warning flags {[h.rule for h in hits]} open an escalation")
        return []

    def _save_sign(self, effect: SaveSign, turn: Turn) -> list[Outgoing]:
        person_id = turn.acting.id
        if effect.sign_id is None:
            added = WarningSign(id=next(self.memory.ids), person_id=person_id, text=effect.text)
            self.memory.signs[added.id] = added
            return []
        sign = self.memory.signs.get(effect.sign_id)
        if sign is not None and sign.person_id == person_id and sign.removed_at is None:
            sign.text = effect.text
        return []

    def _remove_sign(self, effect: RemoveSign, turn: Turn) -> list[Outgoing]:
        sign = self.memory.signs.get(effect.sign_id)
        if sign is not None and sign.person_id == turn.acting.id:
            sign.removed_at = turn.now
        return []

    def _save_plan_section(self, effect: SavePlanSection, turn: Turn) -> list[Outgoing]:
        plan = self.memory.plans.setdefault(turn.acting.id, {})
        if effect.text:
            plan[effect.section] = effect.text
        else:
            plan.pop(effect.section, None)
        return []

    # -- coping cards (``bot.coping``) ----------------------------------------------------------

    def _coping_card_shown(self, effect: ShowCopingCard, turn: Turn) -> list[Outgoing]:
        self.memory.coping.append([turn.acting.id, effect.card, effect.source, None])
        return []

    def _coping_helped(self, effect: CopingHelped, turn: Turn) -> list[Outgoing]:
        """On the latest unanswered showing of that card, else the latest (``coping.helped``)."""
        rows = [r for r in self.memory.coping if r[:2] == [turn.acting.id, effect.card]]
        unanswered = [r for r in rows if r[3] is None]
        target = (unanswered or rows or [None])[-1]
        if target is None:
            target = [turn.acting.id, effect.card, "library", None]
            self.memory.coping.append(target)
        target[3] = effect.helped
        return []
