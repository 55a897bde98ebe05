"""CLI commands of the workflow: escalate, deliver notifications, list them, act on incidents."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Annotated, Any

import typer

from core.timeutil import parse_time
from ecowatch import context
from ecowatch.cli import app


def _when(value: str | None) -> Any:
    if value is None:
        return None
    parsed = parse_time(value)
    if parsed is None:
        raise typer.BadParameter(f"not a time: {value!r} (use ISO 8601, e.g. 2026-12-01T09:00:00+08:00)")
    return parsed


NowOption = Annotated[str | None, typer.Option("--now", help="run as of this time (ISO 8601; default: now)")]


@app.command()
def escalate(now: NowOption = None) -> None:
    """Escalate overdue steps (催办 → 督办 → 领导) as of --now, then print what was done."""
    from alerts.jobs import run_escalation

    settings = context.settings()
    report = run_escalation(context.store(settings), context.alerts_config(settings), _when(now))
    typer.echo(json.dumps(asdict(report)))


@app.command("notify")
def notify_(now: NowOption = None) -> None:
    """Deliver the due notifications of the outbox once (email, WeCom, DingTalk, in-app feed)."""
    from alerts.jobs import deliver
    from alerts.notifiers import build_notifiers

    settings = context.settings()
    store = context.store(settings)
    report = deliver(store, build_notifiers(settings, store), context.alerts_config(settings), _when(now))
    typer.echo(json.dumps(asdict(report)))
    if report.failed:
        raise typer.Exit(1)


@app.command()
def notifications(status: Annotated[str | None, typer.Option(help="pending | sent | failed")] = None,
                  limit: Annotated[int, typer.Option(min=1)] = 50) -> None:
    """Print outbox messages as JSON lines, newest first (failures show last_error)."""
    settings = context.settings()
    with context.store(settings).read() as tx:
        rows = tx.list_outbox(status=status, limit=limit)
    for row in rows:
        typer.echo(json.dumps({k: v.isoformat() if hasattr(v, "isoformat") else v for k, v in row.items()},
                              ensure_ascii=False))


ACTIONS = ("assign", "sign", "respond", "resolve", "close", "reject", "return", "merge", "extend",
           "grade", "record", "complex", "ack")


@app.command()
def act(action: Annotated[str, typer.Argument(help=" | ".join(ACTIONS))],
        incident_id: Annotated[int, typer.Argument(help="incident id")],
        actor: Annotated[str, typer.Option(help="who acts (recorded in the audit log)")],
        unit: Annotated[str | None, typer.Option(help="unit code (assign)")] = None,
        department: Annotated[str | None, typer.Option(help="department code or name (assign)")] = None,
        text: Annotated[str | None, typer.Option(help="reason, response or feedback")] = None,
        step: Annotated[str | None, typer.Option(help="step (extend, record, ack)")] = None,
        until: Annotated[str | None, typer.Option(help="new deadline (extend)")] = None,
        grade: Annotated[str | None, typer.Option(help="blue|yellow|orange|red (grade)")] = None,
        into: Annotated[int | None, typer.Option(help="target incident (merge)")] = None,
        now: NowOption = None) -> None:
    """Apply one workflow action to an incident and print the incident's new state."""
    from alerts import actions

    settings = context.settings()
    store, config, at = context.store(settings), context.alerts_config(settings), _when(now)
    if action not in ACTIONS:
        raise typer.BadParameter(f"unknown action {action!r}; one of {', '.join(ACTIONS)}")
    if action == "assign":
        result: Any = actions.assign(store, config, incident_id, unit, actor, department=department, reason=text,
                                     now=at)
    elif action == "sign":
        result = actions.sign(store, config, incident_id, actor, now=at)
    elif action == "close":
        result = actions.close(store, config, incident_id, actor, text, now=at)
    elif action in ("respond", "resolve", "reject"):
        result = getattr(actions, action)(store, config, incident_id, actor, text, now=at)
    elif action == "return":
        result = actions.return_incident(store, config, incident_id, actor, text, now=at)
    elif action == "merge":
        if into is None:
            raise typer.BadParameter("merge needs --into")
        result = actions.merge(store, config, incident_id, into, actor, text, now=at)
    elif action == "extend":
        if not step or not until:
            raise typer.BadParameter("extend needs --step and --until")
        result = actions.extend(store, config, incident_id, step, _when(until), actor, text, now=at)
    elif action == "grade":
        result = actions.override_grade(store, config, incident_id, grade or "", actor, text, now=at)
    elif action == "record":
        result = actions.record_step(store, config, incident_id, step or "", actor, text, now=at)
    elif action == "complex":
        result = actions.set_complex(store, config, incident_id, actor, text, now=at)
    else:
        typer.echo(json.dumps({"acknowledged": actions.acknowledge(store, config, incident_id, actor, step, now=at)}))
        return
    typer.echo(json.dumps({"id": result.id, "state": result.state.value, "grade": result.grade.value,
                           "unit": result.unit, "department": result.department, "returns": result.returns,
                           "deadlines": {k: v.isoformat() for k, v in result.deadlines.items()}},
                          ensure_ascii=False))
