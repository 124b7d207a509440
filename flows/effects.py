"""What a flow asks the shell to do. Effects are data; the shell applies them in order.

Whom a message is for is never guessed: ``Say`` and the other effects of the first part
are for the one person the event or due timer is about (there is exactly one), and every
effect that reaches anyone else names them (``Tell(to=...)``, ``PostCard(to=...)``,
``RelayTo(to=...)``); each is rendered in its reader's language."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import TYPE_CHECKING

from flows.text import Text

if TYPE_CHECKING:
    from flows.activities import Draft
    from flows.escalation import Reason


@dataclass(frozen=True, slots=True)
class Choice:
    """One button under a question; ``value`` comes back as a ``choice`` event."""

    label: Text
    value: str


@dataclass(frozen=True, slots=True)
class Say:
    """Send a message, optionally with buttons (one row per ``columns`` buttons)."""

    text: Text
    choices: tuple[Choice, ...] = ()
    columns: int = 1
    menu: bool = False  # also show the person's main menu keyboard under the chat


@dataclass(frozen=True, slots=True)
class ShowAnswer:
    """Replace the question whose button was pressed with the question and the chosen answer."""

    answer: Text


@dataclass(frozen=True, slots=True)
class UpdatePerson:
    """Change the person's own settings (locale, time zone, region, check-in time, alias...)."""

    locale: str | None = None
    timezone: str | None = None
    region: str | None = None
    checkin_time: time | None = None
    alias: str | None = None
    on_duty: bool | None = None
    paused: bool | None = None
    lesson_days: str | None = None
    consented: bool = False
    onboarded: bool = False


@dataclass(frozen=True, slots=True)
class ForgetPerson:
    """Erase the person completely (consent was declined)."""


@dataclass(frozen=True, slots=True)
class RefreshCommands:
    """The person's role or language changed: set their command menu again."""


@dataclass(frozen=True, slots=True)
class Notice:
    """Answer a button press with a short toast instead of a message."""

    text: Text


@dataclass(frozen=True, slots=True)
class RefreshChoices:
    """Redraw the buttons of the message whose button was pressed (e.g. a multi-select)."""

    text: Text
    choices: tuple[Choice, ...]
    columns: int = 1


@dataclass(frozen=True, slots=True)
class RecordAnswer:
    """Store one check-in answer the moment it is given. ``value`` is JSON-compatible."""

    day: str  # the client's local date, ISO format
    field: str
    value: object


@dataclass(frozen=True, slots=True)
class FinishCheckin:
    """The client reached the end of today's check-in."""

    day: str


@dataclass(frozen=True, slots=True)
class SaveSign:
    """Add (``sign_id`` None) or rewrite one of the client's personal warning signs."""

    sign_id: int | None
    text: str


@dataclass(frozen=True, slots=True)
class RemoveSign:
    sign_id: int


@dataclass(frozen=True, slots=True)
class SavePlanSection:
    """Store one section of the client's safety plan ("" clears it)."""

    section: str
    text: str


@dataclass(frozen=True, slots=True)
class AskForPerson:
    """Bring a human in: open an escalation about this person (or add this reason to it)."""

    source: str = "request"
    tell: bool = True  # say what happens next and when (the crisis reply already does)


@dataclass(frozen=True, slots=True)
class ShowCrisisReply:
    """The crisis reply, as crisis language gets it (the person said yes when asked; a
    relative said their relative talks about death: ``about_others``)."""

    about_others: bool = False


@dataclass(frozen=True, slots=True)
class StaffRequest:
    """A staff command that needs facts only the database has (a case by its id, a worker by
    alias, a kept message). The shell loads what the fields name, locks the case, and hands
    both to ``flows.desk.decide``; it decides nothing itself."""

    action: str  # claim | assign | transfer | release | resolve | note | sendto | queue | overdue
    case_id: int | None = None
    ref: str | None = None  # what a button carries, so a card acts only on its own case
    alias: str | None = None
    text: str = ""
    outcome: str = ""
    message_id: int | None = None
    via_button: bool = False


