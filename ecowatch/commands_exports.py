"""``ecowatch export incidents|posts``: the console's 导出 from the command line, the same rows
and columns (briefing.exports, docs/exports.md), every unit (an operator on the server)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated, Literal

import typer

from ecowatch import context
from ecowatch.cli import app

export_app = typer.Typer(no_args_is_help=True, help="Incidents or posts as CSV/XLSX (docs/exports.md).")
app.add_typer(export_app, name="export")

Out = Annotated[Path, typer.Option("--out", help="the file to write")]
Format = Annotated[str, typer.Option("--format", help="csv (UTF-8 with BOM) or xlsx")]
UnitCode = Annotated[str | None, typer.Option("--unit-code", help="only this unit")]
Since = Annotated[str | None, typer.Option(help="from (ISO 8601; Beijing time when no zone)")]
Until = Annotated[str | None, typer.Option(help="before (ISO 8601; Beijing time when no zone)")]


def _time(value: str | None, name: str) -> dt.datetime | None:
    from core.timeutil import parse_time

    if value is None:
        return None
    parsed = parse_time(value)
    if parsed is None:
        raise typer.BadParameter(f"not a time: {value!r} (e.g. 2026-12-01 or 2026-12-01T08:00:00+08:00)",
                                 param_hint=name)
    return parsed


def _choices(values: list[str] | None, allowed: list[str], name: str) -> list[str]:
    bad = [v for v in values or [] if v not in allowed]
    if bad:
        raise typer.BadParameter(f"{', '.join(bad)}: not one of {', '.join(allowed)}", param_hint=name)
    return list(values or [])


def _write(kind: Literal["incidents", "posts"], fmt: str, out: Path, rows: list, total: int, cap: int) -> None:
    from briefing.exports import render, too_many

    if total > cap:
        typer.echo(f"ecowatch: {too_many(total, cap, kind)}", err=True)
        raise typer.Exit(1)
    out.write_bytes(render(kind, "xlsx" if fmt == "xlsx" else "csv", rows))
    typer.echo(f"{total} {kind} written to {out}")


@export_app.command("incidents")
def incidents(out: Out, fmt: Format = "csv", unit_code: UnitCode = None,
              state: Annotated[list[str] | None, typer.Option(help="any of these states (repeatable)")] = None,
              grade: Annotated[list[str] | None, typer.Option(help="any of these grades (repeatable)")] = None,
              topic: Annotated[list[str] | None, typer.Option(help="any of these topics (repeatable)")] = None,
              since: Since = None, until: Until = None,
              overdue: Annotated[bool | None, typer.Option("--overdue/--not-overdue",
                                                           help="only overdue / only not overdue")] = None) -> None:
    """The incidents ``GET /api/incidents`` lists with these filters (opened between since and until)."""
    from alerts.incident_list import select_incidents
    from briefing.exports import incident_row
    from core.models import Grade, State, Topic
    from core.timeutil import utcnow
    from storage.incident_queries import IncidentFilters

    _choices([fmt], ["csv", "xlsx"], "--format")
    filters = IncidentFilters(unit_code, _choices(state, [s.value for s in State], "--state"),
                              _choices(grade, [g.value for g in Grade], "--grade"),
                              _choices(topic, [t.value for t in Topic], "--topic"),
                              _time(since, "--since"), _time(until, "--until"))
    settings, now = context.settings(), utcnow()
    cap = settings.export_max_rows
    with context.store(settings).read() as tx:
        total, items = select_incidents(tx, filters, overdue, now, cap + 1)
    _write("incidents", fmt, out, [incident_row(i, now) for i in items], total, cap)


@export_app.command("posts")
def posts(out: Out, q: Annotated[str, typer.Option("--q", help="words to find (all must match)")],
          fmt: Format = "csv", unit_code: UnitCode = None,
          topic: Annotated[str | None, typer.Option(help="the post's main topic")] = None,
          source: Annotated[str | None, typer.Option(help="the source name")] = None,
          polarity: Annotated[str | None, typer.Option(help="neg | neu | pos")] = None,
          since: Since = None, until: Until = None,
          sort: Annotated[str, typer.Option(help="relevance | newest")] = "relevance") -> None:
    """The posts ``GET /api/search`` finds with these parameters (published between since and until)."""
    from briefing.exports import post_row
    from core.jurisdiction import load_jurisdiction
    from core.models import POLARITIES
    from indexing.find import find_posts
    from indexing.search_index import SearchIndexer
    from storage.search import SearchFilters
    from storage.search_backends import SearchUnavailable, backend_for

    _choices([fmt], ["csv", "xlsx"], "--format")
    _choices([sort], ["relevance", "newest"], "--sort")
    _choices([polarity] if polarity else [], list(POLARITIES), "--polarity")
    if not q.strip():
        raise typer.BadParameter("give the words to find", param_hint="--q")
    filters = SearchFilters(unit_code, topic, source, polarity, _time(since, "--since"), _time(until, "--until"))
    settings = context.settings()
    store = context.store(settings)
    index = None
    if settings.es_url:
        from storage.es_posts import EsPostIndex

        index = EsPostIndex.from_settings(settings)
    indexer = SearchIndexer(load_jurisdiction(settings.jurisdiction))
    try:
        found = find_posts(store, indexer, backend_for(store, index), q, filters, limit=settings.export_max_rows,
                           offset=0, sort=sort)
    except SearchUnavailable as exc:
        typer.echo("ecowatch: search is unavailable: Elasticsearch does not answer", err=True)
        raise typer.Exit(1) from exc
    _write("posts", fmt, out, [post_row(h) for h in found.result.hits], found.result.total,
           settings.export_max_rows)
