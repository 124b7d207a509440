"""The shell's side of peer activities: answers stored, notices placed and sent by the tick,
and what the command line does (create, edit, cancel). ``flows/activities.py`` decides."""

from __future__ import annotations

import logging
from argparse import Namespace
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import delete, func, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from bot.applying import Acting, Appliers
from bot.host import Host
from bot.rooms import Rooms
from bot.storage import activities as stored
from bot.storage.db import Database
from bot.storage.models import (
    Activity,
    ActivityAttendance,
    ActivityFeedback,
    ActivityLeader,
    ActivityNotice,
    ActivityRecord,
    Person,
)
from bot.storage.people import view_of
from bot.telegram.render import Outgoing
from flows import activities, activity_changes, activity_record
from flows.activities import (
    ATTENDANCE,
    FEEDBACK,
    INVITE,
    REMINDERS,
    Draft,
    Found,
    InvalidActivity,
    LeaderGone,
    TimePassed,
)
from flows.effects import (
    ActivityRequest,
    CancelActivity,
    ChangeActivity,
    Choice,
    CreateActivity,
    DropActivityAnswers,
    Effect,
    FileActivityRecord,
    ListLedActivities,
    PlaceNotices,
    ReplaceReminders,
    SaveActivityFeedback,
    Say,
    SetActivityAnswer,
    SetAttendance,
    SetInvitations,
    Tell,
    UpdateActivityRecord,
)
from flows.roles import STAFF, Role
from flows.schedule import at_local
from flows.text import N_, Lines, Msg, msg

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Changes:
    """What ``tongban activity edit`` changes (``None``: unchanged)."""

    title: str | None = None
    starts_at: datetime | None = None
    minutes: int | None = None
    place: str | None = None  # "online" for the online room
    capacity: int | None = None
    kind: str | None = None
    audience: str | None = None
    language: str | None = None
    leaders: tuple[str, ...] | None = None  # every leader's alias