@dataclass(frozen=True, slots=True)
class SupervisionRequest:
    """A command about looking after peer workers (debrief, team, handback, review, reviews,
    supnote, supnotes): the shell loads what it names and hands both to
    ``flows.supervision.decide``."""

    action: str
    case_id: int | None = None  # a chat (debrief, review) or a review (reviews)
    alias: str | None = None
    text: str = ""
    answer: str = ""
    via_button: bool = False


@dataclass(frozen=True, slots=True)
class RecordDebrief:
    """A worker's answer to "how are you after that one?" (once per chat)."""

    case_id: int
    worker_id: int
    answer: str


@dataclass(frozen=True, slots=True)
class OpenReview:
    """A worker asks a supervisor to look at a chat with them (their note is encrypted)."""

    case_id: int
    worker_id: int
    note: str


@dataclass(frozen=True, slots=True)
class TakeReview:
    """A supervisor opened a review."""

    review_id: int
    supervisor_id: int


@dataclass(frozen=True, slots=True)
class AddSupervisionNote:
    """A note about a worker, read only by supervisors and that worker (encrypted)."""

    worker_id: int
    author_id: int
    author_alias: str
    text: str


@dataclass(frozen=True, slots=True)
class SetMeasure:
    """Opt in to, snooze or stop a measure (``flows.measures``): its status and when it is
    next asked (``due_in`` from now; None: never while declined)."""

    measure: str
    status: str  # on | declined
    due_in: timedelta | None


@dataclass(frozen=True, slots=True)
class RecordMeasure:
    """One finished questionnaire: its answers, and the worker it was about (alliance)."""

    measure: str
    answers: tuple[int, ...]
    worker_id: int | None = None


# -- escalations: every effect says whom it concerns ------------------------------------


@dataclass(frozen=True, slots=True)
class Tell:
    """A message to one person (by id), rendered in that person's language."""

    to: int
    text: Text
    choices: tuple[Choice, ...] = ()
    columns: int = 1


@dataclass(frozen=True, slots=True)
class PostCard:
    """An escalation card in a staff member's chat; remembered so it can be edited later."""

    to: int
    case_id: int
    text: Text
    choices: tuple[Choice, ...]


@dataclass(frozen=True, slots=True)
class EditCards:
    """Rewrite every card posted about an escalation (taken, closed) and forget them."""

    case_id: int
    text: Text


@dataclass(frozen=True, slots=True)
class ChangeCase:
    """One lifecycle change of an escalation, as decided against the row the core was shown.

    The shell's UPDATE requires the row to be in a state the lifecycle allows ``change`` from
    and still held by ``expect_holder`` (``None``: by nobody); if another transaction got
    there first, nothing is written and the whole update is handled again on fresh rows.
    """

    case_id: int
    change: str  # a trigger of flows.escalation.Lifecycle
    actor_id: int | None  # None: the clock, or the system
    expect_holder: int | None
    at: datetime
    was: str = ""  # the state it was decided from (the event log records first replies)
    holder_id: int | None = None  # claim, assign, transfer: who holds it now
    tier: str | None = None  # add_reason: the raised tier
    claim_due_at: datetime | None = None
    reply_due_at: datetime | None = None
    outcome: str | None = None


@dataclass(frozen=True, slots=True)
class AddReason:
    """Record one more reason for an escalation (a relative's own words are stored encrypted)."""

    case_id: int
    reason: Reason


@dataclass(frozen=True, slots=True)
class AddNote:
    """Append a note to an escalation (never overwrite one)."""

    case_id: int
    author_id: int
    author_alias: str
    text: str
    closing: bool = False


@dataclass(frozen=True, slots=True)
class SetSelection:
    """The chat a worker's plain messages go to (``None``: ask them each time)."""

    worker_id: int
    case_id: int | None


@dataclass(frozen=True, slots=True)
class ShowContext:
    """The context card (reasons, last week, signs, plan, notes, chart) for a worker."""

    to: int
    case_id: int
    chosen: bool  # their messages go there now (they claimed it) or they will be asked
    review: bool = False  # a supervisor reads it for a review: nothing they write goes there


