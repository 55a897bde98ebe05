"""Build, render and keep briefings: the entry points the CLI, the scheduler and the API use."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from alerts.rota import RotaPolicy, gaps
from briefing.figures import Briefing, compute
from briefing.learning import load_learning
from briefing.loader import load_records
from briefing.period import Period, PeriodError, daily, iso_week
from core.jurisdiction import Jurisdiction
from core.timeutil import utcnow
from storage.sql import SqlStore

FORMATS = ("docx", "html")
MEDIA_TYPES = {"docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
               "html": "text/html; charset=utf-8"}
_KEPT = re.compile(r"^(weekly|daily)-(\d{4}-W\d{2}|\d{4}-\d{2}-\d{2})\.(docx|html)$")


def build_briefing(store: SqlStore, jurisdiction: Jurisdiction, period: Period, now: dt.datetime | None = None,
                   expected_hours: Mapping[str, float] | None = None) -> Briefing:
    """Read the store and compute the briefing of ``period`` as of ``now`` (default: now)."""
    records = load_records(store, jurisdiction, period, expected_hours)
    briefing = compute(records, period, now or utcnow(), jurisdiction.deadlines)
    if period.kind == "week":  # the weekly briefing tells the bureau where the machine is weak
        briefing.learning = load_learning(store, jurisdiction, period)
    else:  # the daily report is read at the hand-over: whether the desk is staffed in the days ahead
        briefing.rota_gaps = rota_gaps(store, jurisdiction, period)
    return briefing


def rota_gaps(store: SqlStore, jurisdiction: Jurisdiction, period: Period) -> list[tuple[dt.datetime, dt.datetime]]:
    """The stretches with nobody on the rota in the pack's ``gap_warn_days`` after the daily
    report's hand-over (``alerts.rota.gaps``, the rule the console and the hand-over note use),
    counted from the period's end so that a report reads the same whenever it is rebuilt. None
    while no rota is kept (no shift in the month before the window or in it): a bureau that
    does not use the rota is not told every day that its desk is empty."""
    ahead = dt.timedelta(days=RotaPolicy.from_pack(jurisdiction.rota).gap_warn_days)
    with store.read() as tx:
        shifts = tx.shifts_between(period.end - dt.timedelta(days=31), period.end + ahead)
    return gaps(shifts, period.end, period.end + ahead) if shifts else []


def render(b: Briefing, fmt: str) -> bytes:
    """The briefing as DOCX or HTML bytes (charts drawn here)."""
    from briefing.charts import charts

    if fmt not in FORMATS:
        raise PeriodError(f"unknown format {fmt!r}; one of {', '.join(FORMATS)}")
    pictures = charts(b)
    if fmt == "docx":
        from briefing.render_docx import render_docx

        return render_docx(b, pictures)
    from briefing.render_html import render_html

    return render_html(b, pictures).encode("utf-8")


def file_name(period: Period, fmt: str) -> str:
    """weekly-2026-W48.docx or daily-2026-11-29.html."""
    return f"{'weekly' if period.kind == 'week' else 'daily'}-{period.key}.{fmt}"


def period_for(key: str) -> Period:
    """The period named by a kept file's key: ``2026-W48`` (week) or ``2026-11-29`` (daily)."""
    return iso_week(key) if "W" in key.upper() else daily(key)


def keep(directory: Path, b: Briefing, formats: tuple[str, ...] = FORMATS) -> list[Path]:
    """Write the briefing into ``directory`` in each format (atomically: a reader never sees half
    a file); an earlier file of the same period is replaced. Returns the paths written."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for fmt in formats:
        path = directory / file_name(b.period, fmt)
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_bytes(render(b, fmt))
        tmp.replace(path)
        written.append(path)
    return written


@dataclass(slots=True, frozen=True)
class KeptBriefing:
    """A briefing file kept in the briefings folder."""

    kind: str  # weekly | daily
    key: str  # 2026-W48 | 2026-11-29
    format: str
    path: Path
    size: int
    modified_at: dt.datetime


def list_kept(directory: Path) -> list[KeptBriefing]:
    """The kept briefing files, newest period first."""
    if not directory.is_dir():
        return []
    out = []
    for path in directory.iterdir():
        match = _KEPT.match(path.name)
        if match and path.is_file():
            stat = path.stat()
            out.append(KeptBriefing(match.group(1), match.group(2), match.group(3), path, stat.st_size,
                                    dt.datetime.fromtimestamp(stat.st_mtime, dt.UTC)))
    out.sort(key=lambda k: (k.modified_at, k.key, k.format), reverse=True)
    return out
