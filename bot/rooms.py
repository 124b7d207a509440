"""The shell's side of group rooms: memberships stored, a room message numbered and copied to
everyone present, a leader's removal carried out everywhere, invitations sent by the tick,
a standing group changed (its members told once, by the tick), and what the command line
does (create, invite, edit, list, close). ``flows/rooms.py`` decides."""

from __future__ import annotations

import re
from argparse import Namespace
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Row, delete, event, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from bot.applying import Acting, Appliers
from bot.host import Host
from bot.storage import rooms as stored
from bot.storage.db import Database
from bot.storage.models import (
    Activity,
    ActivityAnswer,
    Person,
    Room,
    RoomAttendance,
    RoomCopy,
    RoomMember,
    RoomMessage,
    RoomSession,
)
from bot.storage.people import view_of
from bot.telegram.fanout import RoomFanout
from bot.telegram.render import (
    CopyMessage,
    DeleteMessage,
    EditCaption,
    EditText,
    Outgoing,
    RoomTag,
)
from flows import new_room, rooms
from flows.activities import GOING
from flows.effects import (
    ChangeRoom,
    CreateRoom,
    EditInRoom,
    Effect,
    InviteToRoom,
    ListLedRooms,
    PostToRoom,
    RoomHeldBack,
    RoomManagement,
    RoomRequest,
    Say,
    UpdateMembership,
    WithdrawFromRoom,
)
from flows.roles import STAFF, Role
from flows.rooms import INVITED, LEFT, MEMBER, Present
from flows.text import N_, Msg, Raw, Text, msg

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
WEEKLY = re.compile(r"^\s*([a-z]{3})\w*\s+(\d{1,2})[:：](\d{2})\s*$")
# What the tick owes a member of a standing group that changed (``room_members.notice_due``).
NEW_TIME, UNLED = "time", "unled"


class InvalidRoom(ValueError):
    """A room command that cannot be carried out; the message says why."""


class NotLeader(InvalidRoom):
    """An alias given as a leader names no peer worker or supervisor (any more: it may have
    changed, or its person's role, between the question and the save)."""

    def __init__(self, alias: str) -> None:
        super().__init__(f"no peer worker or supervisor with the alias {alias}")
        self.alias = alias