@dataclass(frozen=True, slots=True)
class RelayTo:
    """Pass one message on within an escalation. ``text`` is the whole message, or the line
    above a copied photo or voice note (``copy_of``: sender's person id and message id).
    Once delivered, ``confirm`` goes to the sender; if delivery fails they are told."""

    to: int
    case_id: int
    sender_id: int
    text: Text
    copy_of: int | None = None  # the message id in the sender's chat
    confirm: Text | None = None


@dataclass(frozen=True, slots=True)
class QueueMessage:
    """Keep a message until someone can act on it (see ``bot.storage.models.QueuedMessage``)."""

    sender_id: int
    case_id: int | None
    purpose: str  # waiting | unaddressed | note
    message_id: int
    kind: str  # text | media
    text: str


@dataclass(frozen=True, slots=True)
class DropQueued:
    ids: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class RateChat:
    escalation_id: int
    rating: int


@dataclass(frozen=True, slots=True)
class CreateFamilyInvite:
    """A client invites one relative; the shell answers with the link."""

    share_summary: bool
    share_alerts: bool


@dataclass(frozen=True, slots=True)
class UpdateFamilyLink:
    link_id: int
    share_summary: bool
    share_alerts: bool


@dataclass(frozen=True, slots=True)
class RevokeFamilyLink:
    link_id: int


@dataclass(frozen=True, slots=True)
class LessonProgressed:
    """Someone started or finished a lesson (``correct`` set when finished): a family member
    in the family course, or a peer worker in the ``training`` course."""

    slug: str
    finished: bool = False
    correct: bool | None = None
    course: str = "family"


@dataclass(frozen=True, slots=True)
class PracticeAnswer:
    slug: str
    tried: bool | None = None
    helped: str | None = None


@dataclass(frozen=True, slots=True)
class ShowCopingCard:
    """A coping card was shown (``source``: "checkin" offer or the "library"), for reports."""

    card: str
    source: str


@dataclass(frozen=True, slots=True)
class CopingHelped:
    """The client's answer to "did this help?" ("yes", "some", "no") about a card."""

    card: str
    helped: str


@dataclass(frozen=True, slots=True)
class CourseFeedbackGiven:
    """An answer at the end of a course ("very", "somewhat", "not"): a relative's about the
    family course, or a peer worker's about the ``training`` course."""

    useful: str
    course: str = "family"


@dataclass(frozen=True, slots=True)
class RaiseConcern:
    """A family member is worried: an escalation about their relative or about themselves.
    ``replied``: their note was crisis language about someone else, so the relative's crisis
    reply has just gone out and is not sent again."""

    signs: tuple[str, ...]
    note: str
    replied: bool = False


@dataclass(frozen=True, slots=True)
class ExportData:
    """Send the person everything stored about them."""


@dataclass(frozen=True, slots=True)
class EraseMe:
    """Erase the person (they confirmed)."""


# -- peer activities (flows/activities.py) ------------------------------------------------


@dataclass(frozen=True, slots=True)
class ActivityRequest:
    """A tap on an activity's button: the shell loads the activity and its answers (locked)
    and hands them to ``flows.activities.decide``; it decides nothing itself."""

    # show | going | maybe | cant | late | notcoming; leaders: sheet | attend, and
    # manage | cancel | cancelnow (flows.activity_changes)
    action: str
    activity_id: int
    person_id: int | None = None  # attend: whom the leader tapped


@dataclass(frozen=True, slots=True)
class SetActivityAnswer:
    """A person's answer to an activity (going, maybe, can't, or waiting for a place), and
    the reminders they should get (none unless going: any others they had are dropped)."""

    activity_id: int
    person_id: int
    answer: str
    at: datetime
    reminders: tuple[tuple[str, datetime], ...] = ()


@dataclass(frozen=True, slots=True)
class ReplaceReminders:
    """The activity's time changed: everyone going gets these reminders instead."""

    activity_id: int
    reminders: tuple[tuple[str, datetime], ...]


