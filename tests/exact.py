"""Exact conversation transcripts: every message the bot sends to every participant, in full
and in order, after each thing someone does. An extra, missing, reordered or misrouted
message fails. ``pytest --update-transcripts`` rewrites the expected lines from what the bot
did, so a change in wording is one reviewed diff (as goflow's golden sessions are).

Format (``#`` starts a comment; blank lines are ignored)::

    exact: yes                       marks the format
    settings: max_active_chats=1     settings for this transcript (as TONGBAN_… variables)
    now: 2026-12-01 21:00 +08:00     the bot's clock from here on
    cast: me=client:en:K7Q2X lin=peer_worker:en:Lin mum=family:zh-CN:M3P9Q
                                     everyone onboarded: name=role:language_code:alias
                                     (clients and relatives get that alias too);
                                     new=stranger:en-GB is someone who has not joined yet
    onboarded: the day before        the cast joined the day before the first "now:" (so a
                                     daily schedule does not depend on the day tests run)
    invite: client                   "{invite}" in a message is a fresh invite code for that
                                     role; "{code}" is the last ?start= code the bot sent
    @me > hello                      me sends text; "> [Claim]" presses a button on the
                                     newest message that has one; "> <sticker>" sends a sticker
                                     (or <photo>, <voice>); "> (reply to "words") text" is a
                                     Telegram reply to the newest message containing "words"
    @lin role: family                an admin changes lin's role (tongban users set-role)
    @mum linked to: son              mum is son's relative, support alerts shared (as /family)
    tick | restart                   the scheduler runs once | the bot restarts
    @me stored: locale=en region=US  what is stored about me (``gone=yes``: nothing at all)
    @me checkin: 2026-11-22 mood=4 complete=yes    my check-in of that day, as stored

After each action, the lines indented by two spaces are what everyone received::

      @me < I've asked a peer worker …     a new message (further lines: "@me | …")
      @me buttons: A | B                   its inline buttons
      @me menu: A | B                      the main-menu keyboard it shows
      @lin ~ #1 · client K7Q2X — taken …   an earlier message edited
      @lin copy                            a copied photo or voice note
      @lin photo: caption                  a picture (the weekly chart)
      @me toast: text                      the tapped button answered with a toast
      (nothing)                            nobody received anything
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

from sqlalchemy import select, update

from bot import operations
from bot.sandbox.in_memory import Call
from bot.storage.models import CheckIn, SignAnswer
from bot.storage.models import Person as PersonRow
from flows.roles import Role
from tests.harness import Harness, Person

INDENT = "  "


@dataclass
class Step:
    line: int  # 1-based line number of the action
    who: str
    kind: str  # send | role | tick | restart | now
    text: str
    expected: list[str] = field(default_factory=list)


_LOGGABLE = {"asia/shanghai", "europe/london", "asia/hong kong", "america/new york", "mars/olympus"}


@dataclass
class ExactTranscript:
    path: Path
    lines: list[str]
    cast: dict[str, tuple[Role | None, str, str]] = field(default_factory=dict)
    settings: dict[str, str] = field(default_factory=dict)
    invite_role: Role | None = None
    day_before: bool = False
    steps: list[Step] = field(default_factory=list)

    @classmethod
    def load(cls, path: Path) -> ExactTranscript:
        lines = path.read_text(encoding="utf-8").splitlines()
        transcript = cls(path, lines)
        current: Step | None = None
        for number, raw in enumerate(lines, 1):
            if raw.startswith(INDENT) and raw.strip():
                if current is None:
                    raise ValueError(f"{path.name}:{number}: expected lines before any action")
                current.expected.append(raw[len(INDENT) :])
                continue
            line = raw.strip()
            if not line or line.startswith("#") or line == "exact: yes":
                continue
            if line == "onboarded: the day before":
                transcript.day_before = True
                continue
            if line.startswith("invite:"):
                transcript.invite_role = Role(line.split(":", 1)[1].strip())
                continue
            if line.startswith("settings:"):
                for pair in shlex.split(line.split(":", 1)[1]):
                    key, _, value = pair.partition("=")
                    transcript.settings[key] = value
                continue
            if line.startswith("cast:"):
                for member in line.split(":", 1)[1].split():
                    name, _, spec = member.partition("=")
                    role, language_code, *alias = spec.split(":")
                    transcript.cast[name] = (
                        None if role == "stranger" else Role(role),
                        language_code,
                        alias[0] if alias else "",
                    )
                continue
            who, _, rest = line.partition(" ")
            if line.startswith("now:"):
                current = Step(number, "", "now", line.split(":", 1)[1].strip())
            elif line in ("tick", "restart"):
                current = Step(number, "", line, "")
            elif who.startswith("@") and rest.startswith("> "):
                current = Step(number, who[1:], "send", rest[2:])
            elif who.startswith("@") and rest.startswith("role:"):
                current = Step(number, who[1:], "role", rest.split(":", 1)[1].strip())
            elif who.startswith("@") and rest.startswith("linked to:"):
                current = Step(number, who[1:], "link", rest.split(":", 1)[1].strip())
            elif who.startswith("@") and rest.startswith(("stored:", "checkin:")):
                kind, _, spec = rest.partition(":")
                current = Step(number, who[1:], kind, spec.strip())
            else:
                raise ValueError(f"{path.name}:{number}: cannot read {line!r}")
            transcript.steps.append(current)
        return transcript

    def typed_and_aliases(self) -> set[str]:
        """What people typed (longer than three characters, not a command, button or media)
        and the aliases they use: none of it may appear in a log."""
        secrets = {alias for _, _, alias in self.cast.values() if alias}
        for step in self.steps:
            typed = step.text.split(") ", 1)[-1] if step.text.startswith("(reply") else step.text
            if step.kind == "send" and not typed.startswith(("/", "[", "<")) and len(typed) > 3:
                secrets.add(typed)
        # Time-zone names are place names shared by many people, not something personal.
        return {s for s in secrets if s.casefold() not in _LOGGABLE}

    async def play(
        self,
        harness: Harness,
        rewrite: bool,
        after_each: Callable[[], Awaitable[None]] | None = None,
    ) -> list[str]:
        """Play every step; returns the differences (or rewrites the file when ``rewrite``)."""
        if self.settings:
            harness.settings_overrides.update(self.settings)
            await harness.restart()
        first = next((s for s in self.steps if s.kind == "now"), None)
        if first is not None:
            moment = datetime.strptime(first.text, "%Y-%m-%d %H:%M %z")
            harness.set_now(moment - timedelta(days=1) if self.day_before else moment)
        people: dict[str, Person] = {}
        for name, (role, language_code, alias) in self.cast.items():
            if role is None:
                people[name] = harness.person(language_code)
                continue
            people[name] = await harness.onboard(role, language_code, alias)
            if not role.has_alias:
                async with harness.db.transaction() as session:
                    await session.execute(
                        update(PersonRow)
                        .where(PersonRow.telegram_user_id == people[name].user_id)
                        .values(alias=alias)
                    )
        names = {person.user_id: name for name, person in people.items()}
        invite = await harness.invite(self.invite_role) if self.invite_role else ""
        code = ""
        problems: list[str] = []
        actual: dict[int, list[str]] = {}
        for step in self.steps:
            before = len(harness.api.calls)
            if step.kind == "now":
                harness.set_now(datetime.strptime(step.text, "%Y-%m-%d %H:%M %z"))
            elif step.kind == "tick":
                await harness.tick()
            elif step.kind == "restart":
                await harness.restart()
            elif step.kind == "role":
                await self._set_role(harness, people[step.who], Role(step.text))
            elif step.kind == "link":
                await harness.link(people[step.text], people[step.who])
            elif step.kind in ("stored", "checkin"):
                check = _check_stored if step.kind == "stored" else _check_checkin
                failed = await check(harness, people[step.who], step.text)
                if failed:
                    problems.append(f"{self.path.name}:{step.line}: {failed}")
                continue
            else:
                text = step.text.replace("{invite}", invite).replace("{code}", code)
                await people[step.who].does(text)
            for call in harness.api.calls[before:]:
                link = re.search(r"\?start=([A-Za-z0-9_-]+)", str(call.params.get("text", "")))
                if link:
                    code = link.group(1)
            if after_each is not None:
                await after_each()
            seen = _render(harness.api.calls[before:], names, step.who)
            if not seen and step.kind not in ("now", "restart", "link", "stored", "checkin"):
                seen = ["(nothing)"]
            actual[step.line] = seen
            if seen != step.expected:
                problems.append(_difference(self.path.name, step, seen))
        if rewrite:
            self._rewrite(actual)
            return []
        return problems

    @staticmethod
    async def _set_role(harness: Harness, person: Person, role: Role) -> None:
        assert harness.services is not None
        services = harness.services
        await operations.set_role(
            services.dispatcher, services.application.bot, await harness.person_id(person), role
        )

    def _rewrite(self, actual: dict[int, list[str]]) -> None:
        out: list[str] = []
        for number, raw in enumerate(self.lines, 1):
            if raw.startswith(INDENT) and raw.strip():
                continue
            out.append(raw)
            if number in actual:
                out += [INDENT + line for line in actual[number]]
        text = "\n".join(out).rstrip("\n") + "\n"
        if text != self.path.read_text(encoding="utf-8"):  # unchanged files are not touched
            self.path.write_text(text, encoding="utf-8")


def _render(calls: list[Call], names: dict[int, str], actor: str) -> list[str]:
    """What each participant received, one line per message part, in the order it was sent."""
    lines: list[str] = []
    for call in calls:
        params = call.params
        chat = params.get("chat_id")
        who = actor if chat is None else names.get(int(chat), f"?{chat}")
        head = f"@{who} "
        if call.method in ("sendMessage", "editMessageText"):
            mark = "<" if call.method == "sendMessage" else "~"
            first, *rest = str(params.get("text", "")).split("\n")
            lines.append(f"{head}{mark} {first}".rstrip())
            lines += [f"{head}| {line}".rstrip() for line in rest]
            markup = params.get("reply_markup") or {}
            buttons = [b["text"] for row in markup.get("inline_keyboard", []) for b in row]
            if buttons:
                lines.append(f"{head}buttons: {' | '.join(buttons)}")
            menu = [
                b["text"] if isinstance(b, dict) else b
                for row in markup.get("keyboard", [])
                for b in row
            ]
            if menu:
                lines.append(f"{head}menu: {' | '.join(menu)}")
        elif call.method == "copyMessage":
            lines.append(f"{head}copy")
        elif call.method == "sendPhoto":
            lines.append(f"{head}photo: {params.get('caption', '')}")
        elif call.method == "sendDocument":
            lines.append(f"{head}document: {params.get('caption', '') or 'file'}")
        elif call.method == "answerCallbackQuery" and params.get("text"):
            lines.append(f"@{actor} toast: {params['text']}")
    return [_plain(line) for line in lines]


def _plain(text: str) -> str:
    """Babel puts narrow no-break spaces in times ("8:00\u202fPM"); write plain spaces. An
    invite link's random code is written as {code}."""
    text = re.sub(r"\?start=[A-Za-z0-9_-]+", "?start={code}", text)
    return text.replace("\u202f", " ").replace("\u00a0", " ")