class Rooms:
    def __init__(self, host: Host, appliers: Appliers, fanout: RoomFanout) -> None:
        self.host = host
        self.appliers = appliers
        self.fanout = fanout
        appliers.register(
            {
                PostToRoom: self._post,
                EditInRoom: self._edit,
                WithdrawFromRoom: self._withdraw,
                RoomHeldBack: self._held_back,
                UpdateMembership: self._update,
                RoomRequest: self._request,
                CreateRoom: self._create_in_chat,
                InviteToRoom: self._invite_in_chat,
                RoomManagement: self._manage,
                ChangeRoom: self._change_in_chat,
            }
        )
        appliers.register_expanders({ListLedRooms: self._led})

    # -- effects --------------------------------------------------------------------------

    async def _update(
        self, session: AsyncSession, effect: UpdateMembership, acting: Acting
    ) -> list[Outgoing]:
        member = await session.get(RoomMember, (effect.room_id, effect.person_id))
        if member is None:
            return []
        if effect.alias is not None:
            member.alias = effect.alias
        if effect.rules:
            member.rules_at = acting.now
        if effect.state is not None:
            member.state = effect.state
        if effect.muted is not None:
            member.muted = effect.muted
        return []

    async def _post(
        self, session: AsyncSession, effect: PostToRoom, acting: Acting
    ) -> list[Outgoing]:
        """Number the message in the room's order (the room row locked until commit), then
        one copy for each member present, in their language, answering their own copy of
        the message replied to. The words are not stored."""
        sender = acting.person
        assert sender is not None
        room = await session.get(Room, effect.room_id, with_for_update=True)
        if room is None:
            return []
        room.last_seq += 1
        running = await self._session(session, room, acting.now)
        said = RoomMessage(
            room_id=room.id,
            seq=room.last_seq,
            sender_id=sender.id,
            kind=effect.kind,
            at=acting.now,
            session_id=running.id if running else None,
        )
        session.add(said)
        await session.flush()
        session.add(
            RoomCopy(
                chat_id=sender.chat_id,
                message_id=effect.message_id,
                room_message_id=said.id,
                person_id=sender.id,
                at=acting.now,
            )
        )
        incoming = getattr(acting, "incoming", None)
        replied = getattr(incoming, "reply_to_message_id", None)
        reply_to = (
            await stored.copies_of(session, sender.chat_id, replied) if replied is not None else {}
        )
        here = await stored.present(session, room.id)
        me = next((p for person, p in here if person.id == sender.id), None)
        if me is None:  # not present after all (left meanwhile): nothing goes out
            member = await session.get(RoomMember, (room.id, sender.id))
            alias = (member.alias if member else None) or sender.alias or ""
            me = Present(sender.id, alias, bool(member and member.leader))
        people = {person.id: person for person, _ in here}
        if running is not None:
            await self._attending(session, running, [me, *(p for _, p in here)], acting.now)
        outgoing: list[Outgoing] = []
        for copy in rooms.copies(effect.kind, effect.text, me, [p for _, p in here], reply_to):
            reader = people[copy.to]
            tag = RoomTag(room.id, said.seq, said.id, reader.id)
            line = self.host.renderer.message(reader, copy.text, tag=tag)
            if not copy.media:
                outgoing.append(replace(line, reply_to=copy.reply_to))
                continue
            outgoing.append(line)
            outgoing.append(
                CopyMessage(reader.chat_id, sender.chat_id, effect.message_id, tag, copy.reply_to)
            )
        if outgoing:  # later messages of the room wait for these copies ...
            room_id, seq = room.id, said.seq
            self.fanout.expect(room_id, seq)

            def never_sent(_session: Any) -> None:  # ... unless this never commits
                self.fanout.forget(room_id, seq)

            event.listen(session.sync_session, "after_rollback", never_sent, once=True)
        return outgoing

    async def _session(
        self, session: AsyncSession, room: Room, now: datetime
    ) -> RoomSession | None:
        """The register's row for the session running now, made by its first message (the
        caller holds the room row's lock: one row per session, ``uq_room_sessions``)."""
        views = await stored.core_rooms(session, [room])
        starts_at = views[room.id].session_at(now)
        if starts_at is None:
            return None
        found = await session.scalar(
            select(RoomSession).where(
                RoomSession.room_id == room.id, RoomSession.starts_at == starts_at
            )
        )
        if found is None:
            found = RoomSession(room_id=room.id, starts_at=starts_at, held_back=0)
            session.add(found)
            await session.flush()
        return found

    async def _attending(
        self, session: AsyncSession, running: RoomSession, here: list[Present], now: datetime
    ) -> None:
        """Everyone present while a message was said is counted once in the session."""
        counted = set(
            (
                await session.scalars(
                    select(RoomAttendance.person_id).where(RoomAttendance.session_id == running.id)
                )
            ).all()
        )
        for present in here:
            if present.person_id not in counted:
                counted.add(present.person_id)
                session.add(
                    RoomAttendance(
                        session_id=running.id,
                        person_id=present.person_id,
                        leader=present.leader,
                        at=now,
                    )
                )

    async def _held_back(
        self, session: AsyncSession, effect: RoomHeldBack, acting: Acting
    ) -> list[Outgoing]:
        """Counted in the session running (its words are not stored), the writer present."""
        person = acting.person
        room = await session.get(Room, effect.room_id, with_for_update=True)
        if room is None or person is None:
            return []
        running = await self._session(session, room, acting.now)
        if running is None:
            return []
        running.held_back += 1
        member = await session.get(RoomMember, (room.id, person.id))
        alias = (member.alias if member else None) or person.alias or ""
        leader = bool(member and member.leader)
        await self._attending(session, running, [Present(person.id, alias, leader)], acting.now)
        return []

    async def _edit(
        self, session: AsyncSession, effect: EditInRoom, acting: Acting
    ) -> list[Outgoing]:
        """Each member's copy edited in place, in their language (a photo's caption on its
        copy); a message without copies (sent outside the room, or removed) changes nothing."""
        sender = acting.person
        assert sender is not None
        said = await self._said(session, sender.chat_id, effect.message_id, effect.room_id)
        if said is None:
            return []
        member = await session.get(RoomMember, (effect.room_id, sender.id))
        me = Present(
            sender.id,
            (member.alias if member else None) or sender.alias or "",
            bool(member and member.leader),
        )
        landed = (
            await session.execute(
                select(RoomCopy.person_id, RoomCopy.chat_id, RoomCopy.message_id)
                .where(RoomCopy.room_message_id == said.id, RoomCopy.person_id != sender.id)
                .order_by(RoomCopy.person_id, RoomCopy.message_id)
            )
        ).all()
        last = {person_id: message_id for person_id, _, message_id in landed}
        readers = {
            person.id: person
            for person in (
                await session.scalars(
                    select(Person).where(Person.id.in_({p for p, _, _ in landed}))
                )
            ).all()
        }
        outgoing: list[Outgoing] = []
        for person_id, chat_id, message_id in landed:
            reader = readers.get(person_id)
            if reader is None:
                continue
            if said.kind == "text":
                copy = rooms.copies("text", effect.text, me, [Present(person_id, "", False)])[0]
                rendered = self.host.renderer.text(reader, copy.text)
                outgoing.append(EditText(chat_id, message_id, rendered))
            elif message_id == last[person_id]:  # the copy itself, after the line above it
                outgoing.append(EditCaption(chat_id, message_id, effect.text))
        return outgoing

    async def _withdraw(
        self, session: AsyncSession, effect: WithdrawFromRoom, acting: Acting
    ) -> list[Outgoing]:
        """Crisis language edited in: every copy in the others' chats is deleted."""
        sender = acting.person
        assert sender is not None
        said = await self._said(session, sender.chat_id, effect.message_id, effect.room_id)
        if said is None:
            return []
        return await self._take_back(session, said, acting.now, keep_for=sender.id)

    async def _take_back(
        self, session: AsyncSession, said: RoomMessage, now: datetime, keep_for: int | None
    ) -> list[Outgoing]:
        """Mark the message removed and delete every copy of it (but ``keep_for``'s own)."""
        where = [RoomCopy.room_message_id == said.id]
        if keep_for is not None:
            where.append(RoomCopy.person_id != keep_for)
        landed = (
            await session.execute(select(RoomCopy.chat_id, RoomCopy.message_id).where(*where))
        ).all()
        said.removed_at = now
        await session.execute(delete(RoomCopy).where(RoomCopy.room_message_id == said.id))
        return [DeleteMessage(chat, message) for chat, message in landed]

    async def _said(
        self, session: AsyncSession, chat_id: int, message_id: int, room_id: int
    ) -> RoomMessage | None:
        """The room message a message in this chat is a copy of, in this room, not removed."""
        found = await session.scalar(
            select(RoomMessage)
            .join(RoomCopy, RoomCopy.room_message_id == RoomMessage.id)
            .where(RoomCopy.chat_id == chat_id, RoomCopy.message_id == message_id)
        )
        if found is None or found.room_id != room_id or found.removed_at is not None:
            return None
        return found

    async def _request(
        self, session: AsyncSession, effect: RoomRequest, acting: Acting
    ) -> list[Outgoing]:
        """A leader's command, decided by ``flows.rooms`` on the memberships it names."""
        person = acting.person
        assert person is not None
        leader_row = await session.get(
            RoomMember, (effect.room_id, person.id), with_for_update=True
        )
        room_row = await session.get(Room, effect.room_id)
        if room_row is None:
            return await self.appliers.apply(session, (Say(Msg(N_("room.not_a_member"))),), acting)
        views = await stored.core_rooms(session, [room_row])
        leader = stored.view_of(leader_row, views[room_row.id]) if leader_row else None
        if effect.action == "unsay":
            effects, deletions = await self._unsay(session, leader, acting)
            return [*await self.appliers.apply(session, effects, acting), *deletions]
        target_row = await session.scalar(
            select(RoomMember)
            .where(RoomMember.room_id == effect.room_id, RoomMember.alias == effect.alias)
            .with_for_update()
        )
        target = stored.view_of(target_row, views[room_row.id]) if target_row else None
        decided = rooms.decide(
            effect, leader, target, target_row.person_id if target_row is not None else None
        )
        return await self.appliers.apply(session, decided, acting)

    async def _unsay(
        self, session: AsyncSession, leader: rooms.Membership | None, acting: Acting
    ) -> tuple[tuple[Effect, ...], list[Outgoing]]:
        """Take a message back from every chat it reached, the sender's own included."""
        if leader is None or not leader.leader:
            return (Say(Msg(N_("room.leader.only"))),), []
        person = acting.person
        assert person is not None
        incoming = getattr(acting, "incoming", None)
        replied = getattr(incoming, "reply_to_message_id", None)
        said = (
            await self._said(session, person.chat_id, replied, leader.room.id)
            if replied is not None
            else None
        )
        if said is None:
            return (Say(Msg(N_("room.leader.unsay_how"))),), []
        deletions = await self._take_back(session, said, acting.now, keep_for=None)
        return rooms.unsaid(leader.room, said.sender_id, person.id), deletions

    # -- made and looked after in the chat (flows/new_room.py decides) -----------------------

    async def _counts(self, session: AsyncSession, room_id: int) -> new_room.Counts:
        states = (
            await session.scalars(
                select(RoomMember.state).where(
                    RoomMember.room_id == room_id, RoomMember.leader.is_(False)
                )
            )
        ).all()
        return new_room.Counts(states.count(MEMBER), states.count(INVITED))

    async def _loaded(
        self, session: AsyncSession, room_id: int
    ) -> tuple[Room | None, rooms.Room | None, new_room.Counts]:
        """The room (locked until commit, so a close and an invitation happen one after the
        other), the core's view of it and its counts."""
        row = await session.get(Room, room_id, with_for_update=True)
        if row is None:
            return None, None, new_room.Counts()
        view = (await stored.core_rooms(session, [row]))[row.id]
        return row, view, await self._counts(session, row.id)

    async def _create_in_chat(
        self, session: AsyncSession, effect: CreateRoom, acting: Acting
    ) -> list[Outgoing]:
        weekly = f"{WEEKDAYS[effect.weekday]} {effect.opens}"
        try:
            room = await self.create(
                session,
                effect.title,
                list(effect.leaders),
                acting.now,
                weekly=weekly,
                minutes=effect.minutes,
            )
        except NotLeader as gone:  # the flow checked the rest; this changed meanwhile
            failed = Say(msg(N_("newroom.leader_gone"), alias=Raw(gone.alias)), menu=True)
            return await self.appliers.apply(session, (failed,), acting)
        await session.flush()
        _, view, counts = await self._loaded(session, room.id)
        assert view is not None
        made = Say(Msg(N_("newroom.created")))
        return await self.appliers.apply(session, (made, new_room.card(view, counts)), acting)

    async def _invite_in_chat(
        self, session: AsyncSession, effect: InviteToRoom, acting: Acting
    ) -> list[Outgoing]:
        """As ``tongban room invite`` does, after ``flows.new_room`` checked each alias names
        exactly one client or relative."""
        assert acting.person is not None
        row, view, counts = await self._loaded(session, effect.room_id)
        refused = new_room.refusal(view, view_of(acting.person))
        if refused is not None or row is None or view is None:
            return await self.appliers.apply(
                session, (refused or Say(Msg(N_("newroom.gone"))),), acting
            )
        found = {alias: await self.alias_matches(session, alias) for alias in effect.aliases}
        matches = [(alias, [Role(p.role) for p in people]) for alias, people in found.items()]
        wrong = new_room.invited(view, matches, counts)
        if wrong is not None:
            return await self.appliers.apply(session, wrong, acting)
        people = [found[alias][0] for alias in effect.aliases]
        new = await self.invite_people(session, row, people, acting.now)
        counts = await self._counts(session, row.id)
        return await self.appliers.apply(
            session, new_room.invitations_sent(view, new, counts), acting
        )

    async def _change_in_chat(
        self, session: AsyncSession, effect: ChangeRoom, acting: Acting
    ) -> list[Outgoing]:
        """✏ Edit saved: checked again on the room, locked (it may have closed, or the person
        stopped leading it, while they answered), then :meth:`change`."""
        assert acting.person is not None
        _, view, _ = await self._loaded(session, effect.room_id)
        refused = new_room.refusal(view, view_of(acting.person), editing=True)
        if refused is not None:
            return await self.appliers.apply(session, (refused,), acting)
        try:
            row, told = await self.change(session, effect, acting.now, acting.person.id)
        except NotLeader as gone:  # the flow read the aliases; this one changed meanwhile
            again = new_room.leader_gone(effect.room_id, gone.alias)
            return await self.appliers.apply(session, (again,), acting)
        await session.flush()
        _, view, counts = await self._loaded(session, row.id)
        assert view is not None
        return await self.appliers.apply(session, new_room.changed(view, counts, told), acting)

    async def _manage(
        self, session: AsyncSession, effect: RoomManagement, acting: Acting
    ) -> list[Outgoing]:
        assert acting.person is not None
        person = view_of(acting.person)
        row, view, counts = await self._loaded(session, effect.room_id)
        told: list[int] = []
        if (
            effect.action == "closenow"
            and row is not None
            and new_room.refusal(view, person) is None
        ):
            row.closed_at = acting.now
            told = list(
                (
                    await session.scalars(
                        select(RoomMember.person_id)
                        .where(
                            RoomMember.room_id == row.id,
                            RoomMember.state.in_((INVITED, MEMBER)),
                        )
                        .order_by(RoomMember.person_id)
                    )
                ).all()
            )
        decided = new_room.decide(effect.action, view, counts, person, told)
        return await self.appliers.apply(session, decided, acting)

    async def _led(
        self, session: AsyncSession, effect: ListLedRooms, acting: Acting
    ) -> tuple[Effect, ...]:
        """``/groups``: open rooms the person leads (a supervisor: every open room), oldest
        first."""
        person = acting.person
        assert person is not None
        query = select(Room).where(Room.closed_at.is_(None)).order_by(Room.id)
        if person.role != Role.SUPERVISOR:
            query = query.join(RoomMember, RoomMember.room_id == Room.id).where(
                RoomMember.person_id == person.id, RoomMember.leader.is_(True)
            )
        rows = list((await session.scalars(query)).all())
        views = await stored.core_rooms(session, rows)
        found = [
            (views[row.id], await self._counts(session, row.id))
            for row in rows
            if not views[row.id].closed
        ]
        return (new_room.listing(found),)

    # -- the tick: invitations ------------------------------------------------------------

    async def tick(self, session: AsyncSession, now: datetime) -> list[Outgoing]:
        """Invitations not yet sent, then what members are owed about a change."""
        return [*await self._invitations(session, now), *await self._notices(session, now)]

    async def _claim_due(
        self,
        session: AsyncSession,
        where: tuple[ColumnElement[bool], ...],
        order: tuple[InstrumentedAttribute[Any], ...],
    ) -> tuple[Sequence[Row[RoomMember, Person, Room]], dict[int, rooms.Room]]:
        """Members owed something by the clock, at most a batch, each with their person and
        room (claimed by one process: SKIP LOCKED), and the rooms' views."""
        query = (
            select(RoomMember, Person, Room)
            .join(Person, Person.id == RoomMember.person_id)
            .join(Room, Room.id == RoomMember.room_id)
            .where(*where)
            .order_by(*order)
            .limit(self.host.settings.tick_batch)
        )
        if self.host.db.is_postgres:
            query = query.with_for_update(of=RoomMember, skip_locked=True)
        due = (await session.execute(query)).all()
        if not due:
            return due, {}
        rooms_due = list({room.id: room for _, _, room in due}.values())
        return due, await stored.core_rooms(session, rooms_due)

    def _may_tell_now(self, person: Person, now: datetime) -> bool:
        """Outside the person's quiet hours (staff have none)."""
        local = now.astimezone(ZoneInfo(person.timezone)).time()
        return person.role in STAFF or not self.host.rules.is_quiet(local)

    async def _invitations(self, session: AsyncSession, now: datetime) -> list[Outgoing]:
        """Invitations not yet sent, oldest first, at most a batch (the partial index on
        unsent ones; claimed by one process: SKIP LOCKED), out of each reader's quiet hours."""
        due, views = await self._claim_due(
            session,
            (RoomMember.invite_sent.is_(False), RoomMember.state == INVITED),
            (RoomMember.invited_at, RoomMember.room_id, RoomMember.person_id),
        )
        outgoing: list[Outgoing] = []
        for member, person, room in due:
            if not self._may_tell_now(person, now):
                continue
            member.invite_sent = True
            view = views[room.id]
            over = not view.is_open(now) and view.next_opening(now) is None  # an activity's, ended
            if person.blocked_at is not None or view.closed or over:
                continue
            said = rooms.invitation(views[room.id], now, view_of(person))
            outgoing.append(self.host.renderer.message(person, said.text, said.choices))
        return outgoing

    async def _notices(self, session: AsyncSession, now: datetime) -> list[Outgoing]:
        """The one message owed to each member of a standing group that changed (the partial
        index on ``notice_due``; claimed by one process: SKIP LOCKED), out of their quiet
        hours; nothing for someone no longer in it or a room closed meanwhile."""
        due, views = await self._claim_due(
            session,
            (RoomMember.notice_due.is_not(None),),
            (RoomMember.room_id, RoomMember.person_id),
        )
        outgoing: list[Outgoing] = []
        for member, person, room in due:
            if not self._may_tell_now(person, now):
                continue
            owed, member.notice_due = member.notice_due, None
            view = views[room.id]
            if person.blocked_at is not None or view.closed:
                continue
            if owed == UNLED and not member.leader:
                text: Text = new_room.no_longer_leading(view)
            elif owed == NEW_TIME and member.state in (INVITED, MEMBER):
                text = new_room.new_time(view)
            else:
                continue
            outgoing.append(self.host.renderer.message(person, text))
        return outgoing

    # -- the command line ------------------------------------------------------------------

    async def create(
        self,
        session: AsyncSession,
        title: str,
        leaders: list[str],
        now: datetime,
        activity_id: int | None = None,
        weekly: str | None = None,
        minutes: int = 90,
    ) -> Room:
        zone = self.host.settings.default_timezone
        if not title.strip() or len(title) > 120:
            raise InvalidRoom("the title must be 1 to 120 characters")
        if (activity_id is None) == (weekly is None):
            raise InvalidRoom("give either --activity ID (an online activity) or --weekly")
        weekday = opens = None
        if activity_id is not None:
            activity = await session.get(Activity, activity_id)
            if activity is None or not activity.online:
                raise InvalidRoom(f"no online activity {activity_id}")
            minutes = activity.minutes
            made = await self.activity_rooms(session, activity_id)
            if made:
                raise InvalidRoom(f"activity {activity_id} already has room {made[0].id}")
            if not title.strip():
                title = activity.title
        else:
            assert weekly is not None
            weekday, opens = parse_weekly(weekly)
        if not 15 <= minutes <= 480:
            raise InvalidRoom("the duration must be 15 to 480 minutes")
        people = await self._by_alias(session, leaders, staff=True)
        room = Room(
            title=title.strip(),
            activity_id=activity_id,
            weekday=weekday,
            opens=opens,
            minutes=minutes,
            zone=zone,
            last_seq=0,
            created_at=now,
        )
        session.add(room)
        await session.flush()
        for person in people:
            session.add(_leader(room.id, person, now))
        return room

    async def invite(
        self, session: AsyncSession, room_id: int, aliases: list[str], now: datetime
    ) -> int:
        """Invite clients and relatives by their alias (for a room of an activity, with no
        alias: everyone going to it); returns how many new invitations are on their way.
        Someone who left is invited again; someone removed is not."""
        room = await session.get(Room, room_id)
        if room is None or room.closed_at is not None:
            raise InvalidRoom(f"no open room {room_id}")
        if aliases:
            people = await self._by_alias(session, aliases, staff=False)
        elif room.activity_id is not None:
            people = list(
                (
                    await session.scalars(
                        select(Person)
                        .join(ActivityAnswer, ActivityAnswer.person_id == Person.id)
                        .where(
                            ActivityAnswer.activity_id == room.activity_id,
                            ActivityAnswer.answer == GOING,
                        )
                        .order_by(Person.id)
                    )
                ).all()
            )
        else:
            raise InvalidRoom("name who to invite by alias")
        return await self.invite_people(session, room, people, now)

    async def invite_people(
        self, session: AsyncSession, room: Room, people: list[Person], now: datetime
    ) -> int:
        """Invite these people (the tick sends each invitation); returns how many are new."""
        invited = 0
        for person in people:
            member = await session.get(RoomMember, (room.id, person.id))
            if member is None:
                session.add(
                    RoomMember(
                        room_id=room.id,
                        person_id=person.id,
                        alias=None,
                        leader=False,
                        state=INVITED,
                        muted=False,
                        invited_at=now,
                        invite_sent=False,
                    )
                )
            elif member.state == rooms.LEFT:
                member.state, member.invited_at, member.invite_sent = INVITED, now, False
            else:
                continue
            invited += 1
        return invited

    async def change(
        self, session: AsyncSession, change: ChangeRoom, now: datetime, editor: int | None = None
    ) -> tuple[Room, int]:
        """Change a standing group (✏ Edit, ``tongban room edit``); nothing changes unless
        all of it is valid. A new title is in the room's next message; a new day, time or
        length is owed, once, to everyone invited or in it (``editor`` aside); a leader taken
        off leaves the room and is owed a message; a new one is invited. Returns the room
        and how many will hear of a new time."""
        room = await session.get(Room, change.room_id, with_for_update=True)
        if room is None or room.closed_at is not None:
            raise InvalidRoom(f"no open room {change.room_id}")
        if room.activity_id is not None:
            raise InvalidRoom(
                f"room {room.id} follows activity {room.activity_id}: change the activity"
            )
        title = room.title if change.title is None else change.title.strip()
        if not title or len(title) > 120:
            raise InvalidRoom("the title must be 1 to 120 characters")
        weekday = room.weekday if change.weekday is None else change.weekday
        if weekday not in range(len(WEEKDAYS)):
            raise InvalidRoom("the weekday is one of " + ", ".join(WEEKDAYS))
        opens = room.opens if change.opens is None else parse_clock(change.opens)
        minutes = room.minutes if change.minutes is None else change.minutes
        if not 15 <= minutes <= 480:
            raise InvalidRoom("the duration must be 15 to 480 minutes")
        leaders = None
        if change.leaders is not None:
            if not change.leaders:
                raise InvalidRoom("a group needs at least one leader")
            leaders = await self._by_alias(session, list(change.leaders), staff=True)
        moved = (weekday, opens, minutes) != (room.weekday, room.opens, room.minutes)
        room.title, room.weekday, room.opens, room.minutes = title, weekday, opens, minutes
        if moved:
            room.zone = self.host.settings.default_timezone
        taken_off = await self._lead(session, room, leaders, now) if leaders else []
        for member in taken_off:
            if member.person_id != editor:
                member.notice_due = UNLED
        if not moved:
            return room, 0
        owed = [
            member
            for member in (
                await session.scalars(select(RoomMember).where(RoomMember.room_id == room.id))
            ).all()
            if _heard_of(member) and member.person_id != editor
        ]
        for member in owed:
            member.notice_due = NEW_TIME
        return room, len(owed)

    async def close(self, session: AsyncSession, room_id: int, now: datetime) -> Room:
        room = await session.get(Room, room_id)
        if room is None:
            raise InvalidRoom(f"no room {room_id}")
        room.closed_at = room.closed_at or now
        return room

    # -- an online activity's room (bot/activities.py calls these) -------------------------

    async def for_activity(
        self, session: AsyncSession, activity: Activity, leaders: list[Person], now: datetime
    ) -> Room:
        """The room of an online activity just announced (or made online): its times are
        the activity's (``stored.core_rooms``), so a new time moves its session; its
        leaders are the activity's."""
        aliases = [person.alias for person in leaders if person.alias]
        return await self.create(session, activity.title, aliases, now, activity_id=activity.id)

    async def follow_activity(
        self, session: AsyncSession, activity: Activity, leaders: list[Person] | None, now: datetime
    ) -> None:
        """An activity changed: its open room takes its title and, when they changed, its
        leaders (a leader taken off is no longer in the room; a new one is invited)."""
        for room in await self.activity_rooms(session, activity.id):
            room.title = activity.title
            if leaders is not None:
                await self._lead(session, room, leaders, now)

    async def _lead(
        self, session: AsyncSession, room: Room, leaders: list[Person], now: datetime
    ) -> list[RoomMember]:
        """These people now lead the room: a leader taken off is no longer in it, a new one
        is invited (for an activity's room and a standing group alike). Returns the leaders
        taken off who had heard of the room (invited, or in it)."""
        chosen = {person.id: person for person in leaders}
        members = (
            await session.scalars(select(RoomMember).where(RoomMember.room_id == room.id))
        ).all()
        taken_off: list[RoomMember] = []
        for member in members:
            if member.leader and member.person_id not in chosen:
                if _heard_of(member):
                    taken_off.append(member)
                member.leader, member.state = False, LEFT
            elif member.person_id in chosen:
                person = chosen.pop(member.person_id)
                if not member.leader or member.state not in (INVITED, MEMBER):
                    member.leader, member.alias = True, person.alias
                    member.state, member.invited_at, member.invite_sent = INVITED, now, False
        for person in chosen.values():
            session.add(_leader(room.id, person, now))
        return taken_off

    async def activity_rooms(self, session: AsyncSession, activity_id: int) -> list[Room]:
        """The activity's rooms still open (``ix_rooms_activity_id``)."""
        return list(
            (
                await session.scalars(
                    select(Room)
                    .where(Room.activity_id == activity_id, Room.closed_at.is_(None))
                    .order_by(Room.id)
                )
            ).all()
        )

    async def follow_answer(
        self, session: AsyncSession, activity_id: int, person: Person, answer: str, now: datetime
    ) -> None:
        """Going (answered, or moved up from the waiting list) invites the person to the
        activity's room; any other answer takes back an invitation they no longer need."""
        for room in await self.activity_rooms(session, activity_id):
            if answer == GOING:
                await self.invite_people(session, room, [person], now)
                continue
            member = await session.get(RoomMember, (room.id, person.id))
            if member is not None and not member.leader and member.state in (INVITED, MEMBER):
                member.state = rooms.LEFT

    async def close_for_activity(
        self, session: AsyncSession, activity_id: int, now: datetime
    ) -> list[int]:
        """Close the activity's rooms (cancelled, or no longer online); returns the members
        (leaders aside) still invited or in, who are told with the cancellation."""
        told: list[int] = []
        for room in await self.activity_rooms(session, activity_id):
            room.closed_at = now
            told += (
                await session.scalars(
                    select(RoomMember.person_id)
                    .where(
                        RoomMember.room_id == room.id,
                        RoomMember.leader.is_(False),
                        RoomMember.state.in_((INVITED, MEMBER)),
                    )
                    .order_by(RoomMember.person_id)
                )
            ).all()
        return told

    async def listing(self, session: AsyncSession) -> list[tuple[Room, int]]:
        rows = list((await session.scalars(select(Room).order_by(Room.id))).all())
        counts = {}
        for row in rows:
            counts[row.id] = len(
                (
                    await session.scalars(
                        select(RoomMember.person_id).where(
                            RoomMember.room_id == row.id, RoomMember.state == MEMBER
                        )
                    )
                ).all()
            )
        return [(row, counts[row.id]) for row in rows]

    async def _by_alias(
        self, session: AsyncSession, aliases: list[str], staff: bool
    ) -> list[Person]:
        """Each alias must name exactly one person of the kind wanted (letter case aside):
        an alias matching nobody or several people is an error, never a guess."""
        found: list[Person] = []
        for alias in aliases:
            people = await self.alias_matches(session, alias)
            kind = "peer worker or supervisor" if staff else "client or relative"
            if len(people) > 1:
                raise InvalidRoom(f"the alias {alias} matches more than one person")
            if not people or (Role(people[0].role) in STAFF) != staff:
                if staff:
                    raise NotLeader(alias)
                raise InvalidRoom(f"no {kind} with the alias {alias}")
            found.append(people[0])
        return found

    async def alias_matches(self, session: AsyncSession, alias: str) -> list[Person]:
        """Everyone whose alias is this one, letter case aside."""
        typed = alias.strip().lower()
        return list(
            (
                await session.scalars(
                    select(Person)
                    .where(func.lower(Person.alias) == typed)
                    .order_by(Person.id)
                    .limit(2)
                )
            ).all()
        )


