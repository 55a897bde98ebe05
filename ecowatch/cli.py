"""The ``ecowatch`` command line. Scriptable: JSON on stdout where asked, exit status tells."""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from core.errors import ConfigError, EcowatchError
from core.settings import Settings, load_settings

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="ecowatch: environmental public-opinion monitoring for a district ecology bureau.")


def _settings(**overrides: Any) -> Settings:
    try:
        settings = load_settings(**{k: v for k, v in overrides.items() if v is not None})
    except Exception as exc:  # pydantic's message names the bad field
        raise typer.BadParameter(f"configuration: {exc}") from exc
    settings.ensure_dirs()
    return settings


def _store(settings: Settings):
    from storage.sql import open_store

    return open_store(settings.sqlalchemy_url, settings.snapshot_dir)


def _sources(settings: Settings, variables: dict[str, str] | None = None, path: Path | None = None):
    from core.jurisdiction import load_jurisdiction
    from crawlers.sources import load_sources

    path = path or settings.sources_file or load_jurisdiction(settings.jurisdiction).sources_path
    return load_sources(path, variables) if path else []


@app.command()
def serve(demo: Annotated[bool, typer.Option(help="serve bundled sample sources locally and crawl them")] = False,
          host: Annotated[str | None, typer.Option(help="address to listen on")] = None,
          port: Annotated[int | None, typer.Option(help="port to listen on")] = None) -> None:
    """Start the API, the console and the scheduler (collect, process)."""
    import uvicorn

    from alerts.config import alerts_config
    from core.jurisdiction import load_jurisdiction
    from dashboard_api import create_app
    from ecowatch.scheduler import Pipeline, build_scheduler

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    settings = _settings(host=host, port=port)
    if demo:
        from ecowatch.demo.server import serve_demo_sources

        # Demo data lives apart from real data, so trying the demo never pollutes a deployment.
        settings = _settings(host=host, port=port, data_dir=settings.data_dir / "demo")
        _server, base = serve_demo_sources()
        sources = _sources(settings, {"base": base}, Path(__file__).parent / "demo" / "sources.toml")
        typer.echo(f"demo sources served at {base}")
    else:
        sources = _sources(settings)
    store = _store(settings)
    jurisdiction = load_jurisdiction(settings.jurisdiction)
    if demo:
        from ecowatch.commands_users import DEMO_PASSWORD, seed_demo_users

        if seed_demo_users(store, jurisdiction):
            typer.echo(f"demo users: duty, leader, admin, and each street/town by name (e.g. 石马河街道); "
                       f"password {DEMO_PASSWORD}")
    scheduler = build_scheduler(Pipeline(settings, store, sources))
    scheduler.start()
    typer.echo(f"ecowatch console: http://{settings.host}:{settings.port}/  (data: {settings.data_dir})")
    try:
        api = create_app(store, jurisdiction, {s.name: s.expected_every_hours for s in sources if s.enabled},
                         secret_key=settings.token_secret(), token_minutes=settings.token_minutes,
                         login_attempts=settings.login_attempts, login_window_seconds=settings.login_window_seconds,
                         alerts=alerts_config(jurisdiction, settings.contacts_file))
        api.state.briefings_dir = settings.data_dir / "briefings"  # where the scheduler keeps them
        uvicorn.run(api, host=settings.host, port=settings.port, log_level="warning")
    finally:
        scheduler.shutdown(wait=False)


@app.command("import")
def import_(file: Annotated[Path, typer.Argument(exists=True, dir_okay=False,
                                                 help="JSON Lines, JSON array or CSV file")]) -> None:
    """Store posts from JSON Lines, JSON or CSV (MediaCrawler exports too); importing twice adds nothing."""
    from crawlers.imports import read_file

    settings = _settings()
    parsed = read_file(file)
    store = _store(settings)
    with store.begin() as tx:
        result = tx.add_posts(parsed.posts)
    for err in parsed.errors:
        typer.echo(f"{file}:{err.line}: {err.error}", err=True)
    typer.echo(json.dumps({"read": len(parsed.posts), "new": result.new, "updated": result.updated,
                           "duplicate": result.duplicate, "errors": len(parsed.errors)}))
    if parsed.errors:
        raise typer.Exit(1)


