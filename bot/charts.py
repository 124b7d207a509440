"""The four-week summary chart: mood, sleep, medication, time with people, unusual experiences
(and how upsetting they were) and warning signs, one panel each.

Drawn with matplotlib's object API on the Agg canvas (no pyplot, no display, no global
rcParams changes), so it can run in a worker thread. Labels arrive already translated;
Chinese text is set in Noto Sans CJK from the ``noto_cjk_sans_otc`` package, so that it
renders on a fresh machine without system fonts.
"""

from __future__ import annotations

import io
import math
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta
from functools import cache
from importlib import resources
from pathlib import Path

from matplotlib import font_manager
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg, RendererAgg
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.ft2font import FT2Font
from matplotlib.layout_engine import ConstrainedLayoutEngine
from matplotlib.legend import Legend
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.text import Text
from matplotlib.transforms import blended_transform_factory

FONT_PACKAGE = "noto_cjk_sans_otc"
FONT_FILE = "NotoSansCJK-Regular.ttc"
# Faces of the collection: Traditional Chinese readers get Taiwan glyph forms, everyone
# else the Simplified Chinese face (its Latin letters and digits serve English too).
CJK_FAMILY = {"zh_Hant": "Noto Sans CJK TC"}
DEFAULT_CJK_FAMILY = "Noto Sans CJK SC"
LATIN_FALLBACK = "DejaVu Sans"

# Okabe & Ito's colour-blind-safe palette.
BLUE = "#0072B2"
SKY = "#56B4E9"
GREEN = "#009E73"
ORANGE = "#E69F00"
VERMILLION = "#D55E00"
PURPLE = "#CC79A7"
GREY = "#8C8C8C"
INK = "#333333"
MUTED = "#6B6B6B"
GAP = "#EFEFEF"
GRID = "#E0E0E0"

# Colour and shape per answer: the shape tells them apart without colour.
MEDICATION_STYLE: dict[str, tuple[str, str]] = {
    "taken": (GREEN, "o"),
    "partly": (ORANGE, "D"),
    "not_taken": (VERMILLION, "X"),
    "not_prescribed": (GREY, "s"),
}

# Time with people: the colour and shape of each answer (0 not really .. 2 quite a lot).
CONTACT_STYLE: dict[int, tuple[str, str]] = {
    0: (VERMILLION, "v"),
    1: (SKY, "D"),
    2: (GREEN, "o"),
}

WIDTH_PX, HEIGHT_PX, DPI = 800, 1350, 100
TITLE_PT, SUBTITLE_PT, PANEL_PT, TICK_PT = 26, 16, 19, 16


@dataclass(frozen=True, slots=True)
class ChartDay:
    """One day's answers; ``None`` where there was no answer."""

    day: date
    mood: int | None
    sleep: int | None  # -2..2
    medication: str | None  # "taken" | "partly" | "not_taken" | "not_prescribed"
    signs_yes: int | None
    contact: int | None = None  # 0 not really, 1 a little, 2 quite a lot
    unusual: tuple[str, ...] | None = None  # experiences ticked; () none of them
    distress: int | None = None  # 0..3, how upsetting they were

    @property
    def has_data(self) -> bool:
        answers = (self.mood, self.sleep, self.medication, self.signs_yes, self.contact)
        return any(v is not None for v in (*answers, self.unusual))


@dataclass(frozen=True, slots=True)
class ChartLabels:
    """Every word on the chart, already translated by the caller."""

    title: str  # e.g. "Your last 4 weeks" / "最近四周"
    mood: str  # panel label
    sleep: str
    medication: str
    signs: str
    mood_ticks: tuple[str, ...]  # five short words, for 1..5
    sleep_ticks: tuple[str, ...]  # five, for -2..2
    medication_legend: dict[str, str]  # "taken" -> "Taken" etc.
    contact: str  # panel label: time with people
    contact_legend: dict[int, str]  # 0 -> "Not really" etc., the check-in's own words
    experiences: str  # panel label: unusual experiences, how upsetting
    distress_ticks: tuple[str, ...]  # "none" (no experience), then four words for 0..3
    no_data: str  # e.g. "no check-in"
    date_format: Callable[[date], str]  # e.g. lambda d: "11/22", formatted by Babel
    locale: str = "en"  # picks the Chinese glyph forms: "zh_Hant" -> Traditional

    def __post_init__(self) -> None:
        if len(self.mood_ticks) != 5 or len(self.sleep_ticks) != 5:
            raise ValueError("a chart needs five mood and five sleep words")
        if len(self.distress_ticks) != 5:
            raise ValueError("a chart needs a word for none and four for how upsetting")


