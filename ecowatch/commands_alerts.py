"""CLI commands of the workflow: escalate, deliver notifications, list them, act on incidents."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Annotated, Any

import typer

from core.timeutil import parse_time, utcnow
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
    from alerts.escalation_job import run_escalation

    settings = context.settings()
    report = run_escalation(context.store(settings), context.alerts_config(settings), _when(now))
    typer.echo(json.dumps(asdict(report)))


@app.command("notify")
def notify_(now: NowOption = None) -> None:
    """Deliver the due notifications of the outbox once (email, WeCom, DingTalk, in-app feed)."""
    from alerts.delivery import deliver
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


@app.command()
def act(action: Annotated[str, typer.Argument(help="an action of alerts.registry: assign, sign, respond, resolve, "
                                                   "close, reject, return, merge, extend, grade, record, complex, "
                                                   "ack, reassign; corrections: dismiss, edit, split, move, undo; "
                                                   "会办: copy, reply, withdraw_copy "
                                                   "(an unknown one is answered with the list)")],
        incident_id: Annotated[int, typer.Argument(help="incident id")],
        actor: Annotated[str, typer.Option(help="who acts (recorded in the audit log)")],
        unit: Annotated[str | None, typer.Option(help="unit code (assign)")] = None,
        department: Annotated[str | None, typer.Option(help="department code or name (assign, copy, reply, "
                                                                    "withdraw_copy)")] = None,
        text: Annotated[str | None, typer.Option(help="reason, response or feedback")] = None,
        step: Annotated[str | None, typer.Option(help="step (extend, record, ack)")] = None,
        until: Annotated[str | None, typer.Option(help="new deadline (extend)")] = None,
        grade: Annotated[str | None, typer.Option(help="blue|yellow|orange|red (grade)")] = None,
        into: Annotated[int | None, typer.Option(help="target incident (merge, move)")] = None,
        post: Annotated[list[int] | None, typer.Option(help="a post concerned (dismiss, edit, split, move; "
                                                            "repeatable)")] = None,
        topic: Annotated[str | None, typer.Option(help="a post's topic (edit)")] = None,
        polarity: Annotated[str | None, typer.Option(help="neg|neu|pos (edit)")] = None,
        scope: Annotated[str | None, typer.Option(help="environment|jurisdiction: why not ours (dismiss)")] = None,
        now: NowOption = None) -> None:
    """Apply one workflow action to an incident and print the incident's new state (the actions of
    alerts.registry, as the API's; the operator acts as the duty desk)."""
    # Imported here: the workflow loads the store layer, which every other command need not wait for.
    from alerts.registry import CLI_ACTIONS, ActionInput, apply

    spec = CLI_ACTIONS.get(action)
    if spec is None:
        raise typer.BadParameter(f"unknown action {action!r}; one of {', '.join(CLI_ACTIONS)}")
    if spec.name == "merge" and into is None:
        raise typer.BadParameter("merge needs --into")
    if spec.name == "extend" and (not step or not until):
        raise typer.BadParameter("extend needs --step and --until")
    settings = context.settings()
    at = _when(now) or utcnow()
    inp = ActionInput(actor=actor, now=at, text=text, unit_code=unit, department=department, step=step,
                      until=_when(until), grade=grade, into=into, post_ids=tuple(post or ()), topic=topic,
                      polarity=polarity, scope=scope)
    outcome = apply(context.store(settings), context.alerts_config(settings), spec.name, incident_id, inp)
    if spec.name == "acknowledge":
        typer.echo(json.dumps({"acknowledged": list(outcome.acknowledged)}))
        return
    # A merge (or a move) answers with the incident merged into, a split with the new incident.
    result = outcome.merged_into or outcome.created or outcome.incident
    typer.echo(json.dumps({"id": result.id, "state": result.state.value, "grade": result.grade.value,
                           "unit": result.unit, "department": result.department, "returns": result.returns,
                           "deadlines": {k: v.isoformat() for k, v in result.deadlines.items()}},
                          ensure_ascii=False))
