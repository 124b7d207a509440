"""Settings, read from the environment (prefix ``TONGBAN_``) and an optional ``.env`` file."""

from __future__ import annotations

import json
import re
import zoneinfo
from datetime import time, timedelta
from enum import StrEnum
from pathlib import Path

from pydantic import AliasChoices, Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from flows.escalation import CaseRules, Tier
from flows.flags import FlagRules
from flows.schedule import LESSON_DAYS
from flows.text import Localised

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SUPPORTED_LOCALES = ("en", "zh_Hans", "zh_Hant")


class Mode(StrEnum):
    POLLING = "polling"
    WEBHOOK = "webhook"


class WeeklyChartDay(StrEnum):
    SUMMARY = "summary"  # every client's on TONGBAN_WEEKLY_SUMMARY_DAY
    SPREAD = "spread"  # each client's on a weekday of their own


class ConfigError(Exception):
    """The configuration cannot be used; the message says which setting and how to fix it."""


_TOKEN_RE = re.compile(r"^\d{3,}:[A-Za-z0-9_-]{20,}$")


class Settings(BaseSettings):
    """Every setting of the bot. The README has a table of them."""

    model_config = SettingsConfigDict(
        env_prefix="TONGBAN_",
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        populate_by_name=True,
    )

    telegram_bot_token: str | None = Field(
        default=None,
        validation_alias=AliasChoices("TELEGRAM_BOT_TOKEN", "TONGBAN_TELEGRAM_BOT_TOKEN"),
    )
    database_url: str = f"sqlite+aiosqlite:///{PROJECT_ROOT / 'tongban.db'}"
    bot_api_base_url: str = "https://api.telegram.org/bot"
    bot_api_file_url: str = "https://api.telegram.org/file/bot"
    bot_username: str | None = None
    mode: Mode = Mode.POLLING
    webhook_listen: str = "127.0.0.1"
    webhook_port: int = Field(default=8443, ge=1, le=65535)
    webhook_url: str | None = None
    webhook_secret: str | None = None
    default_locale: str = "en"
    default_timezone: str = "Asia/Shanghai"
    default_checkin_time: time = time(19, 0)
    quiet_hours_start: time = time(22, 0)
    quiet_hours_end: time = time(8, 0)
    lesson_days: str = LESSON_DAYS
    retention_days: int = Field(default=365, ge=1, le=36500)
    sandbox_port: int = Field(default=8080, ge=1, le=65535)
    sandbox_database: Path = PROJECT_ROOT / "sandbox.db"
    reminder_after_minutes: int = Field(default=180, ge=0, le=12 * 60)
    weekly_summary_day: int = Field(default=6, ge=0, le=6)
    weekly_chart_day: WeeklyChartDay = WeeklyChartDay.SUMMARY
    tick_seconds: float = Field(default=30.0, ge=1.0, le=3600.0)
    tick_batch: int = Field(default=200, ge=1, le=10_000)
    # above 30 only with Telegram's limits off: the benchmarks measure the bot's own cost
    room_copies_per_second: float = Field(default=20.0, ge=1.0, le=1000.0)
    flag_rules_file: Path | None = None
    sla_urgent_minutes: int = Field(default=5, ge=1, le=24 * 60)
    sla_same_day_minutes: int = Field(default=120, ge=1, le=7 * 24 * 60)
    sla_routine_minutes: int = Field(default=24 * 60, ge=1, le=14 * 24 * 60)
    reply_reminder_minutes: int = Field(default=15, ge=1, le=24 * 60)
    max_active_chats: int = Field(default=5, ge=1, le=100)
    duty_reminder_minutes: int = Field(default=240, ge=10, le=24 * 60)
    duty_long_break_minutes: int = Field(default=180, ge=10, le=24 * 60)
    after_hours_note: str | None = None
    default_region: str = "CN"
    crisis_lines_file: Path | None = None
    risk_lexicon_file: Path | None = None
    # how long a screened message is kept to be read with the next one (0: never)
    context_window_minutes: int = Field(default=10, ge=0, le=60)
    encryption_keys: str | None = None
    secret_key: str | None = None
    log_level: str = "INFO"
    max_concurrent_updates: int = Field(default=256, ge=1, le=10_000)
    database_pool_size: int = Field(default=32, ge=1, le=500)
    max_text_length: int = Field(default=2000, ge=100, le=4096)

    @field_validator("telegram_bot_token")
    @classmethod
    def _token_shape(cls, value: str | None) -> str | None:
        if value is None or value.strip() == "":
            return None
        value = value.strip()
        if not _TOKEN_RE.match(value):
            raise ValueError(
                "does not look like a bot token (expected digits, a colon, then letters, "
                "e.g. 123456789:AA...); copy it again from @BotFather"
            )
        return value

    @field_validator("default_locale")
    @classmethod
    def _locale_known(cls, value: str) -> str:
        if value not in SUPPORTED_LOCALES:
            raise ValueError(f"must be one of {', '.join(SUPPORTED_LOCALES)}")
        return value

    @field_validator("default_timezone")
    @classmethod
    def _zone_known(cls, value: str) -> str:
        try:
            zoneinfo.ZoneInfo(value)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError("is not an IANA time zone name such as Asia/Shanghai") from exc
        return value

    @field_validator("lesson_days")
    @classmethod
    def _weekdays(cls, value: str) -> str:
        days = [part.strip() for part in value.split(",") if part.strip()]
        if not days or not all(d in "0123456" and len(d) == 1 for d in days):
            raise ValueError("must be weekday numbers 0 (Monday) to 6 (Sunday), e.g. 1,4")
        return ",".join(days)

    @field_validator("database_url")
    @classmethod
    def _async_driver(cls, value: str) -> str:
        if value.startswith("sqlite:///"):
            return "sqlite+aiosqlite:///" + value.removeprefix("sqlite:///")
        if value.startswith(("postgresql://", "postgres://")):
            return "postgresql+asyncpg://" + value.split("://", 1)[1]
        if not value.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            raise ValueError(
                "must be a sqlite:/// or postgresql:// URL "
                "(e.g. postgresql://postgres@127.0.0.1:5432/tongban)"
            )
        return value

    @field_validator("encryption_keys")
    @classmethod
    def _fernet_keys(cls, value: str | None) -> str | None:
        if not value:
            return None
        from cryptography.fernet import Fernet

        for key in value.split(","):
            try:
                Fernet(key.strip().encode())
            except ValueError as exc:
                raise ValueError(
                    "each key must be a Fernet key (32 url-safe base64 bytes); "
                    "make one with: tongban db new-key"
                ) from exc
        return value

    @property
    def encryption_key_list(self) -> list[str]:
        return [key.strip() for key in (self.encryption_keys or "").split(",") if key.strip()]

    @field_validator("after_hours_note")
    @classmethod
    def _after_hours_note_readable(cls, value: str | None) -> str | None:
        if value is not None and value.strip():
            after_hours_texts(value)
            return value
        return None

    def after_hours(self) -> Localised | None:
        """The note on when the team is back, in each reader's language."""
        if self.after_hours_note is None:
            return None
        return Localised.of(after_hours_texts(self.after_hours_note))

    @field_validator("flag_rules_file", "crisis_lines_file", "risk_lexicon_file")
    @classmethod
    def _rules_readable(cls, value: Path | None) -> Path | None:
        if value is not None and not value.is_file():
            raise ValueError(f"{value} is not a readable file")
        return value

    @model_validator(mode="after")
    def _webhook_complete(self) -> Settings:
        if self.mode is Mode.WEBHOOK:
            local = (self.webhook_url or "").startswith(("http://127.0.0.1", "http://localhost"))
            if not self.webhook_url or not (self.webhook_url.startswith("https://") or local):
                raise ValueError(
                    "TONGBAN_MODE=webhook needs TONGBAN_WEBHOOK_URL, the public https:// URL "
                    "Telegram will call"
                )
            if not self.webhook_secret or not re.fullmatch(
                r"[A-Za-z0-9_-]{16,256}", self.webhook_secret
            ):
                raise ValueError(
                    "TONGBAN_MODE=webhook needs TONGBAN_WEBHOOK_SECRET: 16-256 characters of "
                    "A-Z, a-z, 0-9, _ and -"
                )
        return self

    def flag_rules(self) -> FlagRules:
        """Early-warning rules: defaults, overridden by the JSON file if one is configured."""
        if self.flag_rules_file is None:
            return FlagRules()
        try:
            data = json.loads(self.flag_rules_file.read_text(encoding="utf-8"))
            return FlagRules.from_mapping(data)
        except (OSError, ValueError) as exc:
            raise ConfigError(f"TONGBAN_FLAG_RULES_FILE: {exc}") from exc

    def case_rules(self) -> CaseRules:
        """The service levels escalations are held to."""
        return CaseRules(
            claim_within={
                Tier.URGENT: timedelta(minutes=self.sla_urgent_minutes),
                Tier.SAME_DAY: timedelta(minutes=self.sla_same_day_minutes),
                Tier.ROUTINE: timedelta(minutes=self.sla_routine_minutes),
            },
            reply_within=timedelta(minutes=self.reply_reminder_minutes),
            max_active=self.max_active_chats,
            after_hours_note=self.after_hours(),
        )

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