@app.command()
def collect(source: Annotated[str | None, typer.Option(help="only this source")] = None) -> None:
    """Run every enabled source (or one) once and print each run's report."""
    from dataclasses import asdict

    from crawlers.collect import collect as run

    settings = _settings()
    store = _store(settings)
    failed = False
    for src in _sources(settings):
        if (source and src.name != source) or (not source and not src.enabled):
            continue
        report = run(src, store, settings)
        failed |= not report.ok
        typer.echo(json.dumps(asdict(report), ensure_ascii=False))
    if failed:
        raise typer.Exit(1)


@app.command()
def process() -> None:
    """Analyse what is stored but not yet processed, and open or feed incidents."""
    from dataclasses import asdict

    from alerts.service import process_pending
    from core.jurisdiction import load_jurisdiction
    from nlp.analyzer import Analyzer

    settings = _settings()
    report = process_pending(_store(settings), Analyzer(load_jurisdiction(settings.jurisdiction)))
    typer.echo(json.dumps(asdict(report)))


@app.command()
def incidents(as_json: Annotated[bool, typer.Option("--json", help="one JSON array")] = False,
              limit: Annotated[int, typer.Option(min=1)] = 1000) -> None:
    """Print the incidents, newest first."""
    settings = _settings()
    with _store(settings).read() as tx:
        items = tx.list_incidents(limit=limit)
    rows = [{"id": i.id, "title": i.title, "unit": i.unit, "unit_code": i.unit_code, "department": i.department,
             "topic": i.topic, "grade": i.grade.value, "state": i.state.value,
             "deadlines": {k: v.isoformat() for k, v in i.deadlines.items()}, "post_count": i.post_count,
             "opened_at": i.opened_at.isoformat()} for i in items]
    if as_json:
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=1))
        return
    for r in rows:
        typer.echo(f"#{r['id']:<5} {r['grade']:<6} {r['state']:<9} {r['unit'] or '待分拣':<8} {r['topic']:<7} "
                   f"{r['post_count']:>3} {r['title']}")


@app.command()
def analyze() -> None:
    """Read JSON Lines ({"id", "text"}) on stdin, write one analysis line per input on stdout.

    A malformed line gets {"id": ..., "error": ...}; the exit status is 1 if any line failed.
    """
    from core.jurisdiction import load_jurisdiction
    from nlp.analyzer import Analyzer

    settings = load_settings()
    analyzer = Analyzer(load_jurisdiction(settings.jurisdiction))
    failed = False
    out = sys.stdout
    for number, line in enumerate(sys.stdin, 1):
        if not line.strip():
            continue
        post_id: Any = None
        try:
            obj = json.loads(line)
            if not isinstance(obj, dict):
                raise ValueError("line is not a JSON object")
            post_id = obj.get("id")
            text = obj.get("text")
            if not isinstance(text, str):
                raise ValueError('missing "text" string')
            result = analyzer.analyze(text).to_contract(post_id)
        except (ValueError, TypeError) as exc:
            failed = True
            result = {"id": post_id, "error": f"line {number}: {exc}"}
        out.write(json.dumps(result, ensure_ascii=False) + "\n")
    out.flush()
    if failed:
        raise typer.Exit(1)


import ecowatch.commands_alerts  # noqa: E402  (registers escalate, notify, notifications, act)
import ecowatch.commands_brief  # noqa: E402  (registers `brief`)
import ecowatch.commands_crawl  # noqa: E402  (registers `crawl-worker`)
import ecowatch.commands_nlp  # noqa: E402  (registers `eval`)
import ecowatch.commands_users  # noqa: E402, F401  (registers `ecowatch user`)


def main() -> None:
    """Console-script entry point: clear one-line errors instead of tracebacks."""
    try:
        app()
    except (ConfigError, EcowatchError) as exc:
        typer.echo(f"ecowatch: {exc}", err=True)
        raise SystemExit(2) from exc


if __name__ == "__main__":
    # Under `python -m ecowatch.cli` this file is __main__, a second copy of the module: command
    # modules register on the importable ecowatch.cli.app, so run that one.
    from ecowatch.cli import main as _main

    _main()
