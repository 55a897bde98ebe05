"""CLI commands for crawling on more than one host: ``ecowatch crawl-worker SOURCE``."""

from __future__ import annotations

import json
import time
from dataclasses import asdict
from typing import Annotated

import typer

from core.errors import ConfigError
from ecowatch import context
from ecowatch.cli import app


@app.command("crawl-worker")
def crawl_worker(
    source: Annotated[str, typer.Argument(help="name of a site source in sources.toml")],
    wait: Annotated[float, typer.Option(help="seconds to wait for a run of SOURCE to start")] = 0.0,
) -> None:
    """Join the run of SOURCE in progress (started by the scheduling host's `collect`/`serve`)
    and crawl from its shared Redis queue until the run is done; prints one JSON report line.
    Needs ECOWATCH_REDIS_URL and the same database as the scheduling host. The run's health is
    recorded by the scheduling host, not here. Exit 1: no run of SOURCE in progress."""
    from crawlers.collect import crawl_in_subprocess
    from crawlers.distributed import DISTRIBUTED_KINDS, current_run

    settings = context.settings()
    if not settings.redis_url:
        raise ConfigError("crawl-worker needs ECOWATCH_REDIS_URL (the Redis shared by the crawler hosts)")
    matches = [s for s in context.sources(settings) if s.name == source]
    if not matches:
        raise ConfigError(f"no source named {source!r} in the sources file")
    src = matches[0]
    if src.kind not in DISTRIBUTED_KINDS:
        raise ConfigError(f"source {source!r} is of kind {src.kind!r}; only {', '.join(DISTRIBUTED_KINDS)} "
                          "crawls can be shared between hosts")
    deadline = time.monotonic() + max(0.0, wait)
    while (run_id := current_run(settings.redis_url, src.name)) is None and time.monotonic() < deadline:
        time.sleep(0.2)
    if run_id is None:
        typer.echo(f"ecowatch: no run of {source!r} in progress", err=True)
        raise typer.Exit(1)
    report = crawl_in_subprocess(src, settings, run_id)
    typer.echo(json.dumps({"run_id": run_id, **asdict(report)}, ensure_ascii=False))
    if not report.ok:
        raise typer.Exit(1)
