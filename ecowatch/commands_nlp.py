"""CLI commands about analysis quality: ``ecowatch eval``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from core.settings import load_settings
from ecowatch import context
from ecowatch.cli import app


def read_labelled(path: Path) -> list[dict[str, Any]]:
    """Read labelled JSON Lines; a bad line is a clear error naming the file and line."""
    rows: list[dict[str, Any]] = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            raise typer.BadParameter(f"{path}:{number}: not JSON ({exc})") from exc
        if not isinstance(obj, dict) or not isinstance(obj.get("text"), str) or "relevant" not in obj:
            raise typer.BadParameter(f'{path}:{number}: needs an object with "text" and "relevant"')
        rows.append(obj)
    return rows


@app.command("eval")
def eval_(file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="labelled JSON Lines")],
          as_json: Annotated[bool, typer.Option("--json", help="machine-readable report")] = False,
          misses: Annotated[int, typer.Option(help="misses to list in the text report (-1: all)")] = -1) -> None:
    """Score ``analyze`` against labelled lines (relevant, unit_code, topic(s), polarity).

    Prints which models were scored (``model``: promoted in the data folder, or bundled), relevance
    F1, unit accuracy, topic accuracy, negative-class F1, polarity macro-F1 and the list of misses.
    When lines carry ``event`` (incident sets), the lines are also imported and processed in
    published-time order in a throwaway store, and the incident figures follow: severe recall,
    B-cubed precision/recall/F1, follow-ups attached, incidents opened by follow-ups, grade agreement.
    """
    from alerts.evaluation import format_incident_report, score_incidents
    from alerts.replay import replay
    from nlp.classifiers import ModelStore
    from nlp.evaluation import format_report, score

    gold = read_labelled(file)
    settings = load_settings()
    analyzer = context.analyzer(settings)
    # Which models were scored: the data folder's promoted ones, if any, else the bundled ones.
    # Said in the report because the same command gives other figures on a machine where
    # `retrain --promote` ran, and a figure quoted without its model cannot be checked.
    live = ModelStore(settings.models_dir).live_version()
    model = {"version": analyzer.classifiers.version if analyzer.classifiers else None,
             "promoted": live is not None}
    predicted = [analyzer.analyze(g["text"]).to_contract(g.get("id")) for g in gold]
    report = score(gold, predicted)
    incidents = None
    if any("event" in g for g in gold):
        try:
            incidents = score_incidents(gold, replay(gold, analyzer))
        except ValueError as exc:
            raise typer.BadParameter(f"{file}: {exc}") from exc
    if as_json:
        out = {"file": str(file), "model": model, **report.to_dict()}
        if incidents is not None:
            out["incidents"] = incidents.to_dict()
        typer.echo(json.dumps(out, ensure_ascii=False, indent=1))
    else:
        origin = f"promoted in {settings.models_dir}" if model["promoted"] else "bundled with the package"
        typer.echo(f"models: {model['version']} ({origin})")
        typer.echo(format_report(report, str(file), None if misses < 0 else misses))
        if incidents is not None:
            typer.echo(format_incident_report(incidents))
