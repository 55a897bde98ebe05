"""CLI of information sharing: ``ecowatch report`` writes an incident's special report (舆情专报)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from core.actors import CLI_DESK
from ecowatch import context
from ecowatch.cli import app
from ecowatch.commands_alerts import NowOption, _when


@app.command()
def report(incident_id: Annotated[int, typer.Argument(help="incident id (较大 or above)")],
           fmt: Annotated[str, typer.Option("--format", help="docx | html")] = "docx",
           out: Annotated[Path | None, typer.Option(help="file to write (default: 专报-<id>-<seq>.<format>)")] = None,
           kind: Annotated[str | None, typer.Option(help="first | followup | final (default: 首报, then 续报)")] = None,
           actor: Annotated[str, typer.Option(help="who writes it (kept with the version)")] = CLI_DESK,
           preview: Annotated[bool, typer.Option("--preview", help="write the file only; keep no version")] = False,
           now: NowOption = None) -> None:
    """Write an incident's special report from the stored records and keep it as the next version."""
    from briefing.report_service import build_special_report, keep_special_report
    from briefing.special_report import render
    from core.jurisdiction import load_jurisdiction
    from core.sharing import ReportKind

    if fmt not in ("docx", "html"):
        raise typer.BadParameter("--format must be docx or html")
    if kind is not None and kind not in set(ReportKind):
        raise typer.BadParameter(f"--kind must be one of {', '.join(ReportKind)}")
    settings = context.settings()
    store = context.store(settings)
    built = build_special_report(store, load_jurisdiction(settings.jurisdiction), incident_id,
                                 ReportKind(kind) if kind else None, _when(now))
    kept = None if preview else keep_special_report(store, built, actor)
    target = out or Path(f"专报-{incident_id}-{built.seq}.{fmt}")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(render(built, fmt))
    typer.echo(json.dumps({"file": str(target), "incident_id": incident_id, "kind": built.kind.value,
                           "seq": built.seq, "report_id": kept.id if kept else None, **built.figures()},
                          ensure_ascii=False))


@app.command("send-reports")
def send_reports(now: NowOption = None) -> None:
    """Send the due report sendings (报送) once: email with the DOCX, or the platform's webhook.
    Exit 1 when one gave up (it stays visible as failed; the report counts as not sent)."""
    from dataclasses import asdict

    from alerts.reporting import deliver_sendings, report_notifiers

    settings = context.settings()
    outcome = deliver_sendings(context.store(settings), report_notifiers(settings), context.alerts_config(settings),
                               _when(now))
    typer.echo(json.dumps(asdict(outcome)))
    if outcome.failed:
        raise typer.Exit(1)


@app.command()
def inbound(file: Annotated[Path, typer.Argument(help="JSON array, JSON Lines or CSV of items handed down",
                                                 exists=True, dir_okay=False, readable=True)],
            actor: Annotated[str, typer.Option(help="who enters them (kept in the audit log)")] = CLI_DESK,
            now: NowOption = None) -> None:
    """Enter items handed down (上级交办) by the city bureau or 网信办: one JSON line per item, each
    taken whole or not at all; a bad item is that line's error; exit 1 if any failed."""
    from alerts.inbound import InboundError, parse_request, read_items, receive

    settings = context.settings()
    store, config = context.store(settings), context.alerts_config(settings)
    at, failed = _when(now), False
    for number, item, error in read_items(file):
        if error is None and item is not None:
            try:
                got = receive(store, config, parse_request(item), actor, at)
            except InboundError as exc:
                error = str(exc)
            else:
                typer.echo(json.dumps({"line": number, "incident_id": got.incident_id, "inbound_id": got.inbound_id,
                                       "duplicate": got.duplicate, "triage": got.triage, "late": got.late}))
                continue
        failed = True
        typer.echo(json.dumps({"line": number, "error": error}, ensure_ascii=False))
    if failed:
        raise typer.Exit(1)


@app.command("briefs-tally")
def briefs_tally(month: Annotated[str | None, typer.Option(help="YYYY-MM (Beijing time; default: this month)")] = None,
                 fmt: Annotated[str, typer.Option("--format", help="json | csv | docx | html")] = "json",
                 out: Annotated[Path | None, typer.Option(help="file to write (default: standard output)")] = None,
                 ) -> None:
    """The month's 信息简报 per submitter against its quota (a submitter with none included): JSON lines,
    the CSV export for the assessment, or the monthly summary as DOCX/HTML."""
    from briefing.briefs_service import month_tally, render_tally
    from briefing.quota import QuotaError, month_of
    from core.jurisdiction import load_jurisdiction
    from core.timeutil import utcnow

    if fmt not in ("json", "csv", "docx", "html"):
        raise typer.BadParameter("--format must be json, csv, docx or html")
    if fmt == "docx" and out is None:
        raise typer.BadParameter("--format docx needs --out FILE")
    settings = context.settings()
    jurisdiction = load_jurisdiction(settings.jurisdiction)
    chosen = month or month_of(utcnow())
    try:
        rows = month_tally(context.store(settings), jurisdiction, chosen)
    except QuotaError as exc:
        raise typer.BadParameter(str(exc)) from exc
    if fmt == "json":
        text = "".join(json.dumps({"month": chosen, "submitter": r.submitter.code, "name": r.submitter.name,
                                   "kind": r.submitter.kind.value, "quota": r.submitter.quota,
                                   "submitted": r.submitted, "behind": r.behind}, ensure_ascii=False) + "\n"
                       for r in rows)
        data = text.encode("utf-8")
    else:
        data = render_tally(jurisdiction, chosen, rows, fmt)
    if out is None:
        typer.echo(data.decode("utf-8"), nl=False)
        return
    out.write_bytes(data)
    typer.echo(json.dumps({"file": str(out), "month": chosen, "behind": [r.submitter.name for r in rows if r.behind]},
                          ensure_ascii=False))