def after_hours_texts(value: str) -> dict[str, str]:
    """TONGBAN_AFTER_HOURS_NOTE: one text for everyone, or a JSON object with a text for each
    of en, zh_Hans and zh_Hant, so each person reads it in their own language."""
    if not value.lstrip().startswith("{"):
        return {"en": value.strip()}
    try:
        texts = json.loads(value)
    except ValueError as exc:
        raise ValueError(f"is not a JSON object of texts by locale: {exc}") from exc
    if not isinstance(texts, dict) or not all(isinstance(t, str) for t in texts.values()):
        raise ValueError('needs one text per locale, e.g. {"en": "…", "zh_Hans": "…", …}')
    missing = [locale for locale in SUPPORTED_LOCALES if not str(texts.get(locale, "")).strip()]
    if missing:
        raise ValueError(f"has no text in {', '.join(missing)}")
    return {locale: texts[locale].strip() for locale in SUPPORTED_LOCALES}


def load_settings(**overrides: object) -> Settings:
    """Read and validate the settings, turning validation errors into one readable message."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        lines = []
        for error in exc.errors():
            where = ".".join(str(part) for part in error["loc"]) or "settings"
            name = (
                "TELEGRAM_BOT_TOKEN"
                if where == "telegram_bot_token"
                else f"TONGBAN_{where.upper()}"
            )
            lines.append(f"  {name}: {error['msg']}")
        raise ConfigError("The configuration is not valid:\n" + "\n".join(lines)) from None