@dataclass(frozen=True, slots=True)
class PlaceNotices:
    """Tell these people about an activity (``kind``: a seat came free, it changed, it was
    cancelled): a notice each, due ``at`` or when their quiet hours end, sent by the tick."""

    activity_id: int
    people: tuple[int, ...]
    kind: str
    at: datetime


@dataclass(frozen=True, slots=True)
class CreateActivity:
    """Announce this activity (a leader finished /newactivity): stored, invitations placed,
    and the leader told how many are on their way."""

    draft: Draft


@dataclass(frozen=True, slots=True)
class SetAttendance:
    """A leader marked someone present (or not) at an activity."""

    activity_id: int
    person_id: int
    present: bool


@dataclass(frozen=True, slots=True)
class UpdateActivityRecord:
    """One answer of a leader's record, stored the moment it is given (``None``: unchanged);
    ``problem`` is none, adverse or other."""

    activity_id: int
    minutes: int | None = None
    what_was_done: str | None = None
    problem: str | None = None
    problem_note: str | None = None


@dataclass(frozen=True, slots=True)
class FileActivityRecord:
    """The record is complete: filed with the head count; an adverse event is told to every
    supervisor; those present are asked for feedback."""

    activity_id: int


@dataclass(frozen=True, slots=True)
class SaveActivityFeedback:
    """Three taps and an optional comment from someone who was there."""

    activity_id: int
    satisfaction: int
    helped: int
    again: str
    comment: str = ""


@dataclass(frozen=True, slots=True)
class ListLedActivities:
    """``/myactivities``: the shell loads the activities not yet started that the person
    leads (a supervisor or admin: all of them), a page of them (``page``, from 0), and
    ``flows.activity_changes.led`` lists them."""

    page: int = 0


@dataclass(frozen=True, slots=True)
class DropActivityAnswers:
    """These people's answers to an activity no longer meant for them (its audience
    changed) are removed, with every notice still waiting for them about it."""

    activity_id: int
    people: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class ChangeActivity:
    """A leader changed one thing in the chat: ``field`` is ``time`` (an ISO moment),
    ``minutes``, ``place`` ("" for online), ``capacity``, ``title``, ``kind``, ``audience``,
    ``language`` or ``leaders`` (aliases joined by commas). The shell checks on
    the activity as loaded and locked that they still may, then changes it as the command
    line does (everyone who answered is told)."""

    activity_id: int
    field: str
    value: str | int


@dataclass(frozen=True, slots=True)
class CancelActivity:
    """A leader confirmed cancelling (already checked on the locked activity): cancelled as
    the command line does, everyone who answered told."""

    activity_id: int


@dataclass(frozen=True, slots=True)
class SetInvitations:
    """The person wants invitations to new activities (or not)."""

    on: bool


# -- group rooms (flows/rooms.py) -----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PostToRoom:
    """A member's message to the room they are in: the shell numbers it in the room's order,
    finds who is present and copies it to each of them (``flows.rooms.copies``); a
    Telegram reply in the sender's chat answers each member's own copy."""

    room_id: int
    sender_id: int
    kind: str  # text | media
    text: str
    message_id: int


@dataclass(frozen=True, slots=True)
class EditInRoom:
    """A member edited a message they wrote in the room: each copy of it is edited in place
    (its text, or the line above a photo's copy); a message the room never received, or a
    leader removed, has no copies and nothing happens."""

    room_id: int
    sender_id: int
    message_id: int  # in the sender's chat
    text: str  # the text as edited ("" for a photo, sticker or voice note)


@dataclass(frozen=True, slots=True)
class WithdrawFromRoom:
    """Crisis language edited into a message already copied: every copy is taken back, the
    writer's own message excepted (it is theirs, and the crisis reply answers it)."""

    room_id: int
    sender_id: int
    message_id: int  # in the sender's chat


@dataclass(frozen=True, slots=True)
class RoomHeldBack:
    """A message with crisis language was not passed to the room: counted in the register
    for the session running (its words are not stored)."""

    room_id: int


