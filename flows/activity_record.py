"""After an activity starts: the leaders' attendance sheet (one tap per person, by alias),
the activity record (``/record``: how long, what was done, anything that went wrong), and
the three taps of feedback from those who came (``/feedback``), worded for clients and for
relatives. These rows are the service's register (docs/activities.md)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from flows import activities, questions
from flows.activities import ATTENDANCE, FEEDBACK, GOING, MAYBE, WAITING, Found
from flows.commands import parse_number
from flows.effects import (
    ActivityRequest,
    Choice,
    Effect,
    FileActivityRecord,
    RefreshChoices,
    SaveActivityFeedback,
    Say,
    SetAttendance,
    UpdateActivityRecord,
)
from flows.engine import FlowModel, move, pressed
from flows.people import PersonView
from flows.roles import Role
from flows.text import N_, Lines, Msg, Raw, msg

MAX_TEXT = 2000
PROBLEMS = {
    "none": N_("activity.record.problem.none"),
    "adverse": N_("activity.record.problem.adverse"),
    "other": N_("activity.record.problem.other"),
}
AGAIN = {
    "yes": N_("activity.feedback.again.yes"),
    "maybe": N_("activity.feedback.again.maybe"),
    "no": N_("activity.feedback.again.no"),
}
# Relatives took part as carers: their questions say so.
SATISFIED = {
    Role.CLIENT: N_("activity.feedback.satisfied"),
    Role.FAMILY: N_("activity.feedback.satisfied.family"),
}
HELPED = {
    Role.CLIENT: N_("activity.feedback.helped"),
    Role.FAMILY: N_("activity.feedback.helped.family"),
}
AGAIN_ASK = {
    Role.CLIENT: N_("activity.feedback.again"),
    Role.FAMILY: N_("activity.feedback.again.family"),
}


def leads(found: Found, person: PersonView) -> bool:
    """Its leaders, and any supervisor, take attendance and file the record."""
    return person.role is Role.SUPERVISOR or any(
        leader == person.id for leader, _ in found.activity.leaders
    )


def sheet(found: Found) -> tuple[Lines, tuple[Choice, ...]]:
    """Everyone who said going, maybe or waited, by alias: a tap marks them present (✅) or
    not (▫️); the last button files the record."""
    activity = found.activity
    listed = sorted(
        (a for a in found.answers if a.answer in (GOING, MAYBE, WAITING)),
        key=lambda a: (a.answer != GOING, a.alias),
    )
    choices = tuple(
        Choice(
            Raw(f"{'✅' if a.person_id in found.present else '▫️'} {a.alias}"),
            f"/attend {activity.id} {a.person_id}",
        )
        for a in listed
    )
    record = Choice(Msg(N_("activity.sheet.record")), f"/record {activity.id} {activity.minutes}")
    text = Lines(
        (
            msg(N_("activity.sheet.title"), title=activity.title, when=activity.starts_at),
            msg(N_("activity.sheet.count"), present=len(found.present)),
            Msg(N_("activity.sheet.tap") if listed else N_("activity.sheet.nobody")),
        )
    )
    return text, (*choices, record)


def decide_leader(
    request: ActivityRequest, found: Found | None, person: PersonView, now: datetime
) -> tuple[Effect, ...]:
    """``sheet`` shows the attendance sheet, ``attend`` turns one person's mark over."""
    if found is None or not leads(found, person):
        return (Say(Msg(N_("activity.gone"))),)
    activity = found.activity
    if activity.cancelled:
        return (Say(msg(N_("activity.was_cancelled"), title=activity.title)),)
    if now < activity.starts_at:
        return (
            Say(msg(N_("activity.sheet.not_yet"), title=activity.title, when=activity.starts_at)),
        )
    if request.action == "sheet":
        text, choices = sheet(found)
        return (Say(text, choices, columns=2),)
    listed = {a.person_id for a in found.answers}
    if request.person_id is None or request.person_id not in listed:
        return (Say(Msg(N_("activity.gone"))),)
    present = request.person_id not in found.present
    marked = found.present | {request.person_id} if present else found.present - {request.person_id}
    text, choices = sheet(Found(activity, found.answers, frozenset(marked), found.recorded))
    return (
        SetAttendance(activity.id, request.person_id, present),
        RefreshChoices(text, choices, columns=2),
    )


def notice(kind: str, found: Found, person: PersonView, now: datetime) -> tuple[Say, ...]:
    """``flows.activities.notice``, and the two notices that come after the start: the
    sheet to each leader, and the first feedback question to each person present."""
    activity = found.activity
    if kind == ATTENDANCE:
        if activity.cancelled or found.recorded or not leads(found, person):
            return ()
        text, choices = sheet(found)
        return (Say(text, choices, columns=2),)
    if kind == FEEDBACK:
        if activity.cancelled or person.id not in found.present or person.role not in SATISFIED:
            return ()
        ask = msg(SATISFIED[person.role], title=activity.title)
        return (Say(ask, _scale(f"/feedback {activity.id}"), columns=5),)
    return activities.notice(kind, found, person, now)


def _scale(prefix: str) -> tuple[Choice, ...]:
    return tuple(Choice(Raw(str(n)), f"{prefix} {n}") for n in range(1, 6))


STOP = Choice(Msg(N_("activity.record.stop")), "rec:stop")