class ChartFontMissing(RuntimeError):
    """The Noto Sans CJK font package is not installed as files."""


_font_lock = threading.RLock()
_fonts_registered = False
# matplotlib shares font caches and layout caches between figures; one chart at a time.
_render_lock = threading.Lock()


def cjk_font_path() -> Path:
    """The Noto Sans CJK collection shipped by the ``noto_cjk_sans_otc`` package."""
    try:
        path = resources.files(FONT_PACKAGE).joinpath(FONT_FILE)
    except ModuleNotFoundError as exc:
        raise ChartFontMissing(f"install the {FONT_PACKAGE!r} package for charts") from exc
    if not isinstance(path, Path) or not path.is_file():
        raise ChartFontMissing(f"{FONT_FILE} not found as a file in {FONT_PACKAGE!r}")
    return path


def register_fonts() -> None:
    """Make Noto Sans CJK known to matplotlib, once per process (idempotent, thread-safe)."""
    global _fonts_registered
    with _font_lock:
        if _fonts_registered:
            return
        path = cjk_font_path()
        known = {Path(entry.fname) for entry in font_manager.fontManager.ttflist}
        if path not in known:
            font_manager.fontManager.addfont(str(path))
        _fonts_registered = True


def chart_font(locale: str, size: float) -> FontProperties:
    """The chart's font: Noto Sans CJK in the locale's glyph forms, DejaVu Sans behind it."""
    register_fonts()
    family = CJK_FAMILY.get(locale, DEFAULT_CJK_FAMILY)
    return FontProperties(family=[family, LATIN_FALLBACK], size=size)


def drawable(text: str) -> str:
    """``text`` without the characters the chart fonts cannot draw (emoji, mostly).

    Labels are often shared with the chat's buttons ("💊 Yes"); on the chart an emoji would
    be an empty box, so it is dropped instead.
    """
    return " ".join("".join(ch for ch in text if _can_draw(ch)).split())


@cache
def _chart_fonts() -> tuple[FT2Font, ...]:
    register_fonts()
    cjk = cjk_font_path()
    faces = [
        FT2Font(str(cjk), face_index=entry.index)
        for entry in font_manager.fontManager.ttflist
        if Path(entry.fname) == cjk and entry.name in (DEFAULT_CJK_FAMILY, *CJK_FAMILY.values())
    ]
    latin = font_manager.findfont(FontProperties(family=LATIN_FALLBACK), fallback_to_default=False)
    return (*faces, FT2Font(latin))


@cache
def _can_draw(ch: str) -> bool:
    if ch.isspace():
        return True
    with _font_lock:
        return any(font.get_char_index(ord(ch)) != 0 for font in _chart_fonts())


def series(days: Sequence[ChartDay], end: date, weeks: int = 4) -> tuple[ChartDay, ...]:
    """One entry per calendar day of the ``weeks`` weeks ending on ``end``, oldest first.

    Days without a check-in are entries whose answers are all ``None`` (a gap, never a
    zero); check-ins outside the period are left out. Two check-ins on one day are refused.
    """
    if weeks < 1:
        raise ValueError(f"weeks must be at least 1, got {weeks}")
    start = end - timedelta(days=7 * weeks - 1)
    by_day: dict[date, ChartDay] = {}
    for d in days:
        if d.day in by_day:
            raise ValueError(f"two check-ins for {d.day}; expected at most one per day")
        by_day[d.day] = d
    return tuple(
        by_day.get(day, ChartDay(day, None, None, None, None))
        for day in (start + timedelta(days=i) for i in range(7 * weeks))
    )


def render_chart(days: Sequence[ChartDay], end: date, labels: ChartLabels, weeks: int = 4) -> bytes:
    """A PNG (bytes), about 800×1000 px. Days without data show as gaps, not zeros."""
    period = series(days, end, weeks)
    labels = _drawable_labels(labels)
    with _render_lock:
        figure = _draw(period, labels)
        buffer = io.BytesIO()
        figure.savefig(
            buffer, format="png", dpi=DPI, facecolor="white", metadata={"Software": None}
        )
    return buffer.getvalue()


