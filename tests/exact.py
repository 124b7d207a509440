"""Exact conversation transcripts: every message the bot sends to every participant, in full
and in order, after each thing someone does. An extra, missing, reordered or misrouted
message fails. ``pytest --update-transcripts`` rewrites the expected lines from what the bot
did, so a change in wording is one reviewed diff (as goflow's golden sessions are).

Format (``#`` starts a comment; blank lines are ignored)::

    exact: yes                       marks the format
    runs: core                       played by the core with its facts in memory
                                     (tests/core_player/); without this line, by the
                                     whole bot on each database
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
                                     Telegram reply to the newest message containing "words";
                                     "> (edit "words") text" edits my newest message holding
                                     "words" to read text
    @lin role: family                an admin changes lin's role (tongban users set-role)
    @mum linked to: son              mum is son's relative, support alerts shared (as /family)
    tick | restart                   the scheduler runs once | the bot restarts
    @me stored: locale=en region=US  what is stored about me (``gone=yes``: nothing at all)
    @me checkin: 2026-11-22 mood=4 complete=yes    my check-in of that day, as stored
    @mum lessons done: all but the last            mum finished every lesson but the last
                                     (stored as such: the end of the course in a few steps)

After each action, the lines indented by two spaces are what everyone received::

      @me < I've asked a peer worker …     a new message (further lines: "@me | …")
      @me buttons: A | B                   its inline buttons
      @me menu: A | B                      the main-menu keyboard it shows
      @lin ~ #1 · client K7Q2X — taken …   an earlier message edited
      @lin copy                            a copied photo or voice note
      @lin ~ caption: words                a copy's caption edited
      @sam ↩ 💬 Lin: …                     the next message answers this earlier one
      @sam deleted: 💬 Sunny: …            an earlier message removed from the chat
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
from typing import Protocol

from sqlalchemy import select, update

from bot import operations
from bot.sandbox.in_memory import Call, InMemoryBotAPI
from bot.storage.models import CheckIn, SignAnswer
from bot.storage.models import Person as PersonRow
from flows.roles import Role
from tests.harness import Harness, Person

INDENT = "  "


@dataclass
class Step:
    line: int  # 1-based line number of the action
    who: str
    kind: str  # send | role | link | lessons | tick | restart | now | cli | stored | checkin
    text: str
    expected: list[str] = field(default_factory=list)


class Stage(Protocol):
    """Where a transcript is played: the whole bot on a database (:class:`FullStack`) or the
    core with its facts in memory (``tests.core_player.CoreStage``). Everything the bot
    sends lands in ``api``; people are ``tests.harness.Person`` chats fed to the stage."""

    @property
    def api(self) -> InMemoryBotAPI: ...

    async def configure(self, settings: dict[str, str]) -> None: ...
    def set_now(self, now: datetime) -> None: ...
    def person(self, language_code: str | None = "en") -> Person: ...
    async def join(self, role: Role, language_code: str, alias: str) -> Person: ...
    async def invite(self, role: Role) -> str: ...
    async def tick(self) -> None: ...
    async def cli(self, command: str) -> list[str]: ...
    async def restart(self) -> None: ...
    async def set_role(self, person: Person, role: Role) -> None: ...
    async def link(self, client: Person, relative: Person) -> None: ...
    async def stored(self, person: Person) -> PersonRow | None: ...
    async def checkin(self, person: Person, day: date) -> tuple[CheckIn | None, list[bool]]: ...
    async def lessons_done(self, person: Person, slugs: list[str]) -> None: ...


_LOGGABLE = {"asia/shanghai", "europe/london", "asia/hong kong", "america/new york", "mars/olympus"}


@dataclass
class ExactTranscript:
    path: Path
    lines: list[str]
    cast: dict[str, tuple[Role | None, str, str]] = field(default_factory=dict)
    settings: dict[str, str] = field(default_factory=dict)
    invite_role: Role | None = None
    day_before: bool = False
    runs: str = "full"  # "core": tests/core_player/ plays it
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
            if line == "runs: core":
                transcript.runs = "core"
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
            elif line.startswith("cli:"):
                current = Step(number, "", "cli", line.split(":", 1)[1].strip())
            elif who.startswith("@") and rest.startswith("> "):
                current = Step(number, who[1:], "send", rest[2:])
            elif who.startswith("@") and rest.startswith("role:"):
                current = Step(number, who[1:], "role", rest.split(":", 1)[1].strip())
            elif who.startswith("@") and rest.startswith("linked to:"):
                current = Step(number, who[1:], "link", rest.split(":", 1)[1].strip())
            elif who.startswith("@") and rest.startswith("lessons done:"):
                current = Step(number, who[1:], "lessons", rest.split(":", 1)[1].strip())
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
        stage: Stage,
        rewrite: bool,
        after_each: Callable[[], Awaitable[None]] | None = None,
    ) -> list[str]:
        """Play every step on ``stage``; returns the differences (or rewrites the file when
        ``rewrite``)."""
        if self.settings:
            await stage.configure(self.settings)
        first = next((s for s in self.steps if s.kind == "now"), None)
        if first is not None:
            moment = datetime.strptime(first.text, "%Y-%m-%d %H:%M %z")
            stage.set_now(moment - timedelta(days=1) if self.day_before else moment)
        people: dict[str, Person] = {}
        for name, (role, language_code, alias) in self.cast.items():
            if role is None:
                people[name] = stage.person(language_code)
            else:
                people[name] = await stage.join(role, language_code, alias)
        names = {person.user_id: name for name, person in people.items()}
        invite = await stage.invite(self.invite_role) if self.invite_role else ""
        code = ""
        problems: list[str] = []
        actual: dict[int, list[str]] = {}
        calls = stage.api.calls
        for step in self.steps:
            before = len(calls)
            printed: list[str] = []
            if step.kind == "now":
                stage.set_now(datetime.strptime(step.text, "%Y-%m-%d %H:%M %z"))
            elif step.kind == "tick":
                await stage.tick()
            elif step.kind == "cli":
                printed = [f"cli | {line}" for line in await stage.cli(step.text)]
            elif step.kind == "restart":
                await stage.restart()
            elif step.kind == "role":
                await stage.set_role(people[step.who], Role(step.text))
            elif step.kind == "link":
                await stage.link(people[step.text], people[step.who])
            elif step.kind == "lessons":
                await stage.lessons_done(people[step.who], _lessons(step.text))
            elif step.kind in ("stored", "checkin"):
                failed = (
                    _check_stored(await stage.stored(people[step.who]), step.text)
                    if step.kind == "stored"
                    else await _check_checkin(stage, people[step.who], step.text)
                )
                if failed:
                    problems.append(f"{self.path.name}:{step.line}: {failed}")
                continue
            else:
                text = step.text.replace("{invite}", invite).replace("{code}", code)
                await people[step.who].does(text)
            for call in calls[before:]:
                link = re.search(r"\?start=([A-Za-z0-9_-]+)", str(call.params.get("text", "")))
                if link:
                    code = link.group(1)
            if after_each is not None:
                await after_each()
            seen = printed + _render(calls[before:], names, step.who, stage.api.messages)
            if not seen and step.kind not in ("now", "restart", "link", "stored", "checkin"):
                seen = ["(nothing)"]
            actual[step.line] = seen
            if seen != step.expected:
                problems.append(_difference(self.path.name, step, seen))
        if rewrite:
            self._rewrite(actual)
            return []
        return problems

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


class FullStack:
    """The whole bot: python-telegram-bot, the dispatcher, the scheduler and a database."""

    def __init__(self, harness: Harness) -> None:
        self.harness = harness

    @property
    def api(self) -> InMemoryBotAPI:
        return self.harness.api

    async def configure(self, settings: dict[str, str]) -> None:
        self.harness.settings_overrides.update(settings)
        await self.harness.restart()

    def set_now(self, now: datetime) -> None:
        self.harness.set_now(now)

    def person(self, language_code: str | None = "en") -> Person:
        return self.harness.person(language_code)

    async def join(self, role: Role, language_code: str, alias: str) -> Person:
        """Onboarded through the chat; a client's or relative's alias is then the cast's."""
        person = await self.harness.onboard(role, language_code, alias)
        if not role.has_alias:
            async with self.harness.db.transaction() as session:
                await session.execute(
                    update(PersonRow)
                    .where(PersonRow.telegram_user_id == person.user_id)
                    .values(alias=alias)
                )
        return person

    async def invite(self, role: Role) -> str:
        return await self.harness.invite(role)

    async def tick(self) -> None:
        await self.harness.tick()

    async def cli(self, command: str) -> list[str]:
        """``tongban <command>`` as an operator runs it, on this bot's database and clock."""
        from bot import rooms
        from bot.activities import command_line
        from bot.cli import command_parser
        from flows.activities import InvalidActivity

        services = self.harness.services
        assert services is not None and self.harness.now is not None
        args = command_parser().parse_args(shlex.split(command))
        if args.command == "room":
            try:
                return await rooms.command_line(
                    services.dispatcher.rooms, services.db, args, self.harness.now
                )
            except rooms.InvalidRoom as exc:
                return [f"error: {exc}"]
        try:
            return await command_line(
                services.dispatcher.activities, services.db, args, self.harness.now
            )
        except InvalidActivity as exc:
            return [f"error: {exc}"]

    async def restart(self) -> None:
        await self.harness.restart()

    async def set_role(self, person: Person, role: Role) -> None:
        """An admin changes the role (tongban users set-role)."""
        row = await self.stored(person)
        assert row is not None and self.harness.services is not None
        services = self.harness.services
        await operations.set_role(services.dispatcher, services.application.bot, row.id, role)

    async def link(self, client: Person, relative: Person) -> None:
        await self.harness.link(client, relative)

    async def lessons_done(self, person: Person, slugs: list[str]) -> None:
        from bot.storage.models import LessonProgress, utcnow

        row = await self.stored(person)
        assert row is not None
        now = self.harness.now or utcnow()
        async with self.harness.db.transaction() as session:
            for slug in slugs:
                session.add(
                    LessonProgress(person_id=row.id, lesson=slug, started_at=now, completed_at=now)
                )

    async def stored(self, person: Person) -> PersonRow | None:
        async with self.harness.db.sessions() as session:
            row: PersonRow | None = await session.scalar(
                select(PersonRow).where(PersonRow.telegram_user_id == person.user_id)
            )
            return row

    async def checkin(self, person: Person, day: date) -> tuple[CheckIn | None, list[bool]]:
        async with self.harness.db.sessions() as session:
            row = await session.scalar(
                select(CheckIn)
                .join(PersonRow, PersonRow.id == CheckIn.person_id)
                .where(PersonRow.telegram_user_id == person.user_id, CheckIn.local_date == day)
            )
            if row is None:
                return None, []
            answers = await session.scalars(
                select(SignAnswer.present).where(SignAnswer.checkin_id == row.id)
            )
            return row, list(answers.all())


