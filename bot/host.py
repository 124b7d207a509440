"""What every part of the shell shares: the database, the settings turned into the core's
rules, the translator and renderer, the cipher, the crisis lines, the clock and the metrics.

Built once at start-up and passed to each part (dispatch, escalations, family, the
scheduler, sending), so no part needs another to reach these, and none holds a reference
back to the one that built it.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from bot.config import Settings, WeeklyChartDay
from bot.crypto import Cipher
from bot.i18n import Translator
from bot.metrics import Metrics
from bot.safety.crisis import CrisisLines
from bot.storage.db import Database
from bot.storage.models import utcnow
from bot.telegram.callbacks import ButtonSigner
from bot.telegram.render import Renderer
from flows.people import Rules
from flows.risk import Lexicon, default_lexicon, load_lexicon
from flows.timers import Timing


class Host:
    """The shell's shared, stateless pieces. ``start`` loads the button-signing key."""

    def __init__(self, db: Database, translator: Translator, settings: Settings) -> None:
        self.db = db
        self.translator = translator
        self.settings = settings
        self.rules = Rules(
            quiet_start=settings.quiet_hours_start,
            quiet_end=settings.quiet_hours_end,
            max_text_length=settings.max_text_length,
        )
        self.flag_rules = settings.flag_rules()
        self.timing = Timing(
            quiet=self.rules,
            flag_rules=self.flag_rules,
            reminder_after=timedelta(minutes=settings.reminder_after_minutes),
            summary_day=settings.weekly_summary_day,
            spread_charts=settings.weekly_chart_day is WeeklyChartDay.SPREAD,
        )
        self.cipher = Cipher(settings.encryption_key_list)
        self.lexicon: Lexicon = (
            load_lexicon(settings.risk_lexicon_file)
            if settings.risk_lexicon_file
            else default_lexicon()
        )
        self.lines = CrisisLines.load(settings.crisis_lines_file, settings.default_region)
        self.clock: Callable[[], datetime] = utcnow  # tests move time by replacing this
        self.bot_username: str | None = settings.bot_username  # else learnt from getMe
        self.metrics = Metrics()
        self._renderer: Renderer | None = None

    async def start(self) -> None:
        """Load the button-signing key; call once before the first update."""
        key = await self.db.signing_key(self.settings.secret_key)
        self._renderer = Renderer(self.translator, ButtonSigner(key))

    @property
    def renderer(self) -> Renderer:
        if self._renderer is None:
            raise RuntimeError("Host.start() has not been awaited")
        return self._renderer