def _drawable_labels(labels: ChartLabels) -> ChartLabels:
    def dates(day: date) -> str:
        return drawable(labels.date_format(day))

    return replace(
        labels,
        title=drawable(labels.title),
        mood=drawable(labels.mood),
        sleep=drawable(labels.sleep),
        medication=drawable(labels.medication),
        signs=drawable(labels.signs),
        mood_ticks=tuple(drawable(t) for t in labels.mood_ticks),
        sleep_ticks=tuple(drawable(t) for t in labels.sleep_ticks),
        medication_legend={k: drawable(v) for k, v in labels.medication_legend.items()},
        contact=drawable(labels.contact),
        contact_legend={k: drawable(v) for k, v in labels.contact_legend.items()},
        experiences=drawable(labels.experiences),
        distress_ticks=tuple(drawable(t) for t in labels.distress_ticks),
        no_data=drawable(labels.no_data),
        date_format=dates,
    )


@dataclass(frozen=True, slots=True)
class _Chart:
    """The days being drawn and the words for them: what every part of the figure reads."""

    period: tuple[ChartDay, ...]
    labels: ChartLabels

    def font(self, size: float) -> FontProperties:
        return chart_font(self.labels.locale, size)


def _draw(period: tuple[ChartDay, ...], labels: ChartLabels) -> Figure:
    chart = _Chart(period, labels)
    figure = Figure(
        figsize=(WIDTH_PX / DPI, HEIGHT_PX / DPI),
        dpi=DPI,
        layout=ConstrainedLayoutEngine(h_pad=0.12, hspace=0.04),
    )
    canvas = FigureCanvasAgg(figure)
    grid = figure.add_gridspec(7, 1, height_ratios=[0.5, 3.0, 2.4, 0.8, 0.8, 2.2, 2.0])
    header = figure.add_subplot(grid[0])
    mood_ax = figure.add_subplot(grid[1])
    sleep_ax, meds_ax, contact_ax, experiences_ax, signs_ax = (
        figure.add_subplot(grid[i], sharex=mood_ax) for i in (2, 3, 4, 5, 6)
    )
    _header(figure, header, chart)

    for ax, title in (
        (mood_ax, labels.mood),
        (sleep_ax, labels.sleep),
        (meds_ax, labels.medication),
        (contact_ax, labels.contact),
        (experiences_ax, labels.experiences),
        (signs_ax, labels.signs),
    ):
        _frame(ax, title, chart)

    _mood(mood_ax, chart)
    _sleep(sleep_ax, chart)
    renderer = canvas.get_renderer()  # type: ignore[no-untyped-call]
    medication = _row(meds_ax, chart, _medication_marks(chart))
    _row_key(renderer, figure, meds_ax, medication, chart)
    contact = _row(contact_ax, chart, _contact_marks(chart))
    _row_key(renderer, figure, contact_ax, contact, chart)
    _experiences(experiences_ax, chart)
    _signs(signs_ax, chart)
    _dates(signs_ax, chart)

    gap = Patch(facecolor=GAP, edgecolor=GRID, label=labels.no_data)
    figure.legend(
        handles=[gap],
        loc="outside lower left",
        frameon=False,
        prop=chart.font(TICK_PT),
        labelcolor=MUTED,
        handlelength=1.2,
        handleheight=1.2,
    )
    return figure


def _header(figure: Figure, ax: Axes, chart: _Chart) -> None:
    """The title on the left and the period on the right, on one baseline across the figure."""
    ax.set_axis_off()
    across = blended_transform_factory(figure.transFigure, ax.transAxes)
    labels, period = chart.labels, chart.period
    period_text = f"{labels.date_format(period[0].day)} – {labels.date_format(period[-1].day)}"
    for x, text, size, colour, align in (
        (0.025, labels.title, TITLE_PT, INK, "left"),
        (0.975, period_text, SUBTITLE_PT, MUTED, "right"),
    ):
        ax.text(
            x,
            0.2,
            text,
            transform=across,
            fontproperties=chart.font(size),
            color=colour,
            ha=align,
            va="baseline",
        ).set_in_layout(False)


def _frame(ax: Axes, title: str, chart: _Chart) -> None:
    ax.set_title(title, loc="left", fontproperties=chart.font(PANEL_PT), color=INK, pad=6)
    for side in ("top", "right", "left"):
        ax.spines[side].set_visible(False)
    ax.spines["bottom"].set_color(GRID)
    ax.tick_params(axis="both", which="both", length=0, colors=MUTED, pad=6)
    days = len(chart.period)
    ax.set_xlim(-0.6, days - 0.4)
    for i, d in enumerate(chart.period):
        if not d.has_data:
            ax.axvspan(i - 0.5, i + 0.5, facecolor=GAP, edgecolor="none", zorder=0)
    for week_start in range(days - 7, 0, -7):
        ax.axvline(week_start - 0.5, color=GRID, linewidth=1, zorder=0.5)


