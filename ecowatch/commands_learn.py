"""Learning from the duty desk: ``ecowatch labels export`` and ``ecowatch retrain``.

The desk's corrections are labels (alerts.labelling, storage.labels); exported, they are lines of
the ``ecowatch eval`` format. ``retrain`` trains new models on the bundled sets plus the labels
(nlp.training), keeps them beside the old ones (nlp.classifiers.ModelStore under the data folder)
and makes them live only with ``--promote`` when no figure dropped by more than the margin.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from ecowatch import context
from ecowatch.cli import app

labels_app = typer.Typer(no_args_is_help=True, help="The duty desk's corrections, as labelled lines.")
app.add_typer(labels_app, name="labels")


def _since(value: str | None) -> dt.datetime | None:
    if not value:
        return None
    try:
        when = dt.datetime.fromisoformat(value)
    except ValueError as exc:
        raise typer.BadParameter(f"not an ISO date or time: {value!r}", param_hint="--since") from exc
    if when.tzinfo is None:  # a date or a local time: Beijing time, as the desk reads it
        from core.timeutil import SHANGHAI

        when = when.replace(tzinfo=SHANGHAI)
    return when


def exported_lines(since: dt.datetime | None = None, anonymise: bool = False) -> list[dict[str, Any]]:
    """The labelled posts of the configured store as ``ecowatch eval`` lines."""
    from alerts.labelling import export_line

    with context.store(context.settings()).read() as tx:
        items = tx.labelled_posts(since)
    return [export_line(item, anonymise=anonymise) for item in items]


@labels_app.command("export")
def export(since: Annotated[str | None, typer.Option(help="only posts labelled at or after (ISO date/time, "
                                                           "Beijing time when no zone)")] = None,
           anonymise: Annotated[bool, typer.Option("--anonymise", help="drop authors, addresses and officers' "
                                                                        "names")] = False,
           out: Annotated[Path | None, typer.Option(help="write here instead of standard output")] = None) -> None:
    """Write the labels as JSON Lines (the ``ecowatch eval`` format, one line per post: the desk's
    corrections laid over the analysis; ``fields`` names what the desk asserted)."""
    lines = exported_lines(_since(since), anonymise)
    text = "".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines)
    if out is None:
        sys.stdout.write(text)
    else:
        out.write_text(text, encoding="utf-8")
        typer.echo(json.dumps({"labels": len(lines), "file": str(out)}, ensure_ascii=False), err=True)


def _read_labels(paths: list[Path]) -> list[dict[str, Any]]:
    from ecowatch.commands_nlp import read_labelled

    return [row for path in paths for row in read_labelled(path)]


@app.command()
def retrain(labels: Annotated[list[Path] | None, typer.Option(exists=True, dir_okay=False,
                                                              help="exported labels (default: the store's)")] = None,
            promote: Annotated[bool, typer.Option("--promote", help="make the new models live if no figure "
                                                                     "dropped by more than the margin")] = False,
            rollback: Annotated[bool, typer.Option("--rollback", help="put the models live before back")] = False,
            margin: Annotated[float, typer.Option(min=0.0, max=1.0, help="largest drop of any figure allowed")] = 0.02,
            recent: Annotated[float, typer.Option(min=0.0, max=0.9, help="share of the newest labels kept out of "
                                                                         "training to judge by")] = 0.2,
            sets: Annotated[list[str] | None, typer.Option("--set", help="bundled training set (default: all)")] = None,
            holdout: Annotated[list[str] | None, typer.Option(help="held-out set to judge by (default: all)")] = None,
            c: Annotated[tuple[float, float, float], typer.Option(help="regularisation C of the environmental, "
                                                                       "topic and polarity models")] = (10.0, 10.0,
                                                                                                        10.0)) -> None:
    """Train new models on the bundled sets plus the desk's labels, judge them against the live
    ones on the held-out sets and the most recent labels, keep them beside the old ones; with
    ``--promote`` make them live when no figure dropped by more than ``--margin`` (exit 1 when
    refused). ``--rollback`` puts the previously live models back. Prints a JSON report."""
    from nlp.classifiers import ModelStore

    settings = context.settings()
    models = ModelStore(settings.models_dir)
    if rollback:
        try:
            back = models.rollback()
        except LookupError as exc:
            typer.echo(f"ecowatch: {exc}", err=True)
            raise typer.Exit(1) from exc
        typer.echo(json.dumps({"live": back or "bundled", "rolled_back": True}))
        return
    from nlp.training import DEFAULT_C, HOLDOUT_SETS, TRAINING_SETS
    from nlp.training import retrain as run

    try:  # training needs scikit-learn (the analyser itself scores the weights in pure Python)
        import sklearn  # noqa: F401
    except ImportError as exc:
        typer.echo("ecowatch: retrain needs scikit-learn: pip install 'ecowatch[train]'", err=True)
        raise typer.Exit(2) from exc
    rows = _read_labels(labels) if labels else exported_lines()
    live_version = models.live_version()
    analyzer = context.analyzer(settings)
    live = analyzer.classifiers
    try:
        new, judgement = run(analyzer, live, rows, sets=sets or TRAINING_SETS, holdouts=holdout or HOLDOUT_SETS,
                             cs=dict(zip(DEFAULT_C, c, strict=True)), recent=recent, margin=margin)
    except (FileNotFoundError, ValueError) as exc:
        raise typer.BadParameter(str(exc)) from exc
    report = {"previous": live_version or "bundled", "previous_version": live.version if live else None,
              **judgement.to_dict()}
    version = models.add(new, report)
    promoted = promote and judgement.promotable
    if promoted:
        models.promote(version)
    typer.echo(json.dumps({"version": version, "promoted": promoted, "live": models.live_version() or "bundled",
                           **report}, ensure_ascii=False, indent=1))
    if promote and not promoted:
        typer.echo(f"ecowatch: not promoted: dropped beyond the margin {margin}: "
                   + ", ".join(f"{k} -{v}" for k, v in judgement.drops.items()), err=True)
        raise typer.Exit(1)