class Activities:
    """Registers the activity appliers; ``tick`` sends the notices that are due."""

    def __init__(self, host: Host, appliers: Appliers, rooms: Rooms) -> None:
        self.host = host
        self.appliers = appliers
        self.rooms = rooms  # an online activity's room follows it (made, invited, moved, closed)
        appliers.register(
            {
                SetActivityAnswer: self._set_answer,
                ReplaceReminders: self._replace_reminders,
                PlaceNotices: self._place_notices,
                SetInvitations: self._set_invitations,
                CreateActivity: self._create,
                SetAttendance: self._set_attendance,
                UpdateActivityRecord: self._update_record,
                FileActivityRecord: self._file_record,
                SaveActivityFeedback: self._save_feedback,
                ChangeActivity: self._change,
                CancelActivity: self._cancel,
                DropActivityAnswers: self._drop_answers,
            }
        )
        appliers.register_expanders({ActivityRequest: self._request, ListLedActivities: self._led})

    # -- a person's tap ---------------------------------------------------------------------

    async def _request(
        self, session: AsyncSession, effect: ActivityRequest, acting: Acting
    ) -> tuple[Effect, ...]:
        assert acting.person is not None
        loaded = await stored.load(session, effect.activity_id, lock=effect.action != "show")
        found = loaded[1] if loaded is not None else None
        if effect.action in ("sheet", "attend"):
            return activity_record.decide_leader(effect, found, view_of(acting.person), acting.now)
        if effect.action in activity_changes.ACTIONS:
            return activity_changes.decide(
                effect, found, view_of(acting.person), acting.now, self.host.rules.program_zone
            )
        return activities.decide(effect, found, view_of(acting.person), acting.now, self.host.rules)

    async def _set_answer(
        self, session: AsyncSession, effect: SetActivityAnswer, acting: Acting
    ) -> list[Outgoing]:
        row = await session.get(Activity, effect.activity_id)
        person = await session.get(Person, effect.person_id)
        if row is None or person is None:
            return []
        await stored.set_answer(session, row.id, person.id, effect.answer, effect.at)
        await self.rooms.follow_answer(session, row.id, person, effect.answer, effect.at)
        await stored.drop_reminders(session, row.id, [person.id])
        activity = stored.core_activity(row, ())
        for kind, at in effect.reminders:
            await stored.place(
                session, activity, [person], kind, at, self.host.rules, activity.starts_at
            )
        return []

    async def _replace_reminders(
        self, session: AsyncSession, effect: ReplaceReminders, acting: Acting
    ) -> list[Outgoing]:
        row = await session.get(Activity, effect.activity_id)
        if row is None:
            return []
        await stored.drop_reminders(session, row.id)
        activity = stored.core_activity(row, ())
        going = await stored.going(session, row.id)
        for kind, at in effect.reminders:
            await stored.place(
                session, activity, going, kind, at, self.host.rules, activity.starts_at
            )
        return []

    async def _place_notices(
        self, session: AsyncSession, effect: PlaceNotices, acting: Acting
    ) -> list[Outgoing]:
        row = await session.get(Activity, effect.activity_id)
        if row is None:
            return []
        people = list(
            (await session.scalars(select(Person).where(Person.id.in_(effect.people)))).all()
        )
        activity = stored.core_activity(row, ())
        await stored.place(
            session,
            activity,
            people,
            effect.kind,
            effect.at,
            self.host.rules,
            activities.deadline(effect.kind, activity),
        )
        return []

    async def _set_invitations(
        self, session: AsyncSession, effect: SetInvitations, acting: Acting
    ) -> list[Outgoing]:
        assert acting.person is not None
        await stored.set_opt_out(session, acting.person.id, not effect.on, acting.now)
        return []

    async def _create(
        self, session: AsyncSession, effect: CreateActivity, acting: Acting
    ) -> list[Outgoing]:
        assert acting.person is not None
        # the flow checked every answer; only what changed since it was asked can fail
        try:
            row, invited = await self.create(session, effect.draft, acting.now, acting.person.id)
        except LeaderGone as gone:
            text = msg(N_("activity.new.leader_gone"), alias=gone.alias)
            return [self.host.renderer.message(acting.person, text, menu=True)]
        except TimePassed:
            late = Msg(N_("activity.new.too_late"))
            return [self.host.renderer.message(acting.person, late, menu=True)]
        text = msg(N_("activity.new.announced"), id=row.id, invited=invited)
        return [self.host.renderer.message(acting.person, text, menu=True)]

    # -- a leader changes or cancels in the chat (as the command line does) -----------------

    async def _led(
        self, session: AsyncSession, effect: ListLedActivities, acting: Acting
    ) -> tuple[Effect, ...]:
        person = acting.person
        assert person is not None
        leader = None if Role(person.role) in activity_changes.OVERSEERS else person.id
        page, size = effect.page, activity_changes.PAGE
        found = await stored.led_by(session, leader, acting.now, page * size, size + 1)
        zone = self.host.rules.program_zone
        return (activity_changes.led(found[:size], zone, page, len(found) > size, leader is None),)

    async def _change(
        self, session: AsyncSession, effect: ChangeActivity, acting: Acting
    ) -> list[Outgoing]:
        """Checked again on the locked activity (it may have started or been cancelled while
        the new value was typed), then :meth:`edit`."""
        person = acting.person
        assert person is not None
        loaded = await stored.load(session, effect.activity_id, lock=True)
        refused = activity_changes.refusal(
            loaded[1] if loaded else None, view_of(person), acting.now
        )
        if refused is not None:
            return await self.appliers.apply(session, (refused,), acting)
        try:
            row, out = await self.edit(session, effect.activity_id, _changes(effect), acting.now)
        except LeaderGone as gone:  # asked again: nothing is saved with a leader guessed
            again = Choice(
                Msg(activity_changes.FIELDS["leaders"]), f"/manage {effect.activity_id} leaders"
            )
            said = Say(msg(N_("activity.edit.leader_gone"), alias=gone.alias), (again,))
            return await self.appliers.apply(session, (said,), acting)
        except TimePassed:  # the new time passed while they were deciding
            failed = Say(Msg(N_("activity.edit.failed")), menu=True)
            return await self.appliers.apply(session, (failed,), acting)
        after = (await stored.found(session, [row]))[0]
        text = Lines(
            (
                Msg(N_("activity.edit.saved")),
                *activities.card(after.activity, zone=self.host.rules.program_zone).parts,
                msg(
                    N_("activity.edit.places"), going=after.going, capacity=after.activity.capacity
                ),
            )
        )
        return [*out, *await self.appliers.apply(session, (Say(text, menu=True),), acting)]

    async def _drop_answers(
        self, session: AsyncSession, effect: DropActivityAnswers, acting: Acting
    ) -> list[Outgoing]:
        await stored.drop_answers(session, effect.activity_id, effect.people)
        return []

    async def _cancel(
        self, session: AsyncSession, effect: CancelActivity, acting: Acting
    ) -> list[Outgoing]:
        """Decided on the locked activity by ``activity_changes.decide``: :meth:`cancel`."""
        try:
            row, told = await self.cancel(session, effect.activity_id, acting.now)
        except InvalidActivity:
            return await self.appliers.apply(session, (Say(Msg(N_("activity.gone"))),), acting)
        done = Say(msg(N_("activity.cancel.done"), title=row.title, told=told), menu=True)
        return await self.appliers.apply(session, (done,), acting)

    # -- after it starts: attendance, the record, feedback ----------------------------------

    async def _set_attendance(
        self, session: AsyncSession, effect: SetAttendance, acting: Acting
    ) -> list[Outgoing]:
        assert acting.person is not None
        person = await session.get(Person, effect.person_id)
        row = await session.scalar(
            select(ActivityAttendance).where(
                ActivityAttendance.activity_id == effect.activity_id,
                ActivityAttendance.person_id == effect.person_id,
            )
        )
        if effect.present and row is None and person is not None:
            session.add(
                ActivityAttendance(
                    activity_id=effect.activity_id,
                    person_id=person.id,
                    role=person.role,
                    marked_by=acting.person.id,
                    marked_at=acting.now,
                )
            )
        elif not effect.present and row is not None:
            await session.delete(row)
        await session.flush()
        return []

    async def _leading(
        self, session: AsyncSession, activity_id: int, acting: Acting
    ) -> tuple[Activity, Found] | None:
        """The activity (locked), when the person acting leads it or supervises."""
        assert acting.person is not None
        loaded = await stored.load(session, activity_id, lock=True)
        if loaded is None or not activity_record.leads(loaded[1], view_of(acting.person)):
            return None
        return loaded

    async def _update_record(
        self, session: AsyncSession, effect: UpdateActivityRecord, acting: Acting
    ) -> list[Outgoing]:
        """A draft until filed; once filed, a record is not changed."""
        assert acting.person is not None
        if await self._leading(session, effect.activity_id, acting) is None:
            return []
        row = await session.get(ActivityRecord, effect.activity_id)
        if row is None:
            row = ActivityRecord(activity_id=effect.activity_id)
            session.add(row)
        if row.filed_at is not None:
            return []
        cipher = self.host.cipher
        row.filed_by = acting.person.id
        if effect.minutes is not None:
            row.minutes = effect.minutes
        if effect.what_was_done is not None:
            row.what_was_done = cipher.encrypt(effect.what_was_done)
        if effect.problem is not None:
            row.problem = effect.problem
        if effect.problem_note is not None:
            row.problem_note = cipher.encrypt(effect.problem_note)
        await session.flush()
        return []

    async def _file_record(
        self, session: AsyncSession, effect: FileActivityRecord, acting: Acting
    ) -> list[Outgoing]:
        """Filed once (a second time is refused), with the head count; those present are
        asked for feedback; an adverse event is told to every supervisor at once."""
        leader = acting.person
        assert leader is not None
        loaded = await self._leading(session, effect.activity_id, acting)
        record = await session.get(ActivityRecord, effect.activity_id)
        if loaded is None or record is None:
            return [self.host.renderer.message(leader, Msg(N_("activity.gone")))]
        row, found = loaded
        if record.filed_at is not None:
            text = msg(N_("activity.record.already"), title=row.title)
            return [self.host.renderer.message(leader, text, menu=True)]
        record.filed_at, record.filed_by, record.attended = (
            acting.now,
            leader.id,
            len(found.present),
        )
        await session.flush()
        effects: list[Effect] = []
        if found.present:
            effects.append(PlaceNotices(row.id, tuple(sorted(found.present)), FEEDBACK, acting.now))
        if record.problem == "adverse":
            alert = msg(
                N_("activity.adverse.alert"),
                title=row.title,
                when=row.starts_at,
                alias=leader.alias or "?",
                note=self.host.cipher.decrypt(record.problem_note or ""),
            )
            effects += [Tell(boss, alert) for boss in await stored.supervisors(session)]
        out = await self.appliers.apply(session, effects, acting)
        thanks = msg(N_("activity.record.filed"), title=row.title, present=len(found.present))
        return [*out, self.host.renderer.message(leader, thanks, menu=True)]

    async def _save_feedback(
        self, session: AsyncSession, effect: SaveActivityFeedback, acting: Acting
    ) -> list[Outgoing]:
        """Kept only from someone marked present; a second answer replaces the first."""
        person = acting.person
        assert person is not None
        present = await session.scalar(
            select(ActivityAttendance.id).where(
                ActivityAttendance.activity_id == effect.activity_id,
                ActivityAttendance.person_id == person.id,
            )
        )
        if present is None:
            return []
        row = await session.scalar(
            select(ActivityFeedback).where(
                ActivityFeedback.activity_id == effect.activity_id,
                ActivityFeedback.person_id == person.id,
            )
        )
        if row is None:
            row = ActivityFeedback(activity_id=effect.activity_id, person_id=person.id)
            session.add(row)
        row.role, row.at = person.role, acting.now
        row.satisfaction, row.helped, row.again = effect.satisfaction, effect.helped, effect.again
        row.comment = self.host.cipher.encrypt(effect.comment) if effect.comment else None
        await session.flush()
        return []

    # -- the tick ----------------------------------------------------------------------------

    async def tick(self, session: AsyncSession, now: datetime) -> list[Outgoing]:
        """The notices that are due, oldest first, at most a batch (``due_at`` index; claimed
        by one process: SKIP LOCKED); each is decided when sent and then goes."""
        query = (
            select(ActivityNotice, Person)
            .join(Person, Person.id == ActivityNotice.person_id)
            .where(ActivityNotice.due_at <= now)
            .order_by(ActivityNotice.due_at, ActivityNotice.activity_id, ActivityNotice.person_id)
            .limit(self.host.settings.tick_batch)
        )
        if self.host.db.is_postgres:
            query = query.with_for_update(of=ActivityNotice, skip_locked=True)
        due = list((await session.execute(query)).all())
        if not due:
            return []
        ids = sorted({notice.activity_id for notice, _ in due})
        rows = (await session.scalars(select(Activity).where(Activity.id.in_(ids)))).all()
        by_id = {item.activity.id: item for item in await stored.found(session, rows)}
        outgoing: list[Outgoing] = []
        keys = []
        for notice, person in due:
            keys.append((notice.activity_id, notice.person_id, notice.kind))
            item = by_id.get(notice.activity_id)
            if item is None or person.blocked_at is not None:
                continue
            said = activity_record.notice(notice.kind, item, view_of(person), now)
            outgoing += await self.appliers.apply(session, said, Acting(person, now))
        await session.execute(
            delete(ActivityNotice)
            .where(
                tuple_(
                    ActivityNotice.activity_id, ActivityNotice.person_id, ActivityNotice.kind
                ).in_(keys)
            )
            .execution_options(synchronize_session=False)
        )
        return outgoing

    # -- the command line --------------------------------------------------------------------

    async def create(
        self, session: AsyncSession, draft: Draft, now: datetime, created_by: int | None = None
    ) -> tuple[Activity, int]:
        """Announce a new activity: stored, and an invitation placed for everyone it is for
        (sent by the tick, out of their quiet hours). Returns the row and how many are
        invited. Raises ``InvalidActivity`` with a reason an operator can act on."""
        activities.check(draft, now)
        leaders = await self._leaders(session, draft.leaders)
        row = Activity(
            title=draft.title.strip(),
            kind=draft.kind,
            starts_at=draft.starts_at,
            minutes=draft.minutes,
            place="" if draft.online else draft.place.strip(),
            online=draft.online,
            capacity=draft.capacity,
            audience=draft.audience,
            language=draft.language,
            zone=self.host.settings.default_timezone,
            created_by=created_by or leaders[0].id,
            created_at=now,
        )
        session.add(row)
        await session.flush()
        for leader in leaders:
            session.add(ActivityLeader(activity_id=row.id, person_id=leader.id))
        await session.flush()
        activity = stored.core_activity(row, ())
        invited = await stored.invitees(session, activity)
        placed = await stored.place(
            session, activity, invited, INVITE, now, self.host.rules, activity.starts_at
        )
        await self._place_sheets(session, activity, leaders)
        if row.online:
            await self.rooms.for_activity(session, row, leaders, now)
        return row, placed

    async def _place_sheets(
        self, session: AsyncSession, activity: activities.Activity, leaders: list[Person]
    ) -> None:
        """Each leader gets the attendance sheet when it starts (or when their quiet hours
        end, up to a week after)."""
        await stored.place(
            session,
            activity,
            leaders,
            ATTENDANCE,
            activity.starts_at,
            self.host.rules,
            activities.deadline(ATTENDANCE, activity),
        )

    async def _leaders(self, session: AsyncSession, aliases: tuple[str, ...]) -> list[Person]:
        found: list[Person] = []
        for alias in aliases:
            person = await session.scalar(
                select(Person).where(func.lower(Person.alias) == alias.strip().lower())
            )
            if person is None or Role(person.role) not in STAFF:
                raise LeaderGone(alias.strip())
            if person not in found:
                found.append(person)
        return found

    async def edit(
        self, session: AsyncSession, activity_id: int, changes: Changes, now: datetime
    ) -> tuple[Activity, list[Outgoing]]:
        """Change an activity that has not started; everyone who answered is told (by notices
        the tick sends) and reminders move with the time."""
        loaded = await stored.load(session, activity_id, lock=True)
        if loaded is None:
            raise InvalidActivity(f"no activity has the id {activity_id}")
        row, before = loaded
        if row.cancelled_at is not None or row.starts_at <= now:
            raise InvalidActivity("only an activity that has not started or been cancelled")
        online = row.online if changes.place is None else changes.place.strip() == "online"
        leaders_before = tuple(alias for _, alias in before.activity.leaders)
        draft = Draft(
            title=changes.title if changes.title is not None else row.title,
            kind=changes.kind or row.kind,
            starts_at=changes.starts_at or row.starts_at,
            minutes=changes.minutes or row.minutes,
            place="" if online else (changes.place or row.place),
            online=online,
            capacity=changes.capacity or row.capacity,
            audience=changes.audience or row.audience,
            language=changes.language or row.language,
            leaders=changes.leaders or leaders_before or ("?",),
        )
        activities.check(draft, now)
        leaders = await self._leaders(session, draft.leaders) if changes.leaders else None
        if leaders is None and online and not await self.rooms.activity_rooms(session, row.id):
            # its room is made below with its leaders: each must still be staff, checked
            # before anything is changed
            await self._leaders(session, tuple(a for _, a in before.activity.leaders if a != "?"))
        row.title, row.starts_at, row.minutes = draft.title.strip(), draft.starts_at, draft.minutes
        row.place, row.online, row.capacity = draft.place.strip(), draft.online, draft.capacity
        row.kind, row.audience, row.language = draft.kind, draft.audience, draft.language
        if leaders is not None:
            await self._replace_leaders(session, row.id, leaders)
        after = replace(
            before.activity,
            title=row.title,
            kind=row.kind,
            starts_at=row.starts_at,
            minutes=row.minutes,
            place=row.place,
            online=row.online,
            capacity=row.capacity,
            audience=row.audience,
            language=row.language,
            leaders=before.activity.leaders
            if leaders is None
            else tuple((person.id, person.alias or "?") for person in leaders),
        )
        if leaders is None:
            leaders = [
                person
                for person in [await session.get(Person, leader) for leader, _ in after.leaders]
                if person is not None
            ]
        await self._place_sheets(session, after, leaders)
        # the room's session is read from the activity, so a new time or length moves it
        if row.online and not await self.rooms.activity_rooms(session, row.id):
            room = await self.rooms.for_activity(session, row, leaders, now)
            await self.rooms.invite_people(session, room, await stored.going(session, row.id), now)
            after = replace(after, room=room.id)
        elif not row.online and before.activity.online:
            await self.rooms.close_for_activity(session, row.id, now)
        else:
            await self.rooms.follow_activity(
                session, row, leaders if changes.leaders else None, now
            )
        roles = await stored.roles(session, [answer.person_id for answer in before.answers])
        effects = activities.changed(before, after, now, roles)
        out = await self.appliers.apply(session, effects, Acting(None, now))
        await stored.told_once(session, row.id)
        if after.audience != before.activity.audience:
            await self._invite_newcomers(session, before.activity, after, now)
        return row, out

    async def _replace_leaders(
        self, session: AsyncSession, activity_id: int, leaders: list[Person]
    ) -> None:
        """The new leaders; a leader no longer leading gets no attendance sheet."""
        keep = [leader.id for leader in leaders]
        await session.execute(
            delete(ActivityLeader).where(
                ActivityLeader.activity_id == activity_id, ActivityLeader.person_id.not_in(keep)
            )
        )
        await session.execute(
            delete(ActivityNotice).where(
                ActivityNotice.activity_id == activity_id,
                ActivityNotice.kind == ATTENDANCE,
                ActivityNotice.person_id.not_in(keep),
            )
        )
        kept = set(
            (
                await session.scalars(
                    select(ActivityLeader.person_id).where(
                        ActivityLeader.activity_id == activity_id
                    )
                )
            ).all()
        )
        for person_id in keep:
            if person_id not in kept:
                session.add(ActivityLeader(activity_id=activity_id, person_id=person_id))
        await session.flush()

    async def _invite_newcomers(
        self,
        session: AsyncSession,
        before: activities.Activity,
        after: activities.Activity,
        now: datetime,
    ) -> None:
        """A wider audience: those it now includes (and did not before) are invited, as
        when it was announced."""
        already = activities.AUDIENCES[before.audience]
        newcomers = [
            person
            for person in await stored.invitees(session, after)
            if Role(person.role) not in already
        ]
        await stored.place(session, after, newcomers, INVITE, now, self.host.rules, after.starts_at)

    async def cancel(
        self, session: AsyncSession, activity_id: int, now: datetime
    ) -> tuple[Activity, int]:
        """Cancel an activity that has not ended: invitations and reminders not yet sent are
        dropped; everyone who answered is told. Returns the row and how many are told."""
        loaded = await stored.load(session, activity_id, lock=True)
        if loaded is None:
            raise InvalidActivity(f"no activity has the id {activity_id}")
        row, found = loaded
        if row.cancelled_at is not None:
            raise InvalidActivity("that activity is already cancelled")
        if found.activity.ends_at <= now:
            raise InvalidActivity("that activity is over")
        row.cancelled_at = now
        await session.execute(
            delete(ActivityNotice).where(
                ActivityNotice.activity_id == row.id,
                ActivityNotice.kind.in_([INVITE, ATTENDANCE, *REMINDERS]),
            )
        )
        members = await self.rooms.close_for_activity(session, row.id, now)
        effects = activities.cancelled(
            Found(replace(found.activity, cancelled=True), found.answers), now, members
        )
        await self.appliers.apply(session, effects, Acting(None, now))
        return row, len({a.person_id for a in found.answers} | set(members))

    async def listing(
        self, session: AsyncSession, now: datetime, include_past: bool = False
    ) -> list[Found]:
        """Every activity not yet over (``include_past``: all), soonest first, for staff."""
        query = select(Activity).order_by(Activity.starts_at, Activity.id)
        if not include_past:
            query = query.where(Activity.starts_at > now - stored.LONGEST)
        rows = [
            row
            for row in (await session.scalars(query)).all()
            if include_past or row.starts_at + timedelta(minutes=row.minutes) > now
        ]
        return await stored.found(session, rows)


