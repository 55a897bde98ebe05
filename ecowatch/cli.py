"""The ``ecowatch`` command line: the root Typer app and the core commands (serve, import,
collect, process, incidents, analyze). Scriptable: JSON on stdout where asked, exit status tells.

Command modules (``ecowatch.commands_*``) import this module's ``app`` and register onto it, as
FastAPI routers are included; this module imports none of them, so there is no import cycle.
``ecowatch.main`` imports every one and is the entry point (``ecowatch``, ``python -m ecowatch``).
Shared helpers (settings, store, sources, alerts config) are in ``ecowatch.context``.
"""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from core.settings import load_settings
from ecowatch import context

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="ecowatch: environmental public-opinion monitoring for a district ecology bureau.")


@app.command()
def serve(demo: Annotated[bool, typer.Option(help="serve bundled sample sources locally and crawl them")] = False,
          host: Annotated[str | None, typer.Option(help="address to listen on")] = None,
          port: Annotated[int | None, typer.Option(help="port to listen on")] = None,
          workers: Annotated[int, typer.Option(min=1, max=64, help="API worker processes (uvicorn workers); the "
                                                                   "scheduled jobs run once, in this process")] = 1,
          scheduler: Annotated[bool, typer.Option(help="run the scheduled jobs (collect, process, escalate...) "
                                                       "when no other server on this database runs them")] = True
          ) -> None:
    """Start the API, the console and the scheduler (collect, process)."""
    import uvicorn

    from core.jurisdiction import load_jurisdiction
    from ecowatch.scheduler import Leadership, Pipeline, build_scheduler, lead
    from ecowatch.serving import LOG_FORMAT, build_api

    if demo and workers > 1:
        typer.echo("ecowatch serve: --demo runs in one process; leave out --workers", err=True)
        raise typer.Exit(2)
    settings = context.settings(host=host, port=port)
    if demo:
        from ecowatch.demo.server import serve_demo_sources

        # Demo data lives apart from real data, so trying the demo never pollutes a deployment.
        settings = context.settings(host=host, port=port, data_dir=settings.data_dir / "demo")
        _server, base = serve_demo_sources()
        sources = context.sources(settings, {"base": base}, Path(__file__).parent / "demo" / "sources.toml")
        typer.echo(f"demo sources served at {base}")
    else:
        sources = context.sources(settings)
    store = context.store(settings)
    logging.basicConfig(level=logging.INFO, format=LOG_FORMAT)
    jurisdiction = load_jurisdiction(settings.jurisdiction)
    if demo:
        from ecowatch.commands_users import DEMO_PASSWORD, seed_demo_users

        if seed_demo_users(store, jurisdiction):
            typer.echo(f"demo users: duty, leader, admin, each street/town and each department by name (e.g. "
                       f"石马河街道, 区水利局); password {DEMO_PASSWORD}")
    pipeline = Pipeline(settings, store, sources)
    if demo:
        import time

        from core.timeutil import utcnow
        from ecowatch.demo.month import build_demo_month

        started = time.monotonic()
        month = build_demo_month(store, lambda: pipeline.analyzer, context.alerts_config(settings), settings.data_dir,
                                 utcnow(), typer.echo)
        if month:
            typer.echo(f"demo month built in {time.monotonic() - started:.0f} s: {month.posts} posts, "
                       f"{month.incidents} incidents, {month.actions} actions")
    jobs = build_scheduler(pipeline)
    leading = lead(jobs, Leadership(store)) if scheduler else None
    typer.echo(f"ecowatch console: http://{settings.host}:{settings.port}/  (data: {settings.data_dir}"
               + (f"; {workers} worker processes" if workers > 1 else "") + ")")
    # uvicorn believes X-Forwarded-For from 127.0.0.1 unless told otherwise: a local client could
    # then pick any address and slip past the login limiter. Only a configured proxy is believed.
    options: dict[str, Any] = dict(host=settings.host, port=settings.port, log_level="warning",
                                   proxy_headers=bool(settings.trusted_proxies),
                                   forwarded_allow_ips=settings.trusted_proxies or "")
    try:
        if workers == 1:
            uvicorn.run(build_api(settings, store, sources), **options)
        else:  # each worker builds its own app from the same settings (ecowatch.serving.worker_app)
            uvicorn.run("ecowatch.serving:worker_app", factory=True, workers=workers, **options)
    finally:
        if leading is not None:
            leading.set()
        if jobs.running:
            jobs.shutdown(wait=False)