def _leader(room_id: int, person: Person, now: datetime) -> RoomMember:
    """A leader's membership: invited like everyone, the room's rules taken as read."""
    return RoomMember(
        room_id=room_id,
        person_id=person.id,
        alias=person.alias,
        leader=True,
        state=INVITED,
        rules_at=now,
        muted=False,
        invited_at=now,
        invite_sent=False,
    )


def _heard_of(member: RoomMember) -> bool:
    """In the room, or invited to it with the invitation already sent."""
    return member.state == MEMBER or (member.state == INVITED and bool(member.invite_sent))


def parse_clock(text: str) -> time:
    """ "19:30" → 19:30 (the program's clock)."""
    found = new_room.read_clock(text)
    if found is None:
        raise InvalidRoom('the time is hours and minutes, e.g. "19:30"')
    hour, minute = found.split(":")
    return time(int(hour), int(minute))


def parse_weekly(text: str) -> tuple[int, time]:
    """ "tue 19:00" → (1, 19:00): a weekday (its first three letters) and a time."""
    match = WEEKLY.match(text.lower())
    if match is None or match.group(1) not in WEEKDAYS:
        raise InvalidRoom('--weekly is a weekday and a time, e.g. "tue 19:00"')
    hour, minute = int(match.group(2)), int(match.group(3))
    if hour > 23 or minute > 59:
        raise InvalidRoom('--weekly is a weekday and a time, e.g. "tue 19:00"')
    return WEEKDAYS.index(match.group(1)), time(hour, minute)