@dataclass(frozen=True, slots=True)
class RoomRequest:
    """A leader's command about their room (unsay, mute, unmute, removemember): the shell
    loads the memberships it names (locked) and hands them to ``flows.rooms.decide``."""

    action: str
    room_id: int
    alias: str | None = None


@dataclass(frozen=True, slots=True)
class UpdateMembership:
    """Change one person's membership of a room (``None``: unchanged)."""

    room_id: int
    person_id: int
    alias: str | None = None
    rules: bool | None = None
    state: str | None = None
    muted: bool | None = None


@dataclass(frozen=True, slots=True)
class CreateRoom:
    """A standing group a leader finished in /newgroup: made as ``tongban room create
    --weekly`` makes it (``opens`` is ``HH:MM`` on the program's clock, ``weekday`` 0 is
    Monday), and its management message shown."""

    title: str
    weekday: int
    opens: str
    minutes: int
    leaders: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class InviteToRoom:
    """A leader typed these aliases to invite: the shell finds who each names and hands
    them to ``flows.new_room.invited``; invited as ``tongban room invite`` does."""

    room_id: int
    aliases: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ChangeRoom:
    """A standing group changed (``None``: unchanged), in the chat (✏ Edit) or by ``tongban
    room edit``: ``opens`` is ``HH:MM`` on the program's clock, ``weekday`` 0 is Monday,
    ``leaders`` are aliases. The shell checks again, on the room locked, who may."""

    room_id: int
    title: str | None = None
    weekday: int | None = None
    opens: str | None = None
    minutes: int | None = None
    leaders: tuple[str, ...] | None = None


@dataclass(frozen=True, slots=True)
class ListLedRooms:
    """``/groups``: the shell loads the open rooms the person leads (a supervisor: all)."""


@dataclass(frozen=True, slots=True)
class RoomManagement:
    """A tap on a room's management button (show, close, closenow): the shell loads the
    room (locked) and hands it to ``flows.new_room.decide``; closenow closes it first."""

    action: str
    room_id: int


Effect = (
    Say
    | ShowAnswer
    | UpdatePerson
    | ForgetPerson
    | RefreshCommands
    | Notice
    | RefreshChoices
    | RecordAnswer
    | FinishCheckin
    | SaveSign
    | RemoveSign
    | AskForPerson
    | ShowCrisisReply
    | SavePlanSection
    | StaffRequest
    | Tell
    | PostCard
    | EditCards
    | ChangeCase
    | AddReason
    | AddNote
    | SetSelection
    | ShowContext
    | RelayTo
    | QueueMessage
    | DropQueued
    | RateChat
    | CreateFamilyInvite
    | UpdateFamilyLink
    | RevokeFamilyLink
    | LessonProgressed
    | PracticeAnswer
    | ShowCopingCard
    | CopingHelped
    | CourseFeedbackGiven
    | RaiseConcern
    | ExportData
    | EraseMe
    | ActivityRequest
    | SetActivityAnswer
    | ReplaceReminders
    | PlaceNotices
    | SetInvitations
    | ListLedActivities
    | DropActivityAnswers
    | ChangeActivity
    | CancelActivity
    | CreateActivity
    | SetAttendance
    | UpdateActivityRecord
    | FileActivityRecord
    | SaveActivityFeedback
    | SupervisionRequest
    | RecordDebrief
    | OpenReview
    | TakeReview
    | AddSupervisionNote
    | SetMeasure
    | RecordMeasure
    | PostToRoom
    | EditInRoom
    | WithdrawFromRoom
    | RoomHeldBack
    | RoomRequest
    | UpdateMembership
    | CreateRoom
    | InviteToRoom
    | ChangeRoom
    | ListLedRooms
    | RoomManagement
)


@dataclass(frozen=True, slots=True)
class FlowSnapshot:
    """A person's saved place in a conversation, exactly as stored."""

    flow: str | None = None
    state: str | None = None
    context: dict[str, object] = field(default_factory=dict)

    @property
    def idle(self) -> bool:
        return self.flow is None
