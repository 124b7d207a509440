"""Every stored free text, declared once: what people wrote in their own words, encrypted at
rest with ``TONGBAN_ENCRYPTION_KEYS``. Key rotation, a person's export and erasure, and the
test that scans the whole database for plain text all read this list; a new free-text column
that is not added here fails that test."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import InstrumentedAttribute

from bot.crypto import Cipher
from bot.storage.models import (
    ActivityFeedback,
    ActivityRecord,
    CheckIn,
    EscalationNote,
    EscalationReason,
    QueuedMessage,
    RecentWords,
    ReviewRequest,
    RiskEvent,
    SafetyPlanItem,
    SupervisionNote,
    WarningSign,
)


@dataclass(frozen=True, slots=True)
class FreeText:
    column: InstrumentedAttribute[Any]
    many: bool = False  # a JSON list of texts
    # Where the text sits in a row about someone else, the person who wrote it: their words
    # go when they erase their data, and their export includes them.
    written_by: InstrumentedAttribute[Any] | None = None


FREE_TEXT: tuple[FreeText, ...] = (
    FreeText(CheckIn.note),
    FreeText(WarningSign.text),
    FreeText(SafetyPlanItem.text),
    FreeText(EscalationNote.text),
    FreeText(EscalationReason.note, written_by=EscalationReason.from_person_id),
    FreeText(QueuedMessage.text),
    FreeText(RiskEvent.matched, many=True),
    FreeText(RecentWords.texts, many=True),
    FreeText(ActivityRecord.what_was_done),
    FreeText(ActivityRecord.problem_note),
    FreeText(ActivityFeedback.comment, written_by=ActivityFeedback.person_id),
    FreeText(ReviewRequest.note, written_by=ReviewRequest.worker_id),
    FreeText(SupervisionNote.text),
)


def rotate(cipher: Cipher, value: Any, many: bool) -> Any:
    """The value re-encrypted with the newest key (plain text becomes encrypted)."""
    if many:
        return [cipher.rotate(str(item)) for item in value or []]
    return cipher.rotate(value) if value else value


def encrypt_many(cipher: Cipher, texts: list[str]) -> list[str]:
    return [cipher.encrypt(text) for text in texts]
