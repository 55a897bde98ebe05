"""CLI: ``ecowatch brief`` writes the weekly briefing (舆情周报) or the daily duty report (值班日报)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from core.settings import Settings
from ecowatch.cli import _settings, _sources, _store, app


def expected_hours(settings: Settings) -> dict[str, float]:
    """Per configured source, the hours without a successful run after which it counts as blind."""
    try:
        return {s.name: float(s.expected_every_hours) for s in _sources(settings) if s.enabled}
    except Exception:  # a broken sources file must not stop the briefing; coverage then uses runs only
        return {}


def briefings_dir(settings: Settings) -> Path:
    """Where generated briefings are kept (data_dir/briefings)."""
    return settings.data_dir / "briefings"


@app.command()
def brief(week: Annotated[str | None, typer.Option(help="ISO week, e.g. 2026-W48 (default: last full one)")] = None,
          daily: Annotated[bool, typer.Option("--daily", help="the daily duty report (值班日报) instead")] = False,
          date: Annotated[str | None, typer.Option(help="hand-over date of the daily report, e.g. 2026-11-29")] = None,
          fmt: Annotated[str, typer.Option("--format", help="docx | html")] = "docx",
          out: Annotated[Path | None, typer.Option(help="file to write (default: data_dir/briefings/...)")] = None,
          now: Annotated[str | None, typer.Option(help="compute as of this time (ISO 8601; default: now)")] = None,
          ) -> None:
    """Write a briefing computed from the stored posts, incidents, audit log and source runs."""
    from briefing.period import PeriodError, iso_week, last_full_week
    from briefing.period import daily as daily_period
    from briefing.service import FORMATS, build_briefing, file_name, render
    from core.jurisdiction import load_jurisdiction
    from core.timeutil import parse_time, to_local, utcnow

    if fmt not in FORMATS:
        raise typer.BadParameter(f"--format must be one of {', '.join(FORMATS)}")
    if daily and week:
        raise typer.BadParameter("--week and --daily exclude each other")
    at = parse_time(now) if now else utcnow()
    if at is None:
        raise typer.BadParameter(f"not a time: {now!r}")
    if date and not daily:
        raise typer.BadParameter("--date goes with --daily")
    try:
        period = (daily_period(date or f"{to_local(at):%Y-%m-%d}") if daily
                  else iso_week(week) if week else last_full_week(at))
    except PeriodError as exc:
        raise typer.BadParameter(str(exc)) from exc
    settings = _settings()
    b = build_briefing(_store(settings), load_jurisdiction(settings.jurisdiction), period, at, expected_hours(settings))
    target = out or briefings_dir(settings) / file_name(period, fmt)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(render(b, fmt))
    summary: dict[str, Any] = {"file": str(target), "period": period.key, "format": fmt,
                               **{c.label: c.current for c in b.totals},
                               "top_incidents": [i.id for i in b.top], "overdue": len(b.overdue),
                               "blind_sources": [c.source for c in b.blind_sources], "notes": b.notes}
    typer.echo(json.dumps(summary, ensure_ascii=False))
