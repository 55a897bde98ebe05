"""Run sources: feeds in-process, sites in a Scrapy subprocess; record every run's health."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

from core.errors import FetchError, StoreError
from core.models import RawPost, normalise_url
from core.settings import Settings
from core.timeutil import utcnow
from crawlers.distributed import DISTRIBUTED_KINDS, end_run, start_run
from crawlers.feeds.reader import FeedRequest, fetch_feed
from crawlers.sources import Source
from storage.posts import AddResult
from storage.sql import SqlStore, Tx

log = logging.getLogger(__name__)

FEED_MAX_ITEMS = 1000  # new items stored per feed per run unless the source's rules say max_items


@dataclass(slots=True)
class RunReport:
    """Outcome of one source run, as shown in source health."""

    source: str
    ok: bool
    items: int = 0
    new: int = 0
    error: str | None = None
    updated: int = 0  # seen before; engagement refreshed
    skipped_seen: int = 0  # detail pages not fetched because already stored


def collect_feed(source: Source, store: SqlStore, settings: Settings) -> RunReport:
    """Fetch one feed conditionally and store its new posts, at most ``max_items`` (a source
    rule, FEED_MAX_ITEMS by default) per run. Items held back by the cap are carried to the next
    run: the feed's validators are not saved (so the next run reads it whole again) and the
    items stored now are skipped then."""
    started = utcnow()
    cap = max(1, int(source.rules.get("max_items", FEED_MAX_ITEMS)))
    with store.read() as tx:
        etag, last_modified = tx.get_source_state(source.name)
    request = FeedRequest(timeout=settings.fetch_timeout_seconds, user_agent=settings.user_agent,
                          allow_private=source.allow_private, charset=source.rules.get("charset"))
    try:
        result = fetch_feed(source.url, source.name, etag=etag, last_modified=last_modified, request=request)
    except FetchError as exc:
        report = RunReport(source.name, False, error=str(exc))
    else:
        with store.begin() as tx:
            added, left = _add_capped(tx, source.name, result.posts, cap)
            if not left:
                tx.set_source_state(source.name, result.etag, result.last_modified)
        warning = result.warning
        if left:
            warning = "; ".join(filter(None, [warning, f"{added.new} new items stored, {left} more left for the "
                                                       f"next run (max_items = {cap} per run)"]))
        report = RunReport(source.name, True, len(result.posts), added.new, warning, added.updated)
    with store.begin() as tx:
        tx.record_source_run(source.name, started, utcnow(), report.ok, report.items, report.new, report.error)
    return report


def _add_capped(tx: Tx, source: str, posts: list[RawPost], cap: int) -> tuple[AddResult, int]:
    """Store posts not stored yet, in feed order, until ``cap`` of them are new; returns what
    was added and how many candidates were left over. Posts known by URL are skipped without a
    lookup each (one query for the source's URLs)."""
    known = tx.known_urls(source)
    candidates = [p for p in posts if not (p.url and normalise_url(p.url) in known)]
    new_ids: list[int] = []
    total = AddResult(new_ids=new_ids)
    start = 0
    while start < len(candidates) and total.new < cap:
        batch = candidates[start:start + cap - total.new]
        start += len(batch)
        added = tx.add_posts(batch)
        total.new += added.new
        total.updated += added.updated
        total.duplicate += added.duplicate
        new_ids.extend(added.new_ids or [])
    return total, len(candidates) - start


def collect_site(source: Source, store: SqlStore, settings: Settings) -> RunReport:
    """Crawl a site in its own process (Twisted's reactor cannot restart in-process), killed at
    the configured time limit. The spider stores posts itself and prints a JSON report line.
    With ``redis_url`` set, a site crawl is a new distributed run that workers on other hosts
    may join (``ecowatch crawl-worker``); its Redis keys are removed when it ends."""
    started = utcnow()
    run_id, redis_error = None, None
    if settings.redis_url and source.kind in DISTRIBUTED_KINDS:
        try:
            run_id = start_run(settings.redis_url, source.name, settings.crawl_time_limit_seconds + 60)
        except Exception as exc:  # Redis down or client missing: crawl on this host rather than not at all
            redis_error = f"distributed crawling unavailable ({type(exc).__name__}: {exc}); crawled on this host only"
            log.warning("%s: %s", source.name, redis_error)
    try:
        report = crawl_in_subprocess(source, settings, run_id)
    finally:
        if run_id and settings.redis_url:
            try:
                end_run(settings.redis_url, source.name, run_id)
            except Exception:  # the run's keys expire on their own
                log.warning("could not clean up run %s of %s in Redis", run_id, source.name, exc_info=True)
    if redis_error:
        report.error = "; ".join(filter(None, [report.error, redis_error]))
    with store.begin() as tx:
        tx.record_source_run(source.name, started, utcnow(), report.ok, report.items, report.new, report.error)
    return report


def crawl_in_subprocess(source: Source, settings: Settings, run_id: str | None = None) -> RunReport:
    """Run ``python -m crawlers.run_spider`` for one source (joining distributed run ``run_id`` if
    given) and read its report line; records nothing."""
    # The child rebuilds Settings from the environment: hand it every value this process uses
    # (timeouts, User-Agent...), not only the store's address.
    env = dict(os.environ, **{f"ECOWATCH_{name.upper()}": str(value)
                              for name, value in settings.model_dump().items()
                              if isinstance(value, str | int | float | Path)  # lists/dicts would need JSON
                              and name != "crawl_time_limit_seconds"})  # the parent enforces the limit
    env["ECOWATCH_DATABASE_URL"] = settings.sqlalchemy_url
    cmd = [sys.executable, "-m", "crawlers.run_spider", json.dumps(asdict(source), ensure_ascii=False),
           *([run_id] if run_id else [])]
    try:
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True,
                              timeout=settings.crawl_time_limit_seconds, check=False)
    except subprocess.TimeoutExpired:  # subprocess.run has killed the crawl; posts stored so far stay
        report = RunReport(source.name, False,
                           error=f"crawl killed after the {settings.crawl_time_limit_seconds}s time limit")
    else:
        last = proc.stdout.strip().splitlines()[-1:]
        try:
            data = json.loads(last[0]) if last else None
            if not isinstance(data, dict):
                raise ValueError("no report line")
            report = RunReport(source.name, bool(data.get("ok")), int(data.get("items", 0)),
                               int(data.get("new", 0)), data.get("error"), int(data.get("updated", 0)),
                               int(data.get("skipped_seen", 0)))
        except ValueError:
            # The last unindented line of a traceback names the exception; indented ones are context.
            lines = [ln for ln in (proc.stderr or proc.stdout).strip().splitlines() if ln and not ln[0].isspace()]
            tail = lines[-1:] or ["no output"]
            report = RunReport(source.name, False, error=f"crawler exited {proc.returncode}: {tail[0][:300]}")
    return report


def collect(source: Source, store: SqlStore, settings: Settings) -> RunReport:
    """Run one source of any kind; never raises for a source's own failure."""
    try:
        if source.kind == "rss":
            return collect_feed(source, store, settings)
        return collect_site(source, store, settings)
    except StoreError:
        raise
    except Exception as exc:  # a bug in one source's handling must not stop the others
        log.exception("collecting %s failed", source.name)
        with store.begin() as tx:
            now = utcnow()
            tx.record_source_run(source.name, now, now, False, 0, 0, f"{type(exc).__name__}: {exc}")
        return RunReport(source.name, False, error=f"{type(exc).__name__}: {exc}")
