"""What every part of the core player shares: the tables in memory, the settings, the
rendering and the clock (as ``bot.host.Host`` is for the shell), and one update's effects
being applied (``Turn``)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

from bot.config import Settings, load_settings
from bot.i18n import Translator
from bot.safety.crisis import CrisisLines
from bot.storage.models import Person as PersonRow
from bot.storage.models import utcnow
from bot.telegram.callbacks import ButtonSigner
from bot.telegram.incoming import Incoming
from bot.telegram.render import Outgoing, Renderer
from flows.effects import Effect
from flows.escalation import CaseRules
from flows.facts import Fact
from flows.flags import FlagRules
from flows.people import Event, Rules
from flows.risk import Lexicon, default_lexicon, load_lexicon
from tests.core_player.memory import Memory
from tests.harness import TEST_TOKEN


class Unplayable(Exception):
    """The transcript needs what only the whole bot has; run it full stack."""


@cache
def translator() -> Translator:
    return Translator()  # compiles and loads the catalogs: once per process


@dataclass
class Turn:
    """Effects being applied for one person (``person``; None: the clock) at ``now``: the
    update they sent, if any, and the step their new buttons carry."""

    person: PersonRow | None
    now: datetime
    incoming: Incoming | None = None
    step: int = 0
    answered: bool = False
    forgotten: bool = False

    @property
    def acting(self) -> PersonRow:
        assert self.person is not None, "applied for a person"
        return self.person


Loader = Callable[[PersonRow, Event, datetime], Any]
Applier = Callable[[Any, Turn], list[Outgoing]]
Expander = Callable[[Any, Turn], tuple[Effect, ...]]


@dataclass
class Feature:
    """What one feature of the core player registers: the facts it loads, the effects it
    applies and those it expands into more effects (as ``bot.applying.Appliers``)."""

    facts: dict[Fact, Loader]
    appliers: dict[type, Applier]
    expanders: dict[type, Expander]


class Host:
    """The settings and rules of the program (a transcript's ``settings:`` changes them),
    rendering in each reader's language, the tables, and the bot's clock."""

    def __init__(self, **settings: Any) -> None:
        self.memory = Memory()
        self.translator = translator()
        self.renderer = Renderer(self.translator, ButtonSigner(b"core player"))
        self.now: datetime | None = None  # None: the real time, as the bot's clock
        self.bot_username = ""
        self.configure(settings)

    def configure(self, overrides: dict[str, Any]) -> None:
        self.settings: Settings = load_settings(telegram_bot_token=TEST_TOKEN, **overrides)
        self.rules = Rules(
            quiet_start=self.settings.quiet_hours_start,
            quiet_end=self.settings.quiet_hours_end,
            max_text_length=self.settings.max_text_length,
        )
        self.flag_rules: FlagRules = self.settings.flag_rules()
        self.case_rules: CaseRules = self.settings.case_rules()
        self.lines = CrisisLines.load(self.settings.crisis_lines_file, self.settings.default_region)
        file = self.settings.risk_lexicon_file
        self.lexicon: Lexicon = load_lexicon(file) if file else default_lexicon()

    def clock(self) -> datetime:
        return self.now or utcnow()