def _y_axis(
    ax: Axes, chart: _Chart, limits: tuple[float, float], levels: range, words: Sequence[str]
) -> None:
    """The panel's height, and a word with a grid line at each level."""
    ax.set_ylim(*limits)
    ax.set_yticks(list(levels), list(words), fontproperties=chart.font(TICK_PT))
    ax.grid(axis="y", color=GRID, linewidth=1)
    ax.set_axisbelow(True)


def _no_answers(ax: Axes, chart: _Chart) -> None:
    ax.text(
        0.5,
        0.5,
        chart.labels.no_data,
        transform=ax.transAxes,
        ha="center",
        va="center",
        fontproperties=chart.font(TICK_PT),
        color=MUTED,
        bbox={"facecolor": "white", "edgecolor": "none", "boxstyle": "round,pad=0.4"},
    )


def _answers(
    ax: Axes, chart: _Chart, answer: Callable[[ChartDay], int | None]
) -> list[tuple[int, int]]:
    """(the day's place on the x axis, its answer) for each day answered; a panel without
    any says so across it."""
    answered = [(i, a) for i, d in enumerate(chart.period) if (a := answer(d)) is not None]
    if not answered:
        _no_answers(ax, chart)
    return answered


def _dots(
    ax: Axes, x: Sequence[int], y: Sequence[int], marker: str, size: float, colour: str, rim: float
) -> None:
    """Markers alone, no line; a white rim keeps neighbouring ones apart."""
    ax.plot(
        x,
        y,
        linestyle="none",
        marker=marker,
        markersize=size,
        color=colour,
        markeredgecolor="white",
        markeredgewidth=rim,
    )


def _mood(ax: Axes, chart: _Chart) -> None:
    _y_axis(ax, chart, (0.5, 5.5), range(1, 6), chart.labels.mood_ticks)
    points = _answers(ax, chart, lambda d: d.mood)
    if not points:
        return
    days, moods = zip(*points, strict=True)
    # A dotted line bridges missing days so the trend stays readable; days in a row are solid.
    ax.plot(days, moods, color=BLUE, linewidth=1.5, linestyle=":", alpha=0.6)
    solid = [d.mood if d.mood is not None else math.nan for d in chart.period]
    ax.plot(range(len(solid)), solid, color=BLUE, linewidth=3, solid_capstyle="round")
    _dots(ax, days, moods, "o", 9, BLUE, rim=1.5)


def _sleep(ax: Axes, chart: _Chart) -> None:
    _y_axis(ax, chart, (-2.6, 2.6), range(-2, 3), chart.labels.sleep_ticks)
    answered = _answers(ax, chart, lambda d: d.sleep)
    if not answered:
        return
    ax.axhline(0, color=GREY, linewidth=1.2, zorder=1)
    bars = [(i, s) for i, s in answered if s != 0]
    if bars:
        ax.bar(
            [i for i, _ in bars],
            [s for _, s in bars],
            width=0.7,
            color=[VERMILLION if s < 0 else SKY for _, s in bars],
            zorder=2,
        )
    usual = [i for i, s in answered if s == 0]
    # "As usual" has no height: a dash on the line shows it was answered.
    ax.plot(
        usual,
        [0] * len(usual),
        linestyle="none",
        marker="_",
        markersize=16,
        markeredgewidth=3.5,
        color="#4D4D4D",
        zorder=3,
    )


# A row of markers, one per day answered: (its days, colour, marker, the key's word).
RowMarks = list[tuple[list[int], str, str, str]]


def _medication_marks(chart: _Chart) -> RowMarks:
    legend = chart.labels.medication_legend
    return [
        (
            [i for i, d in enumerate(chart.period) if d.medication == answer],
            colour,
            marker,
            legend.get(answer, answer),
        )
        for answer, (colour, marker) in MEDICATION_STYLE.items()
    ]


def _contact_marks(chart: _Chart) -> RowMarks:
    legend = chart.labels.contact_legend
    return [
        (
            [i for i, d in enumerate(chart.period) if d.contact == answer],
            colour,
            marker,
            legend.get(answer, str(answer)),
        )
        for answer, (colour, marker) in CONTACT_STYLE.items()
    ]