def _render(
    calls: list[Call],
    names: dict[int, str],
    actor: str,
    messages: dict[tuple[int, int], dict[str, object]] | None = None,
) -> list[str]:
    """What each participant received, one line per message part, in the order it was sent."""
    lines: list[str] = []
    sent = messages or {}

    def first_line(chat: object, message_id: object) -> str:
        found = sent.get((int(str(chat)), int(str(message_id))))
        text = str(found.get("text", "")) if found else ""
        return text.split("\n")[0] if text else "(their own message)"

    for call in calls:
        params = call.params
        chat = params.get("chat_id")
        who = actor if chat is None else names.get(int(chat), f"?{chat}")
        head = f"@{who} "
        replying = params.get("reply_parameters")
        if isinstance(replying, dict) and call.method in ("sendMessage", "copyMessage"):
            lines.append(f"{head}↩ {first_line(chat, replying['message_id'])}")
        if call.method == "deleteMessage":
            lines.append(f"{head}deleted: {first_line(chat, params['message_id'])}")
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
        elif call.method == "editMessageCaption":
            lines.append(f"{head}~ caption: {params.get('caption', '')}".rstrip())
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


def _check_stored(row: PersonRow | None, spec: str) -> str:
    """'' when what is stored about the person matches ``name=value`` pairs, else why not."""
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


async def _check_checkin(stage: Stage, person: Person, spec: str) -> str:
    """'' when the person's check-in of a day holds ``name=value`` pairs, else why not."""
    day_text, *pairs = spec.split()
    row, answers = await stage.checkin(person, date.fromisoformat(day_text))
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


def _lessons(spec: str) -> list[str]:
    """The lessons a ``lessons done:`` step names: only ``all but the last`` so far."""
    from flows.lessons.course import COURSE

    if spec != "all but the last":
        raise ValueError(f"lessons done: {spec!r}: only 'all but the last' is known")
    return [lesson.slug for lesson in COURSE[:-1]]
