"""The results as a table: printed after a run and written into ``docs/benchmarks.md``.

Only the part between ``<!-- bench:begin -->`` and ``<!-- bench:end -->`` is replaced, so
what is written around it by hand (analysis, recommendations) stays.
"""

from __future__ import annotations

import os
import platform
import sqlite3
import subprocess
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from bench.results import Metric
from bot.config import PROJECT_ROOT

DOC = PROJECT_ROOT / "docs" / "benchmarks.md"
BEGIN, END = "<!-- bench:begin -->", "<!-- bench:end -->"
TITLE = "# Benchmarks\n\n"


@dataclass
class Section:
    """One measurement: its metrics for the table and its details for the document."""

    key: str
    title: str
    metrics: list[Metric] = field(default_factory=list)
    details: list[str] = field(default_factory=list)
    seconds: float = 0.0
    skipped: str | None = None
    failed: str | None = None


def machine() -> dict[str, str]:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = ""
    try:
        kib = int(Path("/proc/meminfo").read_text().split()[1])
        memory = f", {kib / 1024 / 1024:.0f} GiB RAM"
    except (OSError, ValueError, IndexError):
        pass
    return {
        "machine": f"{cpu}, {os.cpu_count()} cores{memory}, {platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
    }


def load_average() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "?"


def _git(*words: str) -> str:
    return subprocess.run(
        ["git", *words], cwd=PROJECT_ROOT, capture_output=True, text=True, check=True
    ).stdout.strip()


def git_revision() -> str:
    try:
        revision = _git("rev-parse", "--short", "HEAD")
        dirty = _git("status", "--porcelain", "--untracked-files=no")
    except (OSError, subprocess.CalledProcessError):
        return "?"
    return revision + (" (with uncommitted changes)" if dirty else "")


def table(sections: list[Section]) -> str:
    lines = [
        "| metric | target | median | min – max | runs | result |",
        "| --- | --- | ---: | ---: | ---: | --- |",
    ]
    for section in sections:
        if section.skipped or section.failed:
            reason = section.skipped or section.failed
            lines.append(
                f"| **{section.title}** | | | | | {'skipped' if section.skipped else 'FAILED'}: {reason} |"
            )
            continue
        for metric in section.metrics:
            unit = f" ({metric.unit})" if metric.unit else ""
            lines.append(
                f"| {metric.name}{unit} | {metric.target or '—'} | {metric.fmt(metric.median)} "
                f"| {metric.spread} | {len(metric.values)} | {metric.verdict} |"
            )
    return "\n".join(lines)


def plain_table(sections: list[Section]) -> str:
    """The same for a terminal."""
    rows = [("metric", "target", "median", "min – max", "n", "result")]
    for section in sections:
        if section.skipped or section.failed:
            status = "skipped" if section.skipped else "FAILED"
            rows.append(
                (section.title, "", "", "", "", f"{status}: {section.skipped or section.failed}")
            )
            continue
        for metric in section.metrics:
            unit = f" ({metric.unit})" if metric.unit else ""
            verdict = {True: "met", False: "MISSED", None: "-"}[metric.passed]
            rows.append(
                (
                    metric.name + unit,
                    metric.target or "-",
                    metric.fmt(metric.median),
                    metric.spread,
                    str(len(metric.values)),
                    verdict,
                )
            )
    widths = [min(max(len(row[i]) for row in rows), 60) for i in range(6)]
    return "\n".join(
        "  ".join(cell[:60].ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in rows
    )


def render(sections: list[Section], command: str, info: dict[str, str]) -> str:
    header = [
        "| run | |",
        "| --- | --- |",
        f"| date | {info['date']} |",
        f"| command | `{command}` |",
        f"| machine | {info['machine']} |",
        f"| load average (start → end) | {info['load']} |",
        f"| software | Python {info['python']}, SQLite {info['sqlite']}, {info.get('postgres', 'PostgreSQL: not used')} |",
        f"| code | {info['revision']} |",
        f"| total time | {info['total']} |",
    ]
    parts = [
        BEGIN,
        "<!-- Written by `python -m bench`; edit outside these markers only. -->",
        "",
        "## Results",
        "",
        "\n".join(header),
        "",
        table(sections),
        "",
    ]
    for section in sections:
        if not section.details:
            continue
        parts += [f"### {section.title}", "", *section.details, ""]
    parts.append(END)
    return "\n".join(parts)


def write(block: str) -> Path:
    existing = DOC.read_text(encoding="utf-8") if DOC.exists() else TITLE
    if BEGIN in existing and END in existing:
        before = existing.split(BEGIN, 1)[0]
        after = existing.split(END, 1)[1]
        text = before + block + after
    else:
        text = existing.rstrip() + "\n\n" + block + "\n"
    DOC.write_text(text, encoding="utf-8")
    return DOC


def now_utc() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