class ActivityRecordFlow(FlowModel):
    """``/record <activity> <planned minutes>``: the leader's short record, each answer
    stored as it is given."""

    name = "activityrecord"
    initial = "minutes"
    states: ClassVar[list[str]] = ["minutes", "done", "problem", "note", "filed", "stopped"]
    final = frozenset({"filed", "stopped"})
    transitions: ClassVar[list[dict[str, Any]]] = [
        move("*", "stopped", "stops"),
        move("minutes", "done", "is_valid", before="keep"),
        move("done", "problem", "is_valid", before="keep"),
        move("problem", "filed", "is_valid", "no_problem", before="keep"),
        move("problem", "note", "is_valid", before="keep"),
        move("note", "filed", "is_valid", before="keep"),
    ]

    stops = pressed("rec:stop")

    def no_problem(self) -> bool:
        return bool(self.value == "none")

    def keep(self) -> None:
        field = {"done": "what_was_done", "note": "problem_note"}.get(self.state, self.state)
        self.emit(UpdateActivityRecord(int(self.ctx["activity"]), **{field: self.value}))
        if self.state == "minutes" and self.event.kind == "choice":
            self.show_choice(Raw(str(self.value)))
        if self.state == "problem":
            self.show_choice(Msg(PROBLEMS[self.value]))

    def on_enter_minutes(self) -> None:
        planned = int(self.ctx["planned"])
        self.ask(
            msg(N_("activity.record.minutes"), minutes=planned),
            (Choice(Raw(str(planned)), f"rec:{planned}"), STOP),
            2,
        )

    def parse_minutes(self) -> int | None:
        number = parse_number(self.event.value.removeprefix("rec:").strip())
        return number if number is not None and 1 <= number <= 24 * 60 else None

    def on_enter_done(self) -> None:
        self.ask(Msg(N_("activity.record.done")), (STOP,))

    def parse_done(self) -> str | None:
        return questions.parse_note(self.event, "rec:never", limit=MAX_TEXT) or None

    def on_enter_problem(self) -> None:
        choices = tuple(Choice(Msg(label), f"rec:{key}") for key, label in PROBLEMS.items())
        self.ask(Msg(N_("activity.record.problem")), choices)

    def parse_problem(self) -> str | None:
        key = self.event.value.removeprefix("rec:") if self.event.kind == "choice" else ""
        return key if key in PROBLEMS else None

    def on_enter_note(self) -> None:
        self.ask(Msg(N_("activity.record.note")))

    def parse_note(self) -> str | None:
        return questions.parse_note(self.event, "rec:never", limit=MAX_TEXT) or None

    def on_enter_filed(self) -> None:
        self.emit(FileActivityRecord(int(self.ctx["activity"])))

    def on_enter_stopped(self) -> None:
        self.show_choice(Msg(N_("activity.record.stop")))
        self.emit(Say(Msg(N_("activity.record.stopped"))))


class FeedbackFlow(FlowModel):
    """``/feedback <activity> <satisfaction>``: the two taps after the first, and a comment
    if they want to write one."""

    name = "activityfeedback"
    initial = "helped"
    states: ClassVar[list[str]] = ["helped", "again", "comment", "saved"]
    final = frozenset({"saved"})
    transitions: ClassVar[list[dict[str, Any]]] = [
        move("helped", "again", "is_valid", before="keep"),
        move("again", "comment", "is_valid", before="keep"),
        move("comment", "saved", "is_valid"),
    ]

    def keep(self) -> None:
        self.ctx[self.state] = self.value
        self.show_choice(Msg(AGAIN[self.value]) if self.state == "again" else Raw(str(self.value)))

    def _role(self) -> Role:
        return self.person.role if self.person.role in HELPED else Role.CLIENT

    def on_enter_helped(self) -> None:
        self.ask(Msg(HELPED[self._role()]), _scale("fb"), 5)

    def parse_helped(self) -> int | None:
        number = parse_number(self.event.value.removeprefix("fb ").strip())
        if self.event.kind != "choice" or number is None:
            return None
        return number if 1 <= number <= 5 else None

    def on_enter_again(self) -> None:
        choices = tuple(Choice(Msg(label), f"again:{key}") for key, label in AGAIN.items())
        self.ask(Msg(AGAIN_ASK[self._role()]), choices, 3)

    def parse_again(self) -> str | None:
        key = self.event.value.removeprefix("again:") if self.event.kind == "choice" else ""
        return key if key in AGAIN else None

    def on_enter_comment(self) -> None:
        skip = Choice(Msg(N_("activity.feedback.skip")), "fb:skip")
        self.ask(Msg(N_("activity.feedback.comment")), (skip,))

    def parse_comment(self) -> str | None:
        return questions.parse_note(self.event, "fb:skip", limit=MAX_TEXT)

    def on_enter_saved(self) -> None:
        if not self.value:
            self.show_choice(Msg(N_("activity.feedback.skip")))
        self.emit(
            SaveActivityFeedback(
                int(self.ctx["activity"]),
                int(self.ctx["satisfaction"]),
                int(self.ctx["helped"]),
                str(self.ctx["again"]),
                self.value or "",
            ),
            Say(Msg(N_("activity.feedback.thanks"))),
        )


__all__ = [
    "FEEDBACK",
    "ActivityRecordFlow",
    "FeedbackFlow",
    "decide_leader",
    "leads",
    "notice",
    "sheet",
]
