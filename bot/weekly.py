"""The weekly summary chart, labelled in the reader's language."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import date
from functools import partial

from babel.dates import format_skeleton
from sqlalchemy.ext.asyncio import AsyncSession

from bot.applying import Acting, Appliers
from bot.charts import ChartDay, ChartLabels, render_chart
from bot.i18n import Translator
from bot.storage.models import Person
from bot.telegram.render import Outgoing, SendPhoto
from flows.flags import DayRecord
from flows.text import N_, Msg, Raw, msg
from flows.timers import WeeklyChart

MOOD_TICKS = (
    N_("chart.mood.1"),
    N_("chart.mood.2"),
    N_("chart.mood.3"),
    N_("chart.mood.4"),
    N_("chart.mood.5"),
)
SLEEP_TICKS = (
    N_("checkin.sleep.much_less"),
    N_("checkin.sleep.less"),
    N_("checkin.sleep.usual"),
    N_("checkin.sleep.more"),
    N_("checkin.sleep.much_more"),
)

DISTRESS_TICKS = (
    N_("checkin.distress.0"),
    N_("checkin.distress.1"),
    N_("checkin.distress.2"),
    N_("checkin.distress.3"),
)


def chart_labels(translator: Translator, locale: str, title: str | None = None) -> ChartLabels:
    def t(message_id: str) -> str:
        return translator.text(locale, message_id)

    return ChartLabels(
        title=title or t(N_("chart.title")),
        mood=t(N_("chart.mood")),
        sleep=t(N_("chart.sleep")),
        medication=t(N_("chart.medication")),
        signs=t(N_("chart.signs")),
        mood_ticks=tuple(t(m) for m in MOOD_TICKS),
        sleep_ticks=tuple(t(m) for m in SLEEP_TICKS),
        medication_legend={
            "taken": t(N_("chart.medication.taken")),
            "partly": t(N_("chart.medication.partly")),
            "not_taken": t(N_("chart.medication.not_taken")),
            "not_prescribed": t(N_("chart.medication.not_prescribed")),
        },
        contact=t(N_("chart.contact")),
        contact_legend={
            0: t(N_("checkin.contact.0")),
            1: t(N_("checkin.contact.1")),
            2: t(N_("checkin.contact.2")),
        },
        experiences=t(N_("chart.experiences")),
        distress_ticks=(t(N_("chart.experiences.none")), *(t(m) for m in DISTRESS_TICKS)),
        no_data=t(N_("chart.no_data")),
        date_format=lambda day: str(format_skeleton("Md", day, locale=locale)),
        locale=locale,
    )


def weekly_chart(
    translator: Translator,
    locale: str,
    records: Sequence[DayRecord],
    today: date,
    title: str | None = None,
) -> bytes:
    """A PNG of the last four weeks; runs in a worker thread (matplotlib is slow)."""
    days = [
        ChartDay(
            r.day,
            r.mood,
            r.sleep,
            r.medication,
            r.signs_yes,
            contact=r.contact,
            unusual=r.unusual,
            distress=r.distress,
        )
        for r in records
    ]
    return render_chart(days, today, chart_labels(translator, locale, title))


async def weekly_photo(
    translator: Translator,
    person: Person,
    records: Sequence[DayRecord],
    today: date,
    about: Person | None = None,
) -> SendPhoto:
    """The four-week chart for the client, or about a client for the peer worker (``about``),
    labelled in the reader's language."""
    title, caption = chart_words(translator, person.locale, about)
    png = await asyncio.to_thread(weekly_chart, translator, person.locale, records, today, title)
    return SendPhoto(person.chat_id, png, caption)


def chart_words(
    translator: Translator, locale: str, about: Person | None
) -> tuple[str | None, str]:
    """The chart's title (None: the usual one) and its caption, in the reader's language."""
    if about is None:
        return None, translator.render(Msg(N_("checkin.weekly.caption")), locale)
    alias = Raw(about.alias or "?")
    return (
        translator.render(msg(N_("chart.title_about"), client=alias), locale),
        translator.render(msg(N_("context.chart_caption"), client=alias), locale),
    )


class WeeklyCharts:
    """The applier of the clock's weekly chart. Drawing takes tens of milliseconds, so the
    chart is made after the scheduler's transaction, not while its rows are locked."""

    def __init__(self, translator: Translator, appliers: Appliers) -> None:
        self.translator = translator
        appliers.register({WeeklyChart: self._chart})

    async def _chart(
        self, session: AsyncSession, effect: WeeklyChart, acting: Acting
    ) -> list[Outgoing]:
        assert acting.person is not None
        draw = partial(weekly_photo, self.translator, acting.person, effect.records, effect.today)
        acting.deferred.append(draw)
        return []
