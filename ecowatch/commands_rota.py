"""``ecowatch rota ...``: the duty rota (值班排班): import an office's 值班表, show it, who is on
duty now, overrides (代班/换班), acknowledging a page, the duty log (值班日志) for a month."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Annotated, Any

import typer

from core.actors import CLI
from ecowatch import context
from ecowatch.cli import app

rota_app = typer.Typer(no_args_is_help=True, help="The duty rota: import, show, who is on duty, overrides, log.")
app.add_typer(rota_app, name="rota")


def _at(now: str | None) -> dt.datetime:
    from core.timeutil import parse_time, utcnow

    at = parse_time(now) if now else utcnow()
    if at is None:
        raise typer.BadParameter(f"not a time: {now!r}", param_hint="--now")
    return at


def _echo(data: Any) -> None:
    typer.echo(json.dumps(data, ensure_ascii=False))


@rota_app.command("import")
def import_(file: Annotated[Path, typer.Argument(help="the 值班表: .csv (UTF-8 or GBK) or .xlsx")],
            dry_run: Annotated[bool, typer.Option("--dry-run", help="check only, store nothing")] = False,
            actor: Annotated[str, typer.Option(help="who imports (in the duty log)")] = CLI) -> None:
    """Import a rota: every line is checked first; one bad line and nothing is stored (exit 1, one
    error per line on stderr). The days the file covers replace what was stored for them."""
    from alerts.duty import import_rota
    from alerts.rota_file import RotaFileError
    from core.timeutil import utcnow

    settings = context.settings()
    config = context.alerts_config(settings)
    try:
        parsed, replaced = import_rota(context.store(settings), file, config.rota, actor, utcnow(), dry_run)
    except RotaFileError as exc:
        typer.echo(f"ecowatch: {exc}", err=True)
        raise typer.Exit(1) from exc
    for warning in parsed.warnings:
        typer.echo(f"warning: {warning}", err=True)
    for error in parsed.errors:
        typer.echo(f"error: {error}", err=True)
    stored = 0 if parsed.errors or dry_run else len(parsed.shifts)
    _echo({"file": str(file), "shifts": len(parsed.shifts), "stored": stored, "replaced": replaced,
           "dry_run": dry_run, "errors": parsed.errors, "warnings": parsed.warnings})
    if parsed.errors:
        raise typer.Exit(1)


def _day(text: str | None, at: dt.datetime) -> dt.date:
    from core.timeutil import to_local

    if not text:
        return to_local(at).date()
    try:
        return dt.date.fromisoformat(text)
    except ValueError as exc:
        raise typer.BadParameter(f"not a date like 2026-10-10: {text!r}", param_hint="--date") from exc


def _month(text: str) -> tuple[dt.datetime, dt.datetime]:
    from briefing.duty_log import month_bounds

    try:
        return month_bounds(text)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--month") from exc


@rota_app.command("show")
def show(date: Annotated[str | None, typer.Option(help="the day, e.g. 2026-10-10 (default: today)")] = None,
         month: Annotated[str | None, typer.Option(help="a whole month instead, e.g. 2026-10")] = None,
         now: Annotated[str | None, typer.Option(help="'today' as of this time (ISO 8601)")] = None) -> None:
    """The shifts of a day (those starting on it, and the night running into it) or a month, one
    JSON line each."""
    from core.timeutil import SHANGHAI

    if month:
        start, end = _month(month)
    else:
        day = _day(date, _at(now))
        start = dt.datetime.combine(day, dt.time(0, 0), tzinfo=SHANGHAI).astimezone(dt.UTC)
        end = start + dt.timedelta(days=1)
    settings = context.settings()
    with context.store(settings).read() as tx:
        shifts = tx.shifts_between(start, end)
    for shift in shifts:
        _echo(shift.to_dict())
    if not shifts:
        typer.echo("no shift on the rota for that period", err=True)


@rota_app.command("now")
def now_(now: Annotated[str | None, typer.Option(help="as of this time (ISO 8601; default: now)")] = None) -> None:
    """Who is on duty now (name, phone, until when, backup, leader on call), the next shift, and
    the stretches ahead with nobody on the rota."""
    from alerts.duty import duty_board
    from core.timeutil import to_local

    at = _at(now)
    settings = context.settings()
    config = context.alerts_config(settings)
    with context.store(settings).read() as tx:
        board = duty_board(tx, config.rota, at)
    _echo({"at": to_local(at).isoformat(), "on_duty": board.current.to_dict() if board.current else None,
           "next": board.following.to_dict() if board.following else None,
           "gaps": [{"from": to_local(a).isoformat(), "until": to_local(b).isoformat()} for a, b in board.gaps]})
    if board.current is None:
        typer.echo("warning: nobody is on the rota now: pages go to the leaders", err=True)


@rota_app.command("export")
def export(file: Annotated[Path, typer.Argument(help=".csv or .xlsx to write")],
           month: Annotated[str, typer.Option(help="the month, e.g. 2026-10")]) -> None:
    """Write a month of the rota as a 值班表 (the layout ``rota import`` reads)."""
    from alerts.rota_file import rota_rows, write_rota

    start, end = _month(month)
    settings = context.settings()
    config = context.alerts_config(settings)
    with context.store(settings).read() as tx:
        shifts = [s for s in tx.shifts_between(start, end) if s.starts_at >= start]
    write_rota(file, rota_rows(shifts, config.rota))
    _echo({"file": str(file), "shifts": len(shifts)})


@rota_app.command("override")
def override_(shift: Annotated[int, typer.Option(help="the shift's id (rota show)")],
              person: Annotated[str, typer.Option(help="who stands in instead (a console user)")],
              approved_by: Annotated[str, typer.Option(help="who approved it (审批人)")],
              tier: Annotated[str, typer.Option(help="primary | backup | leader")] = "primary",
              phone: Annotated[str | None, typer.Option(help="their phone (default: kept if unchanged)")] = None,
              reason: Annotated[str, typer.Option(help="代班 / 换班 and why")] = "",
              actor: Annotated[str, typer.Option(help="who records it (in the duty log)")] = CLI) -> None:
    """代班/换班: put someone else in one shift, recorded with who approved it."""
    from alerts.duty import DutyError, override
    from core.duty import Tier
    from core.errors import NotFoundError
    from core.timeutil import utcnow

    try:
        which = Tier(tier)
    except ValueError as exc:
        raise typer.BadParameter("primary, backup or leader", param_hint="--tier") from exc
    settings = context.settings()
    try:
        with context.store(settings).begin() as tx:
            changed = override(tx, shift, which, person, phone, approved_by=approved_by, reason=reason, actor=actor,
                               now=utcnow())
    except (DutyError, NotFoundError) as exc:
        typer.echo(f"ecowatch: {exc}", err=True)
        raise typer.Exit(1) from exc
    _echo(changed.to_dict())


@rota_app.command("run")
def run_(now: Annotated[str | None, typer.Option(help="as of this time (ISO 8601; default: now)")] = None) -> None:
    """One pass of the duty job (the scheduler runs it every minute): page, climb unacknowledged
    pages, write and chase hand-overs. Repeatable for a given --now."""
    from alerts.duty_job import run_duty
    from alerts.notifiers import build_notifiers
    from alerts.paging import link_maker

    at = _at(now)
    settings = context.settings()
    config = context.alerts_config(settings)
    store = context.store(settings)
    channels = build_notifiers(settings, store).keys()
    paging, handovers = run_duty(store, config, channels, at, link_maker(settings.token_secret(),
                                                                          settings.public_url))
    _echo({"pages_opened": paging.opened, "paged": paging.paged, "to_leaders": paging.to_leaders,
           "messages": paging.messages, "handovers": handovers.written, "handovers_late": handovers.late_paged})


@rota_app.command("ack")
def ack(page: Annotated[int, typer.Argument(help="the page's id")],
        actor: Annotated[str, typer.Option(help="who takes it (a duty or leader user)")]) -> None:
    """Acknowledge a page: it stops, and the audit and duty logs say who took it. ``--actor`` must
    be a console user: who may take a page (active, duty or leader) is alerts.acting's rule, asked
    in the transaction that takes it, as at the console."""
    from alerts.acting import ActorRefused
    from alerts.paging import acknowledge
    from core.timeutil import utcnow

    settings = context.settings()
    with context.store(settings).begin() as tx:
        if tx.get_user(actor) is None:  # a name that is no console user would act as the duty desk
            typer.echo(f"ecowatch: {actor!r} is not a console user (ecowatch user add)", err=True)
            raise typer.Exit(1)
        try:
            done = acknowledge(tx, page, actor, "cli", utcnow())
        except ActorRefused as exc:
            typer.echo(f"ecowatch: {exc}", err=True)
            raise typer.Exit(1) from exc
    if not done:
        typer.echo(f"ecowatch: page {page} is not waiting for acknowledgement", err=True)
        raise typer.Exit(1)
    _echo({"page": page, "acknowledged_by": actor})


@rota_app.command("log")
def log_(month: Annotated[str, typer.Option(help="the month, e.g. 2026-10")],
         out: Annotated[Path, typer.Option(help="file to write: .docx or .xlsx")]) -> None:
    """Export the duty log (值班日志) of a month: shifts, pages, acknowledgements, hand-overs, overrides."""
    from briefing.duty_log import build_duty_log, render_duty_log

    start, end = _month(month)
    fmt = out.suffix.lower().lstrip(".")
    if fmt not in ("docx", "xlsx"):
        raise typer.BadParameter("the file must end in .docx or .xlsx", param_hint="--out")
    settings = context.settings()
    with context.store(settings).read() as tx:
        log = build_duty_log(tx, month, start, end)
    out.write_bytes(render_duty_log(log, fmt))
    _echo({"file": str(out), "month": month, "shifts": len(log.shifts), "entries": len(log.entries)})