@app.command("import")
def import_(file: Annotated[Path, typer.Argument(exists=True, dir_okay=False,
                                                 help="JSON Lines, JSON, CSV or XLSX export")],
            map_: Annotated[str | None, typer.Option("--map", help="field=column pairs, e.g. "
                                                     "text=内容,published_at=发布时间,url=链接")] = None,
            mapping: Annotated[Path | None, typer.Option(exists=True, dir_okay=False,
                                                         help='TOML file of field = "column" pairs')] = None,
            dry_run: Annotated[bool, typer.Option("--dry-run", help="show how the first rows read; store nothing")]
            = False) -> None:
    """Store posts from another collector's export (weibo-crawler, weiboSpider, MediaCrawler, 舆情
    system exports, 12345 work orders, or ecowatch's own JSON Lines); importing twice adds nothing.

    Prints one JSON report; each refused line goes to stderr as FILE:LINE: [column] reason, and
    the exit status is 1 if any line was refused (2 if the file as a whole could not be read).
    """
    import datetime as dt

    from core.errors import EcowatchError
    from core.timeutil import utcnow
    from crawlers.import_formats import parse_map_option, read_mapping_file
    from crawlers.imports import ImportOptions, read_file
    from ecowatch.progress import progress

    settings = context.settings()
    now = utcnow()
    try:
        columns = read_mapping_file(mapping.read_text(encoding="utf-8")) if mapping else {}
        columns.update(parse_map_option(map_) if map_ else {})
        options = ImportOptions(now=now, future_tolerance=dt.timedelta(hours=settings.import_future_tolerance_hours),
                                max_chars=settings.max_post_chars, mapping=columns)
        parsed = read_file(file, options)
    except (EcowatchError, ValueError, OSError) as exc:
        typer.echo(f"{file}: {exc}", err=True)
        raise typer.Exit(2) from None
    for err in parsed.errors:
        typer.echo(f"{file}:{err.line}: {err.column + ': ' if err.column else ''}{err.error}", err=True)
    report: dict[str, Any] = {"read": len(parsed.posts), "errors": len(parsed.errors),
                              "formats": dict(parsed.formats), "encoding": parsed.encoding,
                              "truncated": parsed.truncated}
    if dry_run:
        report["columns"] = parsed.columns
        report["first"] = [{"line": line, "source": p.source, "url": p.url, "title": p.title, "text": p.text[:200],
                            "author": p.author, "published_at": p.published_at.isoformat() if p.published_at else None,
                            "engagement": p.engagement, "reply_to": p.reply_to}
                           for line, p in zip(parsed.lines[:5], parsed.posts[:5], strict=True)]
        report["first_errors"] = [str(e) for e in parsed.errors[:5]]
        typer.echo(json.dumps(report, ensure_ascii=False, indent=1))
        return
    store = context.store(settings)
    with store.begin() as tx:
        report["snapshots_swept"] = tx.sweep_snapshots(now)
    new = updated = duplicate = 0
    size = settings.import_batch_size
    # One transaction per batch: a killed import keeps every batch it committed, and running it
    # again stores the rest (what was stored counts as duplicate).
    with progress(len(parsed.posts), f"importing {file.name}") as advance:
        for i in range(0, len(parsed.posts), size):
            batch = parsed.posts[i:i + size]
            with store.begin() as tx:
                result = tx.add_posts(batch, now, backfill=True)
            new, updated, duplicate = new + result.new, updated + result.updated, duplicate + result.duplicate
            advance(len(batch))
    report.update(new=new, updated=updated, duplicate=duplicate)
    typer.echo(json.dumps(report, ensure_ascii=False))
    if parsed.errors:
        raise typer.Exit(1)