async def command_line(rooms_: Rooms, db: Database, args: Namespace, now: datetime) -> list[str]:
    """What ``tongban room <action>`` does, as the lines it prints; raises ``InvalidRoom``
    with the reason when nothing was changed."""
    zone = rooms_.host.settings.default_timezone
    async with db.transaction() as session:
        if args.room_command == "create":
            room = await rooms_.create(
                session,
                args.title,
                list(args.leader or ()),
                now,
                activity_id=args.activity,
                weekly=args.weekly,
                minutes=args.minutes,
            )
            return [f"room {room.id} created: its leaders are invited"]
        if args.room_command == "invite":
            invited = await rooms_.invite(session, args.room_id, list(args.alias or ()), now)
            return [f"room {args.room_id}: {invited} invitation(s) on their way"]
        if args.room_command == "close":
            room = await rooms_.close(session, args.room_id, now)
            return [f"room {room.id} closed"]
        if args.room_command == "edit":
            return await _edit_lines(rooms_, session, args, now)
        if args.room_command == "sessions":
            return session_lines(await stored.sessions_held(session), zone)
        found = await rooms_.listing(session)
    lines = [f"{'id':>5}  {'meets (' + zone + ')':<28} {'members':>7}  title"]
    for room, members in found:
        if room.activity_id is not None:
            meets = f"activity {room.activity_id}"
        else:
            assert room.weekday is not None and room.opens is not None
            meets = f"{WEEKDAYS[room.weekday]} {room.opens:%H:%M}, {room.minutes} minutes"
        state = "  (closed)" if room.closed_at is not None else ""
        lines.append(f"{room.id:>5}  {meets:<28} {members:>7}  {room.title}{state}")
    if not found:
        lines.append("(no rooms)")
    return lines