def _difference(name: str, step: Step, seen: list[str]) -> str:
    import difflib

    diff = "\n".join(
        difflib.unified_diff(step.expected, seen, "expected", "the bot sent", lineterm="")
    )
    return f"{name}:{step.line}: {step.who or '-'} {step.kind} {step.text!r}\n{diff}"


async def _check_stored(harness: Harness, person: Person, spec: str) -> str:
    """'' when what is stored about the person matches ``name=value`` pairs, else why not."""
    async with harness.db.sessions() as session:
        row = await session.scalar(
            select(PersonRow).where(PersonRow.telegram_user_id == person.user_id)
        )
    for pair in spec.split():
        name, _, expected = pair.partition("=")
        if name == "gone":
            if (row is None) != (expected == "yes"):
                return f"stored: the person is {'gone' if row is None else 'still stored'}"
            continue
        if row is None:
            return "stored: the person is not stored"
        if name == "onboarded":
            actual = "yes" if row.onboarded_at is not None else "no"
        elif name == "checkin_time":
            actual = row.checkin_time.strftime("%H:%M") if row.checkin_time else "none"
        else:
            actual = str(getattr(row, name))
        if actual != expected:
            return f"stored {name} is {actual!r}, expected {expected!r}"
    return ""


async def _check_checkin(harness: Harness, person: Person, spec: str) -> str:
    """'' when the person's check-in of a day holds ``name=value`` pairs, else why not."""
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
    if row is None:
        return f"checkin: none stored for {day_text}"
    for pair in pairs:
        name, _, expected = pair.partition("=")
        if name == "complete":
            actual = "yes" if row.completed_at is not None else "no"
        elif name == "signs":
            actual = f"{sum(answers)}/{len(answers)}"
        else:
            value = getattr(row, name)
            actual = ",".join(value) if isinstance(value, list) else str(value)
        if actual != expected:
            return f"check-in {name} is {actual!r}, expected {expected!r}"
    return ""
