"""Readable conversation transcripts, checked against the real bot.

Format (one instruction per line; ``#`` starts a comment):

    role: client                      who is invited (client, family, peer_worker, supervisor, admin)
    language_code: zh-CN              Telegram's language_code of the person
    > text                            the person sends text ({invite} is replaced by their code)
    > [label]                         the person presses the button with that label
    < some words                      a message from the bot (the same one as the line before,
                                      or a later one) contains these words
    buttons: A | B | C                that message has exactly these buttons
    menu: A | B                       that message shows exactly this main-menu keyboard
    toast: words                      the button press was answered with a toast containing these words
    nothing                           the bot sent no message for the last action
    restart                           the bot process is stopped and started again
    given: onboarded                  the person has already finished onboarding (default answers)
    now: 2026-11-22 20:05 +08:00      the bot's clock from here on (for days, midnight, schedules)
    tick                              the scheduler runs once at that time
    checkin: 2026-11-22 mood=4 ...    the stored check-in of that local day (complete=yes|no, signs=1/2)

Several people (all already onboarded) can take part:

    cast: me=client:zh-CN lin=peer_worker:zh-CN:小林
    @lin > [接手]                     lin presses a button; other lines work the same way
    @me < 小林                        what "me" received after the last action, whoever acted
    cast: mum=stranger:zh-CN          someone without a role yet (e.g. a relative to be linked)
    @mum > /start {code}              {code} is the invite code in the last link the bot sent
    stored: field=value ...           the person's stored settings (onboarded=yes|no, gone=yes)
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

from sqlalchemy import select

from bot.storage.models import CheckIn, SignAnswer
from bot.storage.models import Person as PersonRow
from flows.people import Role
from tests.harness import Harness, Person, Reply, _reply


@dataclass
class Transcript:
    path: Path
    role: Role = Role.CLIENT
    language_code: str = "en"
    steps: list[tuple[int, str, str, str]] = field(default_factory=list)
    onboarded: bool = False
    cast: dict[str, tuple[Role | None, str, str | None]] = field(default_factory=dict)

    @classmethod
    def load(cls, path: Path) -> Transcript:
        transcript = cls(path)
        for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            line = raw.rstrip()
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            who = ""
            if line.startswith("@"):
                who, _, line = line[1:].partition(" ")
            if line.startswith("cast:"):
                for member in line.split(":", 1)[1].split():
                    name, _, spec = member.partition("=")
                    role, language_code, *alias = spec.split(":")
                    transcript.cast[name] = (
                        None if role == "stranger" else Role(role),
                        language_code,
                        alias[0] if alias else None,
                    )
                continue
            if line.startswith("role:"):
                transcript.role = Role(line.split(":", 1)[1].strip())
            elif line.startswith("language_code:"):
                transcript.language_code = line.split(":", 1)[1].strip()
            elif line.startswith("given:"):
                transcript.onboarded = line.split(":", 1)[1].strip() == "onboarded"
            elif line.startswith(("> ", "< ")):
                transcript.steps.append((number, who, line[:1], line[2:]))
            else:
                keyword, _, rest = line.partition(":")
                if keyword in ("buttons", "menu", "toast", "stored", "now", "checkin"):
                    transcript.steps.append((number, who, keyword, rest.strip()))
                elif line.strip() in ("nothing", "restart", "tick"):
                    transcript.steps.append((number, who, line.strip(), ""))
                else:
                    raise ValueError(f"{path.name}:{number}: cannot read {line!r}")
        return transcript

    async def play(
        self, harness: Harness, after_each: Callable[[], Awaitable[None]] | None = None
    ) -> None:
        first_now = next((text for _, _, kind, text in self.steps if kind == "now"), None)
        if first_now is not None and self.steps[0][2] == "now":
            # "given: onboarded" happened the day before the transcript's first moment, so
            # its schedule does not depend on the day the suite runs.
            moment = datetime.strptime(first_now, "%Y-%m-%d %H:%M %z")
            harness.set_now(moment - timedelta(days=1))
        if self.onboarded:
            main = await harness.onboard(self.role, self.language_code)
        else:
            main = harness.person(self.language_code)
        people: dict[str, Person] = {"": main}
        for name, (role, language_code, alias) in self.cast.items():
            if role is None:
                people[name] = harness.person(language_code)
            else:
                people[name] = await harness.onboard(role, language_code, alias)
        captured = ""
        invite = await harness.invite(self.role)
        inbox: dict[str, list[Reply]] = {name: [] for name in people}
        current: dict[str, Reply | None] = dict.fromkeys(people)
        toasts: list[Reply] = []

        def deliver(replies: list[Reply]) -> None:
            nonlocal captured
            for reply in replies:
                link = re.search(r"\?start=([A-Za-z0-9_-]+)", reply.text)
                if link:
                    captured = link.group(1)
            for name, member in people.items():
                inbox[name] = [
                    r
                    for r in replies
                    if r.chat_id == member.user_id
                    and r.method in ("sendMessage", "editMessageText", "copyMessage")
                ]
                current[name] = None

        for number, who, kind, text in self.steps:
            where = f"{self.path.name}:{number}"
            person = people[who]
            if kind == ">":
                before = len(harness.api.calls)
                if text.startswith("[") and text.endswith("]"):
                    await person.press(text[1:-1])
                else:
                    await person.send(text.replace("{invite}", invite).replace("{code}", captured))
                replies = [r for r in map(_reply, harness.api.calls[before:]) if r is not None]
                deliver(replies)
                toasts = [r for r in replies if r.method == "answerCallbackQuery"]
                if after_each is not None:
                    await after_each()
            elif kind == "<":
                # A later line may check the same message again, or a message after it.
                messages = inbox[who]
                found = next((i for i, r in enumerate(messages) if text in _plain(r.text)), None)
                seen = "\n  ".join(r.text.replace("\n", " ")[:100] for r in messages) or "(nothing)"
                assert found is not None, (
                    f"{where}: expected a message containing {text!r}; bot sent:\n  {seen}"
                )
                current[who] = messages[found]
                inbox[who] = messages[found:]
            elif kind in ("buttons", "menu"):
                shown = current[who]
                assert shown is not None, f"{where}: '{kind}' needs a '<' line before it"
                expected = [part.strip() for part in text.split("|")] if text else []
                actual = shown.buttons if kind == "buttons" else shown.menu
                assert actual == expected, f"{where}: {kind} were {actual}, expected {expected}"
            elif kind == "toast":
                assert any(text in t.text for t in toasts), (
                    f"{where}: no toast containing {text!r}; toasts: {[t.text for t in toasts]}"
                )
            elif kind == "nothing":
                assert not inbox[who], (
                    f"{where}: expected no message, got {[m.text for m in inbox[who]]}"
                )
            elif kind == "restart":
                await harness.restart()
            elif kind == "now":
                harness.set_now(datetime.strptime(text, "%Y-%m-%d %H:%M %z"))
            elif kind == "tick":
                before = len(harness.api.calls)
                await harness.tick()
                deliver([r for r in map(_reply, harness.api.calls[before:]) if r is not None])
            elif kind == "stored":
                await self._check_stored(harness, person, text, where)
            elif kind == "checkin":
                await self._check_checkin(harness, person, text, where)

    @staticmethod
    async def _check_checkin(harness: Harness, person: Person, spec: str, where: str) -> None:
        day_text, *pairs = spec.split()
        async with harness.db.sessions() as session:
            row = await session.scalar(
                select(CheckIn)
                .join(PersonRow, PersonRow.id == CheckIn.person_id)
                .where(
                    PersonRow.telegram_user_id == person.user_id,
                    CheckIn.local_date == date.fromisoformat(day_text),
                )
            )
            answers = (
                (
                    await session.scalars(
                        select(SignAnswer.present).where(SignAnswer.checkin_id == row.id)
                    )
                ).all()
                if row is not None
                else []
            )
        assert row is not None, f"{where}: no check-in stored for {day_text}"
        for pair in pairs:
            name, _, expected = pair.partition("=")
            if name == "complete":
                actual = "yes" if row.completed_at is not None else "no"
            elif name == "signs":
                actual = f"{sum(answers)}/{len(answers)}"
            else:
                value = getattr(row, name)
                actual = ",".join(value) if isinstance(value, list) else str(value)
            assert actual == expected, (
                f"{where}: check-in {name} is {actual!r}, expected {expected!r}"
            )

    @staticmethod
    async def _check_stored(harness: Harness, person: Person, spec: str, where: str) -> None:
        async with harness.db.sessions() as session:
            row = await session.scalar(
                select(PersonRow).where(PersonRow.telegram_user_id == person.user_id)
            )
        for pair in spec.split():
            name, _, expected = pair.partition("=")
            if name == "gone":
                assert (row is None) == (expected == "yes"), (
                    f"{where}: person row exists={row is not None}"
                )
                continue
            assert row is not None, f"{where}: the person is not stored"
            if name == "onboarded":
                actual = "yes" if row.onboarded_at is not None else "no"
            elif name == "checkin_time":
                actual = row.checkin_time.strftime("%H:%M") if row.checkin_time else "none"
            else:
                actual = str(getattr(row, name))
            assert actual == expected, (
                f"{where}: stored {name} is {actual!r}, expected {expected!r}"
            )


def _plain(text: str) -> str:
    """Babel puts narrow no-break spaces in times ("8:00\u202fPM"); compare as plain spaces."""
    return text.replace("\u202f", " ").replace("\u00a0", " ")