def _row(ax: Axes, chart: _Chart, marks: RowMarks) -> list[Line2D]:
    """One answer a day as a coloured shape on a line (medication, time with people); returns
    the key's entries for the answers that occur."""
    ax.set_ylim(-1, 1)
    ax.set_yticks([])
    ax.spines["bottom"].set_visible(False)
    handles = []
    for on, colour, marker, word in marks:
        if not on:
            continue
        _dots(ax, on, [0] * len(on), marker, 13, colour, rim=1)
        handles.append(
            Line2D([], [], linestyle="none", marker=marker, markersize=11, color=colour, label=word)
        )
    if not handles:
        _no_answers(ax, chart)
    return handles


def _row_key(
    renderer: RendererAgg, figure: Figure, ax: Axes, handles: list[Line2D], chart: _Chart
) -> None:
    """The colour key under a row of markers: one line, or two when one would not fit."""
    if not handles:
        return

    def key(columns: int) -> Legend:
        return ax.legend(
            handles=handles,
            loc="upper left",
            bbox_to_anchor=(0.0, 0.0),
            ncols=columns,
            frameon=False,
            prop=chart.font(TICK_PT),
            labelcolor=MUTED,
            handletextpad=0.3,
            columnspacing=1.2,
            borderaxespad=0.1,
        )

    # The panels start after the widest y-axis word; measured before layout (a layout pass
    # costs as much as the whole drawing).
    words = [*chart.labels.mood_ticks, *chart.labels.sleep_ticks, *chart.labels.distress_ticks]
    widest = max(
        Text(text=w, fontproperties=chart.font(TICK_PT), figure=figure)
        .get_window_extent(renderer)
        .width
        for w in words
    )
    room = figure.bbox.width - widest - 40
    for columns in sorted({len(handles), 2, 1}, reverse=True):
        legend = key(columns)
        if columns == 1 or legend.get_window_extent(renderer).width <= room:
            break
        legend.remove()


def _experiences(ax: Axes, chart: _Chart) -> None:
    """Days with an unusual experience as a diamond at how upsetting it was; days without one
    as a small dot on the "none" line below."""
    _y_axis(ax, chart, (-1.5, 3.5), range(-1, 4), chart.labels.distress_ticks)
    answered = _answers(ax, chart, lambda d: None if d.unusual is None else len(d.unusual))
    if not answered:
        return
    none = [i for i, n in answered if n == 0]
    ax.plot(none, [-1] * len(none), linestyle="none", marker="o", markersize=5, color=GREY)
    some = [(i, chart.period[i].distress) for i, n in answered if n > 0]
    if some:
        # An experience whose distress was not answered sits at "not at all", hollow.
        known = [(i, level) for i, level in some if level is not None]
        unknown = [i for i, level in some if level is None]
        if known:
            _dots(ax, [i for i, _ in known], [lvl for _, lvl in known], "D", 11, ORANGE, rim=1)
        if unknown:
            ax.plot(
                unknown,
                [0] * len(unknown),
                linestyle="none",
                marker="D",
                markersize=10,
                markerfacecolor="white",
                markeredgecolor=ORANGE,
                markeredgewidth=2,
            )


def _signs(ax: Axes, chart: _Chart) -> None:
    answered = _answers(ax, chart, lambda d: d.signs_yes)
    top = max([2, *(n for _, n in answered)])
    _y_axis(ax, chart, (-0.35, top + 0.4), range(top + 1), [str(n) for n in range(top + 1)])
    if not answered:
        return
    some = [(i, n) for i, n in answered if n > 0]
    if some:
        ax.bar([i for i, _ in some], [n for _, n in some], width=0.7, color=PURPLE, zorder=2)
    none = [i for i, n in answered if n == 0]
    # Zero signs is an answer, not a gap: a small dot on the baseline.
    ax.plot(none, [0] * len(none), linestyle="none", marker="o", markersize=5, color=GREY)


def _dates(ax: Axes, chart: _Chart) -> None:
    for upper in ax.get_shared_x_axes().get_siblings(ax):
        if upper is not ax:
            upper.tick_params(axis="x", labelbottom=False)
    period = chart.period
    ticks = list(range(len(period) - 1, -1, -7))[::-1]
    ax.set_xticks(
        ticks,
        [chart.labels.date_format(period[i].day) for i in ticks],
        fontproperties=chart.font(TICK_PT),
    )
    ax.tick_params(axis="x", which="major", length=6, color=GRID)
