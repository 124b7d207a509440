"""A person's account as a whole: exporting their data (``/mydata``), erasing them
(``/deleteme``, ``tongban users delete``) and an admin changing their role."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import update as sql_update
from sqlalchemy.ext.asyncio import AsyncSession
from telegram import ReplyKeyboardRemove

from bot import data_rights
from bot.applying import Acting, Appliers, Applying
from bot.escalations import STAFF_ROLES, SUBJECT_ROLES, Escalations
from bot.host import Host
from bot.storage import audit, people
from bot.storage.duty import duty_changed
from bot.storage.models import FlowState, Person
from bot.telegram.render import Outgoing, SendDocument, SendText
from flows import crisis, escalation
from flows.effects import Effect, EraseMe, ExportData, ForgetPerson, UpdatePerson
from flows.roles import Role
from flows.text import N_, Msg, msg

log = logging.getLogger(__name__)


class Accounts:
    """Export, erasure and role changes: each touches everything a person has."""

    def __init__(self, host: Host, appliers: Appliers, escalations: Escalations) -> None:
        self.host = host
        self.appliers = appliers
        self.escalations = escalations
        appliers.register(
            {
                UpdatePerson: self._update_person,
                ForgetPerson: self._forget_person,
                ExportData: self._export_data,
                EraseMe: self._erase_me,
            }
        )

    async def _update_person(
        self, session: AsyncSession, effect: UpdatePerson, acting: Applying
    ) -> list[Outgoing]:
        """Their own settings; a change of when things reach them places their schedule again
        once the update's effects are applied."""
        assert acting.person is not None
        if (
            effect.on_duty is not None
            and effect.on_duty != acting.person.on_duty
            and acting.person.role in STAFF_ROLES
        ):
            long_break = timedelta(minutes=self.host.settings.duty_long_break_minutes)
            await duty_changed(session, acting.person.id, effect.on_duty, acting.now, long_break)
        people.apply_update(acting.person, effect, acting.now)
        acting.reschedule |= effect.onboarded or any(
            value is not None
            for value in (effect.timezone, effect.checkin_time, effect.paused, effect.lesson_days)
        )
        return []

    async def _forget_person(
        self, session: AsyncSession, effect: ForgetPerson, acting: Applying
    ) -> list[Outgoing]:
        assert acting.person is not None and acting.flow_row is not None
        acting.forgotten = True
        await people.forget(session, acting.person, acting.flow_row)
        return []

    async def _export_data(
        self, session: AsyncSession, effect: ExportData, acting: Acting
    ) -> list[Outgoing]:
        assert acting.person is not None
        return await self._export(session, acting.person)

    async def _erase_me(
        self, session: AsyncSession, effect: EraseMe, acting: Acting
    ) -> list[Outgoing]:
        assert acting.person is not None
        acting.forgotten = True
        return await self.erase(session, acting.person, acting.now, goodbye=True)

    async def _export(self, session: AsyncSession, person: Person) -> list[Outgoing]:
        data = await data_rights.export(session, person, self.host.cipher)
        audit.record(session, person, "export", person.id)
        summary = msg(
            N_("mydata.summary"),
            checkins=len(data["checkins"]),
            signs=len(data["warning_signs"]),
            plan=len(data["safety_plan"]),
            requests=len(data["requests_for_a_person"]),
            lessons=len(data["lessons"]),
        )
        return [
            SendText(person.chat_id, self.host.renderer.text(person, summary)),
            SendDocument(person.chat_id, data_rights.export_json(data), "tongban-my-data.json"),
        ]

    async def erase(
        self, session: AsyncSession, person: Person, now: datetime, goodbye: bool
    ) -> list[Outgoing]:
        """Erase a person (``/deleteme``, or ``tongban users delete``): the chats a worker
        holds go back to the queue, an escalation about them closes and its worker is told,
        relatives they had linked lose access; then everything about them is deleted."""
        out: list[Outgoing] = []
        if goodbye:
            numbers = crisis.emergency_inline(self.host.lines.numbers_for(person.region))
            done = self.host.renderer.text(person, msg(N_("deleteme.done"), emergency=numbers))
            out.append(SendText(person.chat_id, done, ReplyKeyboardRemove()))
        effects = await self.escalations.leaving(session, person, "subject_erased", None, now)
        out += await self.appliers.apply(session, effects, Acting(person, now))
        for relative_id in await data_rights.erase(session, person, now):
            relative = await session.get(Person, relative_id)
            if relative is not None:
                out.append(self.host.renderer.message(relative, Msg(N_("family.access_removed"))))
        log.info("a person's data was erased")
        return out

    async def change_role(
        self, session: AsyncSession, person: Person, role: Role, now: datetime
    ) -> list[Outgoing]:
        """An admin changed someone's role (``tongban users set-role``). Staff who are no
        longer staff give their chats back (they and the chats' people are told); an
        escalation about someone who becomes staff closes. They finish the new role's setup
        (alias, duty …) next time they write."""
        if Role(person.role) is role:
            return []
        effects: tuple[Effect, ...] = ()
        if person.role in STAFF_ROLES and role.value not in STAFF_ROLES:
            effects = await self.escalations.leaving(
                session, person, "subject_role_changed", Msg(N_("desk.role_changed")), now
            )
            person.on_duty = False
        elif person.role in SUBJECT_ROLES and role.value in STAFF_ROLES:
            case = await self.escalations.case_about(session, person.id)
            if case is not None:
                effects = escalation.subject_left(case, "subject_role_changed", now)
        out = await self.appliers.apply(session, effects, Acting(person, now))
        person.role = role.value
        person.onboarded_at = None
        if role in (Role.CLIENT, Role.FAMILY) and person.alias is None:
            person.alias = await people.free_alias(session)
        await session.execute(
            sql_update(FlowState)
            .where(FlowState.person_id == person.id)
            .values(flow="onboarding", state="language", context={}, step=FlowState.step + 1)
        )
        return out
