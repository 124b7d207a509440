"""The four-week chart: a small, readable PNG in each language, with gaps where no check-in."""

from __future__ import annotations

import struct
import warnings
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta
from pathlib import Path

import pytest
from matplotlib import font_manager
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from bot.charts import (
    ChartDay,
    chart_font,
    cjk_font_path,
    drawable,
    register_fonts,
    render_chart,
    series,
)
from bot.i18n import Translator
from bot.weekly import chart_labels
from flows.text import LOCALES

END = date(2026, 11, 22)

# The words the bot really puts on the chart, from the catalogs.
LABELS = {locale: chart_labels(Translator(), locale) for locale in LOCALES}

MEDICATION = ("taken", "taken", "partly", "taken", "not_taken", "not_prescribed", "taken")


def four_weeks(skip: frozenset[int] = frozenset({4, 11, 12, 25})) -> list[ChartDay]:
    """A month of check-ins with a rough patch in the third week and a few days missed."""
    start = END - timedelta(days=27)
    days = []
    for i in range(28):
        if i in skip:
            continue
        rough = 14 <= i <= 19
        days.append(
            ChartDay(
                start + timedelta(days=i),
                mood=2 if rough else 4,
                sleep=-2 if rough else (0 if i % 3 else 1),
                medication=MEDICATION[i % 7],
                signs_yes=(i - 13) if rough else 0,
                contact=0 if rough else 1 + i % 2,
                unusual=(("voices",) if i % 2 else ("voices", "watched")) if rough else (),
                distress=(i - 16) if 16 <= i <= 19 else None,
            )
        )
    return days


def png_size(png: bytes) -> tuple[int, int]:
    assert png[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    assert png[12:16] == b"IHDR"
    width, height = struct.unpack(">II", png[16:24])
    return width, height


def missing_glyphs(render: object) -> list[str]:
    """Render and return matplotlib's "Glyph ... missing from font(s)" warnings."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        render()  # type: ignore[operator]
    return [str(w.message) for w in caught if "missing from font" in str(w.message)]


# --- the image ------------------------------------------------------------------------------


@pytest.mark.parametrize("locale", list(LABELS))
def test_chart_is_a_small_phone_sized_png(locale: str) -> None:
    png = render_chart(four_weeks(), END, LABELS[locale])
    width, height = png_size(png)
    assert 700 <= width <= 900
    assert 1200 <= height <= 1400
    assert 20_000 < len(png) < 200_000


@pytest.mark.parametrize("locale", list(LABELS))
def test_every_label_is_drawn_with_real_glyphs(locale: str) -> None:
    """No empty boxes: Chinese labels find their glyphs, emoji in shared labels are dropped."""
    assert missing_glyphs(lambda: render_chart(four_weeks(), END, LABELS[locale])) == []


def test_missing_glyph_check_does_catch_boxes() -> None:
    """The check above is meaningful: Chinese set in a Latin-only font is reported."""

    def latin_only() -> None:
        figure = Figure()
        FigureCanvasAgg(figure)
        figure.suptitle(
            "你最近四周的情况", fontproperties=font_manager.FontProperties("DejaVu Sans")
        )
        figure.canvas.draw()

    assert missing_glyphs(latin_only)


@pytest.mark.parametrize(
    ("locale", "face"),
    [("zh_Hans", "Noto Sans CJK SC"), ("zh_Hant", "Noto Sans CJK TC"), ("en", "Noto Sans CJK SC")],
)
def test_chart_text_resolves_to_the_bundled_noto_cjk_face(locale: str, face: str) -> None:
    found = font_manager.findfont(chart_font(locale, 14), fallback_to_default=False)
    assert Path(found) == cjk_font_path()
    assert cjk_font_path().name == "NotoSansCJK-Regular.ttc"
    faces = {
        e.index: e.name for e in font_manager.fontManager.ttflist if Path(e.fname) == Path(found)
    }
    assert faces[getattr(found, "face_index", 0)] == face


def test_registering_the_font_twice_adds_it_once() -> None:
    register_fonts()
    register_fonts()
    entries = [
        e
        for e in font_manager.fontManager.ttflist
        if Path(e.fname) == cjk_font_path() and e.index == 2
    ]
    assert len(entries) == 1


def test_emoji_are_dropped_from_labels_and_text_kept() -> None:
    assert drawable("💊 Yes") == "Yes"
    assert drawable("💊 有吃") == "有吃"
    assert drawable("跟平常一樣") == "跟平常一樣"
    assert drawable("11/22 – 12/5") == "11/22 – 12/5"


def test_no_check_ins_at_all_still_renders() -> None:
    for locale in LABELS:
        png = render_chart([], END, LABELS[locale])
        assert png_size(png) == png_size(render_chart(four_weeks(), END, LABELS[locale]))


def test_one_week_chart_renders() -> None:
    png = render_chart(four_weeks(), END, LABELS["en"], weeks=1)
    assert png_size(png)[0] >= 700


def test_rendering_from_worker_threads_gives_the_same_image() -> None:
    """The bot renders with asyncio.to_thread; concurrent charts must not mix state."""
    jobs = [(locale, frozenset({n})) for locale in LABELS for n in (1, 9)]
    expected = [render_chart(four_weeks(skip), END, LABELS[loc]) for loc, skip in jobs]
    with ThreadPoolExecutor(max_workers=6) as pool:
        got = list(
            pool.map(lambda job: render_chart(four_weeks(job[1]), END, LABELS[job[0]]), jobs)
        )
    assert got == expected
    assert len(set(got)) == len(jobs)


# --- the data behind it ---------------------------------------------------------------------


def test_series_has_one_entry_per_day_with_gaps_as_none_not_zero() -> None:
    days = [
        ChartDay(END, mood=4, sleep=0, medication="taken", signs_yes=0),
        ChartDay(END - timedelta(days=2), mood=2, sleep=-2, medication="not_taken", signs_yes=1),
    ]
    period = series(days, END)
    assert len(period) == 28
    assert [d.day for d in period] == [END - timedelta(days=27 - i) for i in range(28)]
    gap = period[-2]
    assert (gap.mood, gap.sleep, gap.medication, gap.signs_yes) == (None, None, None, None)
    assert not gap.has_data
    assert period[-1].sleep == 0  # "as usual" is an answer, kept apart from a gap
    assert period[-1].signs_yes == 0
    assert period[-1].has_data
    assert period[-3].mood == 2


def test_series_keeps_only_the_period_in_date_order() -> None:
    days = [
        ChartDay(END + timedelta(days=1), 5, 0, "taken", 0),
        ChartDay(END - timedelta(days=28), 1, -2, "not_taken", 3),
        ChartDay(END - timedelta(days=27), 3, 0, "taken", 0),
        ChartDay(END - timedelta(days=5), 4, 1, None, None),
    ]
    period = series(list(reversed(days)), END)
    assert period[0].mood == 3
    assert [d.mood for d in period if d.has_data] == [3, 4]
    assert len(series(days, END, weeks=2)) == 14


def test_series_refuses_two_check_ins_on_one_day() -> None:
    day = ChartDay(END, 4, 0, "taken", 0)
    with pytest.raises(ValueError, match="2026-11-22"):
        series([day, day], END)
    with pytest.raises(ValueError, match="weeks"):
        series([], END, weeks=0)
