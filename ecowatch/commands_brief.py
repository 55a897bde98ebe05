"""CLI: ``ecowatch brief`` writes the weekly briefing (舆情周报) or the daily duty report (值班日报)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from ecowatch import context
from ecowatch.cli import app


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
    settings = context.settings()
    b = build_briefing(context.store(settings), load_jurisdiction(settings.jurisdiction), period, at,
                       context.configured_expected_hours(settings))
    target = out or context.briefings_dir(settings) / file_name(period, fmt)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(render(b, fmt))
    summary: dict[str, Any] = {"file": str(target), "period": period.key, "format": fmt,
                               **{c.label: c.current for c in b.totals},
                               "top_incidents": [i.id for i in b.top], "overdue": len(b.overdue),
                               "blind_sources": [c.source for c in b.blind_sources], "notes": b.notes}
    typer.echo(json.dumps(summary, ensure_ascii=False))