async def _edit_lines(
    rooms_: Rooms, session: AsyncSession, args: Namespace, now: datetime
) -> list[str]:
    """``tongban room edit``: what changed, as one line."""
    weekday = None
    if args.weekday is not None:
        day = args.weekday.strip().lower()[:3]
        if day not in WEEKDAYS:
            raise InvalidRoom("--weekday is one of " + ", ".join(WEEKDAYS))
        weekday = WEEKDAYS.index(day)
    change = ChangeRoom(
        args.room_id,
        title=args.title,
        weekday=weekday,
        opens=args.opens,
        minutes=args.minutes,
        leaders=tuple(args.leader) if args.leader else None,
    )
    if change == ChangeRoom(args.room_id):
        raise InvalidRoom(
            "nothing to change: give --title, --weekday, --opens, --minutes or --leader"
        )
    room, told = await rooms_.change(session, change, now)
    assert room.weekday is not None and room.opens is not None
    meets = f"{WEEKDAYS[room.weekday]} {room.opens:%H:%M}, {room.minutes} minutes"
    return [f"room {room.id} changed: {room.title}, {meets}; {told} member(s) to be told"]


def session_lines(held: list[stored.Held], zone: str) -> list[str]:
    """The register of room sessions, one line each, on the program's clock."""
    lines = [
        f"{'date (' + zone + ')':<24} {'room':>4}  {'members':>7} {'messages':>8} "
        f"{'removed':>7} {'held back':>9}  {'leaders':<20} title"
    ]
    for one in held:
        local = one.starts_at.astimezone(ZoneInfo(zone))
        lines.append(
            f"{local:%Y-%m-%d %H:%M}{'':<8} {one.room_id:>4}  {len(one.present):>7} "
            f"{one.messages:>8} {one.removed:>7} {one.held_back:>9}  "
            f"{', '.join(one.leaders):<20} {one.title}"
        )
    if not held:
        lines.append("(no sessions yet)")
    return lines
