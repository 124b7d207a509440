"""The shell's side of the daily check-in, warning signs and the safety plan: storing what
the core decided, and looking at a finished day against the person's own baseline."""

from __future__ import annotations

import logging
from collections.abc import Collection, Sequence
from datetime import date, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from bot.applying import Acting, Appliers
from bot.escalations import Escalations
from bot.host import Host
from bot.storage import checkins, flag_store, safety_plans
from bot.storage.models import Person
from bot.telegram.render import Outgoing
from flows import flags
from flows.effects import FinishCheckin, RecordAnswer, RemoveSign, SavePlanSection, SaveSign
from flows.timers import RaiseFlag

log = logging.getLogger(__name__)

FLAG_WINDOW_DAYS = 28


class CheckIns:
    """Appliers for answers, finished days, warning signs and safety-plan sections."""

    def __init__(self, host: Host, appliers: Appliers, escalations: Escalations) -> None:
        self.host = host
        self.escalations = escalations
        appliers.register(
            {
                RecordAnswer: self._record_answer,
                FinishCheckin: self._finish,
                SaveSign: self._save_sign,
                RemoveSign: self._remove_sign,
                SavePlanSection: self._save_plan_section,
                RaiseFlag: self._silence_flag,
            }
        )

    async def _record_answer(
        self, session: AsyncSession, effect: RecordAnswer, acting: Acting
    ) -> list[Outgoing]:
        assert acting.person is not None
        value = (
            self.host.cipher.encrypt(str(effect.value)) if effect.field == "note" else effect.value
        )
        day = date.fromisoformat(effect.day)
        await checkins.record(session, acting.person.id, day, effect.field, value)
        return []

    async def _finish(
        self, session: AsyncSession, effect: FinishCheckin, acting: Acting
    ) -> list[Outgoing]:
        """Close the day's check-in and look at it against the person's own recent baseline."""
        person, day, now = acting.person, date.fromisoformat(effect.day), acting.now
        assert person is not None
        await checkins.finish(session, person.id, day, now)
        window = max(FLAG_WINDOW_DAYS, self.host.flag_rules.baseline_days + 1)
        since = day - timedelta(days=window)
        history = (await checkins.records(session, [person.id], since))[person.id]
        open_rules = {flag.rule for flag in await flag_store.open_flags(session, person.id)}
        hits = flags.evaluate(history, day, self.host.flag_rules, open_rules)
        return await self._raise(session, person, hits, acting, flags.RULE_NAMES)

    async def _silence_flag(
        self, session: AsyncSession, effect: RaiseFlag, acting: Acting
    ) -> list[Outgoing]:
        """Days without a check-in, as the clock found them."""
        assert acting.person is not None
        return await self._raise(session, acting.person, [effect.hit], acting, {"silence"})

    async def _raise(
        self,
        session: AsyncSession,
        person: Person,
        hits: Sequence[flags.FlagHit],
        acting: Acting,
        rules: Collection[str],
    ) -> list[Outgoing]:
        """Store the flags among ``rules`` (new ones raised, gone ones cleared); new ones bring
        a peer worker in."""
        raised = await flag_store.apply(session, person, hits, acting.now, rules=rules)
        if not raised:
            return []
        log.info("person %s: %d early-warning flag(s) raised", person.id, len(raised))
        return await self.escalations.flags_raised(session, person, raised, acting.now)

    async def _save_sign(
        self, session: AsyncSession, effect: SaveSign, acting: Acting
    ) -> list[Outgoing]:
        assert acting.person is not None
        text = self.host.cipher.encrypt(effect.text)
        await checkins.save_sign(session, acting.person.id, effect.sign_id, text)
        return []

    async def _remove_sign(
        self, session: AsyncSession, effect: RemoveSign, acting: Acting
    ) -> list[Outgoing]:
        assert acting.person is not None
        await checkins.remove_sign(session, acting.person.id, effect.sign_id, acting.now)
        return []

    async def _save_plan_section(
        self, session: AsyncSession, effect: SavePlanSection, acting: Acting
    ) -> list[Outgoing]:
        assert acting.person is not None
        await safety_plans.save(
            session, acting.person.id, effect.section, effect.text, self.host.cipher, acting.now
        )
        return []