@app.command()
def collect(source: Annotated[str | None, typer.Option(help="only this source")] = None) -> None:
    """Run every enabled source (or one) once and print each run's report."""
    from dataclasses import asdict

    from crawlers.collect import collect as run

    settings = context.settings()
    store = context.store(settings)
    failed = False
    for src in context.sources(settings):
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
    import threading
    from dataclasses import asdict

    from alerts.detection import ProcessReport, process_pending
    from ecowatch.progress import progress, shown

    settings = context.settings()
    store = context.store(settings)
    analyzer = context.analyzer(settings)
    if not shown():
        # No bar to draw (stderr piped, as under a scheduler, a script or bench/pipeline.py):
        # nothing to poll. Counting the backlog costs ~6 ms of CPU at 100,000 pending posts, and
        # it was counted twice a second for the whole pass, for a bar nobody saw.
        typer.echo(json.dumps(asdict(process_pending(store, analyzer))))
        return
    with store.read() as tx:
        backlog = tx.count_pending()
    done: list[ProcessReport | BaseException] = []

    def work() -> None:
        try:
            done.append(process_pending(store, analyzer))
        except BaseException as exc:  # handed to the main thread, which raises it
            done.append(exc)

    # The pass runs in a thread; this one reads how much of the backlog is left, so the progress
    # shown is what the store says, not a count kept beside it.
    worker = threading.Thread(target=work, daemon=True)
    with progress(backlog, "processing") as advance:
        worker.start()
        seen = 0
        while worker.is_alive():
            worker.join(0.5)
            with store.read() as tx:
                now_done = max(0, backlog - tx.count_pending())
            advance(now_done - seen)
            seen = now_done
    outcome = done[0]
    if isinstance(outcome, BaseException):
        raise outcome
    typer.echo(json.dumps(asdict(outcome)))


@app.command()
def incidents(as_json: Annotated[bool, typer.Option("--json", help="one JSON array")] = False,
              limit: Annotated[int, typer.Option(min=1)] = 1000) -> None:
    """Print the incidents, newest first."""
    settings = context.settings()
    with context.store(settings).read() as tx:
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

    A malformed line (bad JSON, no "text" string, invalid UTF-8) gets {"id": ..., "error": ...};
    the exit status is 1 if any line failed. A text longer than ``max_post_chars`` is analysed up
    to that length ("truncated": true), and at most ``max_evidence_spans`` spans are listed.
    """
    settings = load_settings()
    analyzer = context.analyzer(settings)
    failed = False
    out = sys.stdout
    # Bytes, whatever the locale: each line is decoded on its own, so one invalid byte is that
    # line's error and not a traceback that loses every line after it.
    for number, raw in enumerate(sys.stdin.buffer, 1):
        if not raw.strip():
            continue
        post_id: Any = None
        try:
            try:
                line = raw.decode("utf-8-sig" if number == 1 else "utf-8")
            except UnicodeDecodeError as exc:
                raise ValueError(f"not valid UTF-8 (byte 0x{raw[exc.start]:02x} at offset {exc.start})") from None
            obj = json.loads(line)
            if not isinstance(obj, dict):
                raise ValueError("line is not a JSON object")
            post_id = obj.get("id")
            text = obj.get("text")
            if not isinstance(text, str):
                raise ValueError('missing "text" string')
            result = analyzer.analyze(text[:settings.max_post_chars]).to_contract(post_id)
            result["evidence"] = result["evidence"][:settings.max_evidence_spans]
            if len(text) > settings.max_post_chars:
                result["truncated"] = True
        except (ValueError, TypeError) as exc:
            failed = True
            result = {"id": post_id, "error": f"line {number}: {exc}"}
        out.write(json.dumps(result, ensure_ascii=False) + "\n")
    out.flush()
    if failed:
        raise typer.Exit(1)


if __name__ == "__main__":
    # Under `python -m ecowatch.cli` this file is __main__, a second copy of the module: command
    # modules register on the importable ecowatch.cli.app, which ecowatch.main assembles and runs.
    from ecowatch.main import main

    main()
