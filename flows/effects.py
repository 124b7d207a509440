"""What a flow asks the shell to do. Effects are data; the shell applies them in order."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import time

from flows.text import Text


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
    """Bring a human in: open an escalation for this client (or add this reason to it)."""

    source: str = "request"
    detail: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class StaffAction:
    """A peer worker's or supervisor's command about escalations, carried out by the shell."""

    action: str
    argument: str = ""


@dataclass(frozen=True, slots=True)
class Relay:
    """Pass the current message between client and peer worker (direction by role)."""


@dataclass(frozen=True, slots=True)
class CloseEscalation:
    escalation_id: int
    outcome: str
    note: str


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
    """A family member started or finished a lesson (``correct`` set when finished)."""

    slug: str
    finished: bool = False
    correct: bool | None = None


@dataclass(frozen=True, slots=True)
class PracticeAnswer:
    slug: str
    tried: bool | None = None
    helped: str | None = None


@dataclass(frozen=True, slots=True)
class RaiseConcern:
    """A family member is worried: an escalation about their relative or about themselves."""

    signs: tuple[str, ...]
    note: str


@dataclass(frozen=True, slots=True)
class ExportData:
    """Send the person everything stored about them."""


@dataclass(frozen=True, slots=True)
class EraseMe:
    """Erase the person (they confirmed)."""


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
    | SavePlanSection
    | StaffAction
    | Relay
    | CloseEscalation
    | RateChat
    | CreateFamilyInvite
    | UpdateFamilyLink
    | RevokeFamilyLink
    | LessonProgressed
    | PracticeAnswer
    | RaiseConcern
    | ExportData
    | EraseMe
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