def _changes(effect: ChangeActivity) -> Changes:
    """The one thing a leader changed in the chat, as the command line's edit takes it."""
    value = effect.value
    match effect.field:
        case "time":
            return Changes(starts_at=datetime.fromisoformat(str(value)))
        case "minutes":
            return Changes(minutes=int(value))
        case "place":
            return Changes(place=str(value) or "online")
        case "capacity":
            return Changes(capacity=int(value))
        case "title":
            return Changes(title=str(value))
        case "kind":
            return Changes(kind=str(value))
        case "audience":
            return Changes(audience=str(value))
        case "language":
            return Changes(language=str(value))
        case "leaders":
            return Changes(leaders=tuple(str(value).split(",")))
    raise InvalidActivity(f"{effect.field!r} cannot be changed")


# -- tongban activity ... --------------------------------------------------------------------


def local_moment(text: str, zone: str) -> datetime:
    """``YYYY-MM-DD HH:MM`` on the program's clock, as UTC."""
    try:
        moment = datetime.strptime(text.strip(), "%Y-%m-%d %H:%M")
    except ValueError:
        raise InvalidActivity(f"{text!r} is not a date and time like 2026-12-10 19:00") from None
    return at_local(moment.date(), moment.time(), zone)


async def command_line(
    activities_: Activities, db: Database, args: Namespace, now: datetime
) -> list[str]:
    """What ``tongban activity <action>`` does, as the lines it prints; raises
    ``InvalidActivity`` with the reason when nothing was changed."""
    zone = activities_.host.settings.default_timezone
    async with db.transaction() as session:
        if args.activity_command == "create":
            draft = Draft(
                title=args.title,
                kind=args.kind,
                starts_at=local_moment(args.at, zone),
                minutes=args.minutes,
                place="" if args.online else (args.place or ""),
                online=args.online,
                capacity=args.capacity,
                audience=args.audience,
                language=args.language,
                leaders=tuple(args.leader or ()),
            )
            row, invited = await activities_.create(session, draft, now)
            return [f"activity {row.id} announced: {invited} invitation(s) on their way"]
        if args.activity_command == "edit":
            changes = Changes(
                title=args.title,
                starts_at=local_moment(args.at, zone) if args.at else None,
                minutes=args.minutes,
                place="online" if args.online else args.place,
                capacity=args.capacity,
                kind=args.kind,
                audience=args.audience,
                language=args.language,
                leaders=tuple(args.leader) if args.leader else None,
            )
            row, _ = await activities_.edit(session, args.activity_id, changes, now)
            return [f"activity {row.id} changed: everyone who answered will be told"]
        if args.activity_command == "cancel":
            row, told = await activities_.cancel(session, args.activity_id, now)
            return [f"activity {row.id} cancelled: {told} person(s) who answered will be told"]
        found = await activities_.listing(session, now, include_past=args.all)
    lines = [f"{'id':>5}  {'starts (' + zone + ')':<24} {'kind':<18} {'going':>5}/{'cap':<4} title"]
    for item in found:
        activity = item.activity
        local = activity.starts_at.astimezone(ZoneInfo(zone))
        state = "  (cancelled)" if activity.cancelled else ""
        waiting = f" +{len(item.waiting)} waiting" if item.waiting else ""
        lines.append(
            f"{activity.id:>5}  {local:%Y-%m-%d %H:%M}{'':<8} {activity.kind:<18} "
            f"{item.going:>5}/{activity.capacity:<4} {activity.title}{waiting}{state}"
        )
    if not found:
        lines.append("(no activities)")
    return lines


__all__ = ["Activities", "Changes", "command_line", "local_moment"]
