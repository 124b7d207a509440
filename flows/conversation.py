"""The top of the core: routes one event to a command, the current flow, or a gentle answer."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from flows import (
    activities,
    activity_changes,
    activity_record,
    checkin,
    coping,
    crisis,
    desk,
    family,
    measures,
    new_activity,
    new_room,
    onboarding,
    rooms,
    safety_plan,
    supervision,
    warning_signs,
)
from flows.checkin import CheckIn
from flows.closing import Closing
from flows.commands import (
    BY_NAME,
    HELP,
    PRIVACY,
    ROOM_REQUESTS,
    STAFF_REQUESTS,
    SUPERVISION_REQUESTS,
    parse_number,
)
from flows.crisis import TALK_NOW
from flows.effects import (
    ActivityRequest,
    AskForPerson,
    Choice,
    Effect,
    EraseMe,
    ExportData,
    FlowSnapshot,
    ListLedRooms,
    Notice,
    PracticeAnswer,
    RaiseConcern,
    RateChat,
    Say,
    ShowAnswer,
    ShowCrisisReply,
    UpdatePerson,
)
from flows.engine import Flow, Outcome
from flows.escalation import Case
from flows.facts import Fact, Need, needed
from flows.family import Concern, FamilyLinks, LessonFlow, lessons_overview, next_lesson
from flows.history import NEEDS as HISTORY_NEEDS
from flows.history import history
from flows.lessons.course import COURSE, lesson_by_slug
from flows.lessons.training import TRAINING
from flows.onboarding import Onboarding
from flows.people import Event, PersonView, Rules
from flows.preferences import LanguageFlow, SettingsFlow
from flows.roles import Role
from flows.safety_plan import SafetyPlan
from flows.schedule import local_date
from flows.text import N_, Lines, Localised, Msg, Raw, msg
from flows.warning_signs import WarningSigns

FLOWS: dict[str, Flow] = {
    flow.name: flow
    for flow in map(
        Flow,
        (
            Onboarding,
            LanguageFlow,
            SettingsFlow,
            CheckIn,
            WarningSigns,
            Closing,
            SafetyPlan,
            FamilyLinks,
            LessonFlow,
            Concern,
            new_activity.NewActivity,
            activity_changes.EditActivity,
            activity_record.ActivityRecordFlow,
            activity_record.FeedbackFlow,
            measures.Questionnaire,
            rooms.RoomFlow,
            new_room.NewRoom,
            new_room.InviteToGroup,
            new_room.EditGroup,
        ),
    )
}


# What each feature needs looked up before it runs (flows.facts).
NEEDS = (
    *onboarding.NEEDS,
    *checkin.NEEDS,
    *HISTORY_NEEDS,
    *warning_signs.NEEDS,
    *safety_plan.NEEDS,
    *family.NEEDS,
    *activities.NEEDS,
    *new_activity.NEEDS,
    *activity_changes.NEEDS,
    *rooms.NEEDS,
    *new_room.NEEDS,
    Need(Fact.MEASURES, commands={"measures"}, roles={Role.CLIENT, Role.FAMILY}),
)


def facts_for(event: Event, role: Role, flow: str | None, state: str | None) -> tuple[Fact, ...]:
    """The facts the shell loads for this event, and no others."""
    return needed(NEEDS, event, role, flow, state)


THOUGHTS = {
    "yes": N_("concern.thoughts.yes"),
    "unsure": N_("concern.thoughts.unsure"),
    "no": N_("concern.thoughts.no"),
}

PRACTICE_HELPED = (
    ("yes", N_("practice.helped.yes")),
    ("some", N_("practice.helped.some")),
    ("no", N_("practice.helped.no")),
)


def start_flow(name: str, person: PersonView, event: Event, rules: Rules) -> Outcome:
    return FLOWS[name].start(person, event, rules)


def handle(event: Event, person: PersonView, snapshot: FlowSnapshot, rules: Rules) -> Outcome:
    """Decide what one event means for this person, given where they are."""
    if event.kind == "command":
        return _command(event, person, snapshot, rules)
    if event.kind == "text" and len(event.value) > rules.max_text_length:
        return _keep(snapshot, Say(msg(N_("input.too_long"), limit=rules.max_text_length)))
    if snapshot.flow == rooms.NAME and snapshot.state == "inside":
        # in a room, a message is for the room; crisis language is held back there
        return FLOWS[rooms.NAME].handle(snapshot, person, event, rules)
    if event.risk == "crisis" and person.role in SUBJECTS:
        return _after_crisis(event, person, snapshot, rules)
    if event.kind in ("text", "media"):
        relayed = _relay(event, person, snapshot)
        if relayed:
            return _keep(snapshot, *relayed)
    if event.risk == "concern" and person.role in SUBJECTS and event.kind != "choice":
        return _after_concern(event, person, snapshot, rules)
    if event.kind == "stale":  # the shell sends these only mid-flow
        return _with_resume(
            snapshot, person, event, rules, Notice(Msg(N_("input.stale_button_resumed")))
        )
    out_of_the_room = rooms.edited_out_of_the_room(event, person)
    if out_of_the_room is not None:
        return _with_resume(snapshot, person, event, rules, out_of_the_room)
    if event.kind in ("media", "edited"):
        answer = N_("input.media") if event.kind == "media" else N_("input.edited")
        return _with_resume(snapshot, person, event, rules, Say(Msg(answer)))
    if snapshot.flow == "deleteme":
        return _deleteme(event, snapshot)
    if snapshot.flow is not None and snapshot.flow in FLOWS:
        return FLOWS[snapshot.flow].handle(snapshot, person, event, rules)
    if event.kind == "choice":
        return _keep(snapshot, Notice(Msg(N_("input.stale_button"))))
    snapshot, offer = _offer_paused(snapshot, person, event)
    return _keep(snapshot, Say(Msg(N_("input.idle_text")), menu=True), *offer)


SUBJECTS = frozenset({Role.CLIENT, Role.FAMILY})
AUDIENCE = {Role.CLIENT: crisis.Audience.AT_RISK, Role.FAMILY: crisis.Audience.RELATIVE}
# Flows a crisis pauses (their answers so far are kept; the person goes on when they choose).
PAUSED = {"checkin": N_("crisis.paused_checkin")}
PAUSED_OTHER = N_("crisis.paused")
CONTINUE_CHECKIN = Choice(Msg(N_("crisis.continue_checkin")), "/checkin")
# Flows a crisis does not pause: onboarding waits where it is; /worried is how a relative
# tells the team, and what they write is part of it.
NOT_PAUSED = frozenset({"onboarding", "concern", "deleteme"})
ASK_THOUGHTS = Say(
    Msg(N_("concern.ask_thoughts")),
    (
        Choice(Msg(N_("concern.thoughts.yes")), "/thoughts yes"),
        Choice(Msg(N_("concern.thoughts.unsure")), "/thoughts unsure"),
        Choice(Msg(N_("concern.thoughts.no")), "/thoughts no"),
    ),
    3,
)
# The direct question is asked once: worrying words again within this time get the offer of
# a person instead (the time it was asked is kept in the person's place in the conversation).
ASK_AGAIN_AFTER = timedelta(hours=24)
ASKED = "thoughts_asked"
# The day (ISO, the client's own) of a check-in that crisis or worrying words paused, kept in
# the person's place in the conversation until it is offered again after the chat closes.
PAUSED_CHECKIN = "paused_checkin"


def _paused(snapshot: FlowSnapshot) -> FlowSnapshot:
    """Where a person is once the flow they were in is paused: in no flow, with the day of a
    paused check-in (its answers are already saved) and when the direct question was asked."""
    context: dict[str, object] = {}
    day = snapshot.context.get("day") if snapshot.flow == "checkin" else None
    day = day if isinstance(day, str) else snapshot.context.get(PAUSED_CHECKIN)
    if isinstance(day, str):
        context[PAUSED_CHECKIN] = day
    if ASKED in snapshot.context:
        context[ASKED] = snapshot.context[ASKED]
    return FlowSnapshot(context=context)


def _paused_today(snapshot: FlowSnapshot, person: PersonView, now: datetime | None) -> bool:
    day = snapshot.context.get(PAUSED_CHECKIN)
    return (
        isinstance(day, str)
        and now is not None
        and local_date(now, person.timezone).isoformat() == day
    )


def _pause_notice(snapshot: FlowSnapshot, person: PersonView, event: Event) -> tuple[Say, ...]:
    """Said when a check-in has just been paused: its answers are kept, and it goes on when the
    person taps to (the same day only)."""
    if not _paused_today(snapshot, person, event.now):
        return ()
    return (Say(Msg(PAUSED["checkin"]), (CONTINUE_CHECKIN,)),)


def _offer_paused(
    snapshot: FlowSnapshot, person: PersonView, event: Event
) -> tuple[FlowSnapshot, tuple[Effect, ...]]:
    """Once no chat is open any more: a check-in paused earlier today is offered, once, never
    resumed by surprise; one paused on an earlier day is not (its answers stay as a partial
    day). While a chat is open the person is talking with someone, and nothing is offered."""
    if PAUSED_CHECKIN not in snapshot.context or person.case is not None:
        return snapshot, ()
    today = _paused_today(snapshot, person, event.now)
    context = {k: v for k, v in snapshot.context.items() if k != PAUSED_CHECKIN}
    offer = (Say(Msg(N_("checkin.offer_paused")), (CONTINUE_CHECKIN,)),) if today else ()
    return replace(snapshot, context=context), offer


def _after_crisis(
    event: Event, person: PersonView, snapshot: FlowSnapshot, rules: Rules
) -> Outcome:
    """The crisis reply has gone out first. Routine questions stop: a flow in progress is
    paused (onboarding waits where it is); what they wrote reaches the worker who holds
    their chat, or is kept for the one who will."""
    effects: list[Effect] = []
    if snapshot.flow is not None and snapshot.flow not in NOT_PAUSED:
        # offered, never resumed by surprise: the person taps to go on when they choose
        go_on = (CONTINUE_CHECKIN,) if snapshot.flow == "checkin" else ()
        effects.append(Say(Msg(PAUSED.get(snapshot.flow, PAUSED_OTHER)), go_on))
        snapshot = _paused(snapshot)
    elif snapshot.flow == "concern" and snapshot.state == "signs":
        # crisis words typed instead of ticking signs are the worry itself: the team is told
        # them with what was ticked, and no sign is asked for after the crisis reply
        words = event.value[:2000] if event.kind == "text" else ""
        ticked = snapshot.context.get("signs", [])
        signs = tuple(str(sign) for sign in ticked) if isinstance(ticked, list) else ()
        return Outcome(FlowSnapshot(), (RaiseConcern(signs, words, event.risk_about_others),))
    elif snapshot.flow in FLOWS and snapshot.flow != "onboarding":
        # telling the team about a worry: the words are the worry, and the flow goes on
        return FLOWS[snapshot.flow].handle(snapshot, person, event, rules)
    if event.kind in ("text", "media", "edited") and person.case is not None:
        message = desk.Message(
            "media" if event.kind == "media" else "text", event.value, event.message_id or 0
        )
        effects += desk.from_subject(person.case, message)
    return Outcome(snapshot, tuple(effects))


def _after_concern(
    event: Event, person: PersonView, snapshot: FlowSnapshot, rules: Rules
) -> Outcome:
    """Worrying words without a crisis: never the bot's idle text. Asking directly about
    suicide does not raise the risk, and is what screening does; a relative writing about
    someone else is offered the way to tell the team."""
    asked = _asked_recently(snapshot, event.now)
    effects: tuple[Effect, ...] = ()
    paused = snapshot.flow == "checkin" and snapshot.state != "note"
    if paused:
        # not an answer to a check-in question, and no "use the buttons" and question again:
        # the check-in pauses as after crisis language (its answers are saved)
        snapshot = _paused(snapshot)
    elif snapshot.flow is not None and snapshot.flow in FLOWS:
        answered = FLOWS[snapshot.flow].handle(snapshot, person, event, rules)
        snapshot, effects = answered.snapshot, answered.effects
    question = _concern_question(event, person, asked)
    if question is ASK_THOUGHTS:
        # only the question: the paused check-in is offered once it is answered
        if event.now is not None:
            context = {**snapshot.context, ASKED: event.now.isoformat()}
            snapshot = replace(snapshot, context=context)
        return Outcome(snapshot, (*effects, question))
    after = _pause_notice(snapshot, person, event) if paused else ()
    return Outcome(snapshot, (*effects, question, *after))


def _asked_recently(snapshot: FlowSnapshot, now: datetime | None) -> bool:
    asked = snapshot.context.get(ASKED)
    if not isinstance(asked, str) or now is None:
        return False
    return now - datetime.fromisoformat(asked) < ASK_AGAIN_AFTER


def _concern_question(event: Event, person: PersonView, asked: bool) -> Say:
    if person.role is Role.FAMILY and event.risk_about_others:
        return Say(
            Msg(N_("concern.offer_worried")),
            (Choice(Msg(N_("menu.worried")), "/worried"),),
        )
    if event.risk_softened or asked:
        # "I used to…", "I'm not going to…", or asked minutes ago: they have answered the
        # question already, or may not want it again; a person is offered, not asked for.
        return Say(Msg(N_("concern.offer")), (TALK_NOW,))
    return ASK_THOUGHTS


def _staff(
    name: str, event: Event, person: PersonView, snapshot: FlowSnapshot, rules: Rules
) -> Outcome:
    """Staff commands about escalations: answered from the desk, or turned into a request
    the shell loads facts for (``flows.desk.decide``)."""
    assert person.desk is not None, "the shell loads every staff member's desk"
    if name == "mine":
        return _keep(snapshot, *desk.mine(person.desk))
    if name == "switch":
        return _keep(snapshot, *desk.switch(person.desk, event.argument))
    if name == "done":
        target = desk.closing_target(person.desk, event.argument)
        if not isinstance(target, Case):
            return _keep(snapshot, *target)
        return FLOWS["closing"].start(person, event, rules, {"escalation": target.id})
    request = desk.parse(name, event.argument, person.desk, event.via_button, event.message_id)
    if isinstance(request, tuple):
        return _keep(snapshot, *request)
    return _keep(snapshot, request)


def _help(person: PersonView, data: Mapping[str, Any]) -> Say:
    """What the bot can do: first ``/room``, for whoever belongs to a room they can enter (a
    leader's commands too, for its leaders); for clients and relatives, the numbers for
    their region last, under the sentence that ends in a colon."""
    parts: list[Msg | Raw | Localised] = [*rooms.help_lines(data), Msg(HELP[person.role])]
    if person.role in SUBJECTS:
        parts += crisis.block(person.numbers).parts
    return Say(parts[0] if len(parts) == 1 else Lines(tuple(parts)), menu=person.onboarded)


def _deleteme(event: Event, snapshot: FlowSnapshot) -> Outcome:
    """Erasure needs a tap on "Yes"; anything else keeps everything."""
    if event.kind == "choice" and event.value == "del:yes":
        return Outcome(FlowSnapshot(), (ShowAnswer(Msg(N_("deleteme.yes"))), EraseMe()))
    return Outcome(
        FlowSnapshot(),
        (ShowAnswer(Msg(N_("deleteme.no"))), Say(Msg(N_("deleteme.kept")), menu=True)),
    )


def _relay(event: Event, person: PersonView, snapshot: FlowSnapshot) -> tuple[Effect, ...]:
    """A message that belongs to a conversation between people, not with the bot: from the
    person an escalation is about (to its worker, or kept for one while they are not in the
    middle of something with the bot), or from staff who are not mid-flow (routed by
    ``flows.desk``; with no chat held they are told it went nowhere)."""
    message = desk.Message(
        "text" if event.kind == "text" else "media",
        event.value,
        event.message_id or 0,
        event.reply_case,
        event.reply_unknown,
    )
    if person.desk is not None:
        if snapshot.flow is not None:
            return ()
        assert event.now is not None
        return desk.from_worker(person.desk, message, event.now)
    case = person.case
    if case is not None and (case.held or snapshot.flow is None):
        return desk.from_subject(case, message)
    return ()


def _after_activity(
    name: str, event: Event, person: PersonView, snapshot: FlowSnapshot, rules: Rules
) -> Outcome:
    """A leader's tap on the attendance sheet or its record button; an attendee's first tap
    of feedback. Each carries the activity (and a person, minutes or a rating) by number."""
    match [parse_number(part) for part in event.argument.split()]:
        case [int(activity_id), int(number)] if name == "attend":
            return _keep(snapshot, ActivityRequest("attend", activity_id, number))
        case [int(activity_id), int(number)] if name == "record":
            context: dict[str, object] = {"activity": activity_id, "planned": number}
            return FLOWS["activityrecord"].start(person, event, rules, context)
        case [int(activity_id), int(number)] if name == "feedback" and 1 <= number <= 5:
            context = {"activity": activity_id, "satisfaction": number}
            started = FLOWS["activityfeedback"].start(person, event, rules, context)
            shown = (ShowAnswer(Raw(str(number))),) if event.via_button else ()
            return Outcome(started.snapshot, (*shown, *started.effects))
    return _keep(snapshot, Notice(Msg(N_("input.stale_button"))))


def _as_effects(parsed: Effect | tuple[Effect, ...]) -> tuple[Effect, ...]:
    return parsed if isinstance(parsed, tuple) else (parsed,)


def _keep(snapshot: FlowSnapshot, *effects: Effect) -> Outcome:
    return Outcome(snapshot, tuple(effects))


def _training(event: Event, person: PersonView, snapshot: FlowSnapshot, rules: Rules) -> Outcome:
    """/training lists the peer workers' course; /training <lesson> opens one."""
    progress = {str(k): str(v) for k, v in dict(event.data.get("training", {})).items()}
    slug = event.argument.strip()
    if not slug:
        text, choices = lessons_overview(progress, TRAINING)
        return _keep(snapshot, Say(text, choices, columns=5))
    if TRAINING.lesson(slug) is None:
        return _keep(snapshot, Say(Msg(TRAINING.gone), menu=True))
    done = sorted(key for key, state in progress.items() if state == "done")
    context: dict[str, object] = {"course": TRAINING.name, "slug": slug, "done": done}
    return FLOWS["lesson"].start(person, event, rules, context)


def _with_resume(
    snapshot: FlowSnapshot,
    person: PersonView,
    event: Event,
    rules: Rules,
    *effects: Effect,
) -> Outcome:
    """Answer, then ask the current question again so the person knows where they are."""
    if snapshot.flow is None or snapshot.flow not in FLOWS:
        return _keep(snapshot, *effects)
    resumed = FLOWS[snapshot.flow].resume(snapshot, person, event, rules)
    return Outcome(resumed.snapshot, (*effects, *resumed.effects))


def _command(event: Event, person: PersonView, snapshot: FlowSnapshot, rules: Rules) -> Outcome:
    command = BY_NAME.get(event.value)
    if command is None:
        unknown = Say(msg(N_("command.unknown"), command="/" + event.value[:32]))
        return _with_resume(snapshot, person, event, rules, unknown)
    if person.role not in command.roles:
        return _keep(snapshot, Say(Msg(N_("command.not_for_role"))))
    if not person.onboarded and not command.before_onboarding:
        return _with_resume(
            snapshot, person, event, rules, Say(Msg(N_("command.finish_setup_first")))
        )

    name = command.name
    if name == "start":
        if snapshot.flow is not None:
            return _with_resume(snapshot, person, event, rules)
        return _keep(snapshot, Say(Msg(N_("start.welcome_back")), menu=True))
    if name == "help":
        return _with_resume(snapshot, person, event, rules, _help(person, event.data))
    if name == "sos":
        text, choices = crisis.sos(
            person.numbers,
            AUDIENCE.get(person.role, crisis.Audience.STAFF),
            event.data.get("plan"),
            can_talk=person.onboarded and person.role in SUBJECTS,
        )
        return _with_resume(snapshot, person, event, rules, Say(text, choices))
    if name == "privacy":
        return _with_resume(snapshot, person, event, rules, Say(Msg(PRIVACY[person.role])))
    if name in ("settings", "language", "warningsigns", "safetyplan", "family", "worried"):
        return start_flow("concern" if name == "worried" else name, person, event, rules)
    if name == "checkin":
        today = event.data["checkin"]
        if today.get("completed"):
            return _keep(snapshot, Say(Msg(N_("checkin.already_done")), menu=True))
        return FLOWS["checkin"].start(person, event, rules, dict(today))
    if name == "later":
        return _keep(snapshot, Say(Msg(N_("checkin.later")), menu=True))
    if name == "lessons":
        text, choices = lessons_overview(dict(event.data.get("progress", {})))
        return _keep(snapshot, Say(text, choices, columns=7))
    if name == "lesson":
        slug = (
            event.argument.strip()
            or (next_lesson(dict(event.data.get("progress", {}))) or COURSE[0]).slug
        )
        if lesson_by_slug(slug) is None:
            return _keep(snapshot, Say(Msg(N_("lesson.gone")), menu=True))
        progress = dict(event.data.get("progress", {}))
        done = sorted(key for key, state in progress.items() if state == "done")
        return FLOWS["lesson"].start(person, event, rules, {"slug": slug, "done": done})
    if name == "course":
        return _keep(snapshot, *family.course_feedback(event.argument, person.role))
    if name == "training":
        return _training(event, person, snapshot, rules)
    if name == "practice":
        parts = event.argument.split()
        if len(parts) == 2 and lesson_by_slug(parts[0]) is not None:
            if parts[1] in ("yes", "no"):
                tried = parts[1] == "yes"
                follow = (
                    Say(
                        Msg(N_("practice.helped.ask")),
                        tuple(
                            Choice(Msg(label), f"/practice {parts[0]} {key}")
                            for key, label in PRACTICE_HELPED
                        ),
                        3,
                    )
                    if tried
                    else Say(Msg(N_("practice.not_yet")))
                )
                return _keep(snapshot, PracticeAnswer(parts[0], tried=tried), follow)
            if parts[1] in dict(PRACTICE_HELPED):
                return _keep(
                    snapshot,
                    PracticeAnswer(parts[0], helped=parts[1]),
                    Say(Msg(N_("practice.thanks"))),
                )
        return _keep(snapshot, Notice(Msg(N_("input.stale_button"))))
    if name in ("attend", "record", "feedback"):
        return _after_activity(name, event, person, snapshot, rules)
    if name == "newactivity":
        return start_flow(new_activity.NAME, person, event, rules)
    if name == "myactivities":
        return _keep(snapshot, activity_changes.listing(event.argument))
    if name == "manage":
        managed = activity_changes.command(event.argument, event.via_button)
        if isinstance(managed, dict):
            return FLOWS[activity_changes.NAME].start(person, event, rules, managed)
        return _keep(snapshot, *managed)
    if name in ("activities", "activity", "rsvp", "invitations"):
        return _keep(snapshot, *activities.command(name, event.argument, person, dict(event.data)))
    if name == "newgroup":
        return start_flow(new_room.NAME, person, event, rules)
    if name == "groups":
        return _keep(snapshot, ListLedRooms())
    if name == "group":
        managed = new_room.command(event.argument, event.via_button)
        if isinstance(managed, dict):
            flow = new_room.EDIT if "field" in managed else new_room.INVITE
            return FLOWS[flow].start(person, event, rules, managed)
        return _keep(snapshot, *managed)
    if name == "room":
        if event.argument.startswith("leave"):
            return rooms.leave(event.argument, person, snapshot, event.data)
        entered = rooms.enter(event, person, rules)
        return entered if isinstance(entered, Outcome) else _keep(snapshot, entered)
    if name in ROOM_REQUESTS:
        reply = event.reply_case is not None or event.reply_unknown
        return _keep(snapshot, *rooms.command(name, event.argument, person, snapshot, reply))
    if name == "mydata":
        return _keep(snapshot, ExportData())
    if name == "deleteme":
        return _keep(
            FlowSnapshot("deleteme", "confirm", {}),
            Say(
                Msg(N_("deleteme.ask")),
                (
                    Choice(Msg(N_("deleteme.yes")), "del:yes"),
                    Choice(Msg(N_("deleteme.no")), "del:no"),
                ),
                1,
            ),
        )
    if name == "talk":
        return _keep(snapshot, AskForPerson("request"))
    if name == "measures":
        return _keep(snapshot, measures.overview(person, dict(event.data.get("measures", {}))))
    if name == "measure":
        answered = measures.command(person, event.argument)
        if answered is None:
            parts = event.argument.split()
            context: dict[str, object] = {"measure": parts[0]}
            if len(parts) > 2 and parse_number(parts[2]) is not None:
                context["worker"] = parse_number(parts[2])
            return FLOWS["measure"].start(person, event, rules, context)
        return _keep(snapshot, *(answered or (Notice(Msg(N_("input.stale_button"))),)))
    if name == "thoughts":
        answer = event.argument.strip()
        # a check-in the question paused is offered after the answer, never resumed
        go_on = _pause_notice(snapshot, person, event) if snapshot.flow is None else ()
        if answer in ("yes", "unsure"):
            return _keep(
                _paused(snapshot) if snapshot.flow != "onboarding" else snapshot,
                ShowAnswer(Msg(THOUGHTS[answer])),
                ShowCrisisReply(),
                AskForPerson("crisis", tell=False),
                *go_on,
            )
        if answer == "no":
            return _keep(
                snapshot,
                ShowAnswer(Msg(THOUGHTS[answer])),
                AskForPerson("concern"),
                *go_on,
            )
        return _keep(snapshot, Notice(Msg(N_("input.stale_button"))))
    if name == "rate":
        match [parse_number(part) for part in event.argument.split()]:
            case [int(case_id), int(rating)] if 1 <= rating <= 5:
                snapshot, offer = _offer_paused(snapshot, person, event)
                return _keep(snapshot, RateChat(case_id, rating), *offer)
        return _keep(snapshot, Notice(Msg(N_("input.stale_button"))))
    if name in ("onduty", "offduty"):
        on = name == "onduty"
        return _keep(
            snapshot,
            UpdatePerson(on_duty=on),
            Say(Msg(N_("duty.on")) if on else Msg(N_("duty.off")), menu=True),
        )
    if name in ("done", "mine", "switch") or name in STAFF_REQUESTS:
        return _staff(name, event, person, snapshot, rules)
    if name in SUPERVISION_REQUESTS:
        return _keep(
            snapshot, *_as_effects(supervision.parse(name, event.argument, event.via_button))
        )
    if name == "history":
        return _keep(
            snapshot,
            Say(
                history(event.data["history"], event.data["today"], event.data["joined"]),
                menu=True,
            ),
        )
    if name == "skills":
        return _keep(snapshot, *coping.skills(event.argument))
    if name == "pause":
        return Outcome(FlowSnapshot(), (UpdatePerson(paused=True), Say(Msg(N_("pause.done")))))
    if name == "resume":
        return _keep(snapshot, UpdatePerson(paused=False), Say(Msg(N_("resume.done")), menu=True))
    raise AssertionError(f"command {name} has no handler")
