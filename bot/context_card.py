"""The context card a worker reads when a chat reaches them: why a person was asked for, the
client's last week, warning signs and safety plan, and the notes so far.

Built from what the shell loaded (texts already decrypted); nothing here reads or writes
storage, so the core player (``tests/core_player``) shows the same card.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bot.storage.models import Person
from bot.telegram.render import CaseTag, Renderer, SendText
from flows.escalation import SOURCE_LABELS, TIER_LABELS, Case
from flows.family import CONCERN_SIGNS
from flows.flag_reasons import describe
from flows.flags import DayRecord
from flows.history import day_answers, record_answers
from flows.text import LANGUAGE_NAMES, N_, Lines, Msg, Raw, msg

# Which layer of the crisis screen fired: for the worker, never for the person.
LAYERS = {
    "lexicon": N_("context.found_by_lexicon"),
    "model": N_("context.found_by_model"),
    "context": N_("context.found_by_context"),
}
NOTES_SHOWN = 8  # the newest, on this escalation and the person's earlier ones


@dataclass(frozen=True, slots=True)
class ReasonSeen:
    """One reason a person was asked for, as a worker reads it."""

    source: str
    detail: Mapping[str, Any]
    note: str = ""  # a relative's own words


@dataclass(frozen=True, slots=True)
class NoteSeen:
    at: datetime
    author_alias: str | None
    text: str
    current: bool  # written on the escalation the card is about


@dataclass(frozen=True, slots=True)
class ClientRecord:
    """A client's last week of check-ins (oldest first), warning signs and safety plan."""

    week: Sequence[DayRecord] = ()
    signs: Sequence[str] = ()
    plan: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Context:
    """Everything the card shows about one escalation; ``record`` only for a client."""

    case: Case
    reasons: Sequence[ReasonSeen]
    record: ClientRecord | None
    notes: Sequence[NoteSeen]  # oldest first
    chosen: bool  # the worker's messages go there now (else they will be asked)
    review: bool = False  # a supervisor reads it for a review: nothing they write goes there


def card_for(renderer: Renderer, worker: Person, context: Context) -> SendText:
    """The card, in the worker's language; a reply to it goes to the escalation's person."""
    case, who = context.case, context.case.subject
    lines: list[Msg | Raw] = [
        msg(
            N_("context.header"),
            case=case.label,
            language=Raw(LANGUAGE_NAMES.get(who.locale, who.locale)),
            tier=Msg(TIER_LABELS[case.tier]),
        ),
    ]
    for reason in context.reasons:
        lines.append(
            msg(
                N_("context.reason"),
                reason=Msg(SOURCE_LABELS[reason.source]),
                detail=Raw(_reason_detail(renderer, reason, worker)[:600] or "—"),
            )
        )
    if context.record is not None:
        lines += _client_record(context.record)
    lines += _notes(context.notes)
    if context.review:
        lines.append(Msg(N_("context.for_review")))
    else:
        lines.append(
            msg(N_("context.how_to_reply"), who=who.who)
            if context.chosen
            else msg(N_("context.how_to_reply.ask"), who=who.who)
        )
    return renderer.message(worker, Lines(tuple(lines)), tag=CaseTag(case.id))


def _client_record(record: ClientRecord) -> list[Msg | Raw]:
    lines: list[Msg | Raw] = [Msg(N_("context.week"))]
    if not record.week:
        lines.append(Msg(N_("context.none")))
    lines.extend(
        msg(N_("history.line"), day=day.day, answers=day_answers(record_answers(day)))
        for day in record.week
    )
    lines.append(Msg(N_("context.signs")))
    if record.signs:
        lines.extend(Raw(f"• {text}") for text in record.signs)
    else:
        lines.append(Msg(N_("context.none")))
    lines.append(Msg(N_("context.plan")))
    if record.plan:
        lines.extend(Raw(f"• {text}") for text in record.plan.values())
    else:
        lines.append(Msg(N_("context.none")))
    return lines


def _notes(notes: Sequence[NoteSeen]) -> list[Msg | Raw]:
    """Notes on this escalation so far (a transfer, a release) and on the last past ones."""
    lines: list[Msg | Raw] = [Msg(N_("context.notes"))]
    if not notes:
        lines.append(Msg(N_("context.none")))
    for note in notes:
        mark = "★ " if note.current else ""
        lines.append(
            Raw(f"• {mark}{note.at:%Y-%m-%d} {note.author_alias or '—'}: {note.text}"[:400])
        )
    return lines


def _reason_detail(renderer: Renderer, reason: ReasonSeen, reader: Person) -> str:
    """Evidence a worker can act on: flag answers, crisis categories, a relative's account."""
    detail = reason.detail
    if reason.source in ("family", "family_danger"):
        signs = dict(CONCERN_SIGNS)
        parts = [
            renderer.text(reader, Msg(signs[s])) for s in detail.get("signs", []) if s in signs
        ]
        if reason.note:
            parts.append(f"“{reason.note}”")
        about = (
            N_("context.about_relative")
            if detail.get("about") == "relative"
            else N_("context.about_caregiver")
        )
        return renderer.text(reader, Msg(about)) + " " + "; ".join(parts)
    summary = detail.get("summary")
    if reason.source in ("flag", "silence") and isinstance(summary, Mapping):
        sentence = describe(str(detail.get("rule")), summary)
        if sentence is not None:
            return renderer.text(reader, sentence)
    evidence = ", ".join(map(str, detail.get("evidence") or detail.get("categories") or []))
    layers = detail.get("layers") or []
    if not layers:
        return evidence
    found_by = renderer.text(reader, Msg(LAYERS.get(str(layers[0]), LAYERS["lexicon"])))
    return f"{evidence} · {found_by}" if evidence else found_by
