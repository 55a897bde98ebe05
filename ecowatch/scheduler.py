"""Periodic jobs (APScheduler 3): collect each source, process pending posts.

Jobs read and write the store only, so a restart loses nothing: pending posts stay pending and
deadlines are recomputed from stored timestamps.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from apscheduler.schedulers.background import BackgroundScheduler

from alerts.config import AlertsConfig
from alerts.delivery import deliver
from alerts.detection import process_pending
from alerts.escalation_job import run_escalation
from alerts.notifiers import Notifier
from core.settings import Settings
from core.timeutil import utcnow
from crawlers.collect import collect
from crawlers.sources import Source
from ecowatch import context
from nlp.analyzer import Analyzer
from storage.sql import SqlStore

log = logging.getLogger(__name__)


class Pipeline:
    """The jobs the scheduler runs, sharing one store and one (lazily built) analyser."""

    def __init__(self, settings: Settings, store: SqlStore, sources: list[Source]) -> None:
        self.settings = settings
        self.store = store
        self.sources = sources
        self._analyzer: Analyzer | None = None
        self._lock = threading.Lock()
        self._process_lock = threading.Lock()  # one processing pass at a time in this process
        self._alerts: tuple[AlertsConfig, dict[str, Notifier]] | None = None
        self._es: Any = None  # storage.es_posts.EsPostIndex once ECOWATCH_ES_URL is used

    @property
    def analyzer(self) -> Analyzer:
        """Built on first use (jieba takes a few seconds to load)."""
        with self._lock:
            if self._analyzer is None:
                from core.jurisdiction import load_jurisdiction

                self._analyzer = Analyzer(load_jurisdiction(self.settings.jurisdiction))
            return self._analyzer

    def collect_one(self, source: Source) -> None:
        """Job: run one source, then process what it brought."""
        report = collect(source, self.store, self.settings)
        log.info("collected %s: ok=%s items=%s new=%s %s", source.name, report.ok, report.items, report.new,
                 report.error or "")
        if report.new:
            self.process()

    @property
    def alerts(self) -> tuple[AlertsConfig, dict[str, Notifier]]:
        """The alerting configuration and the configured notification channels (built once)."""
        with self._lock:
            if self._alerts is None:
                from alerts.notifiers import build_notifiers

                self._alerts = (context.alerts_config(self.settings), build_notifiers(self.settings, self.store))
            return self._alerts

    def escalate(self) -> None:
        """Job: escalate overdue steps. Computed from stored deadlines, so the first run after a
        restart catches up on everything that fell due while the service was down."""
        config, _ = self.alerts
        report = run_escalation(self.store, config)
        if report.climbed or report.repeated:
            log.info("escalation: %s climbed, %s repeated, %s notifications queued", report.climbed,
                     report.repeated, report.notified)

    def deliver(self) -> None:
        """Job: send due notifications (retries with backoff; failures stay visible in the outbox)."""
        config, notifiers = self.alerts
        report = deliver(self.store, notifiers, config)
        if report.sent or report.failed or report.retrying:
            log.info("notifications: %s sent, %s retrying, %s failed", report.sent, report.retrying, report.failed)
        from alerts.reporting import deliver_sendings, report_notifiers  # 报送 goes out with the notifications

        sent = deliver_sendings(self.store, report_notifiers(self.settings), config)
        if sent.sent or sent.failed or sent.retrying:
            log.info("report sendings: %s sent, %s retrying, %s failed", sent.sent, sent.retrying, sent.failed)

    def brief(self, kind: str) -> None:
        """Job: write the weekly briefing (last full ISO week) or the daily duty report (24 hours to
        now's hand-over) into data_dir/briefings, in every format. A failure is logged, never fatal:
        the next run tries again and the CLI can regenerate any period."""
        from briefing.period import daily, last_full_week
        from briefing.service import build_briefing, keep
        from core.jurisdiction import load_jurisdiction
        from core.timeutil import to_local

        now = utcnow()
        period = last_full_week(now) if kind == "week" else daily(f"{to_local(now):%Y-%m-%d}")
        expected = context.expected_hours(self.sources)
        try:
            b = build_briefing(self.store, load_jurisdiction(self.settings.jurisdiction), period, now, expected)
            paths = keep(context.briefings_dir(self.settings), b)
        except Exception:
            log.exception("briefing %s failed", period.key)
            return
        log.info("briefing %s written: %s", period.key, ", ".join(str(p) for p in paths))

    def process(self) -> None:
        """Job: analyse pending posts and open or feed incidents."""
        with self._process_lock:
            report = process_pending(self.store, self.analyzer)
        if report.processed or report.failed:
            log.info("processed %s posts: %s relevant, %s opened, %s merged, %s failed", report.processed,
                     report.relevant, report.opened, report.merged, report.failed)

    def index(self) -> None:
        """Job: keep the full-text index current, and the Elasticsearch copy when configured.

        Each is a catch-up from the store, so a failure (Elasticsearch down) only delays: the
        next run replays what was not acknowledged."""
        from indexing.search_index import SearchIndexer, bigrams

        indexer = SearchIndexer(self.analyzer.jurisdiction)
        added = indexer.catch_up(self.store, max_posts=20_000)
        if added:
            log.info("full-text index: %s posts added", added)
        if not self.settings.es_url:
            return
        from storage.es_posts import EsPostIndex
        from storage.search_sync import sync_posts

        if self._es is None:
            self._es = EsPostIndex.from_settings(self.settings)
            self._es.ensure_template()
        report = sync_posts(self.store, self._es, lambda t: indexer.document_tokens(t)[0], grams=bigrams)
        if report.indexed or report.error:
            log.info("elasticsearch: %s posts indexed, %s pending %s", report.indexed, report.pending,
                     report.error or "")


def build_scheduler(pipeline: Pipeline) -> BackgroundScheduler:
    """A scheduler with one job per enabled source plus the processing job, all due at start."""
    scheduler = BackgroundScheduler(timezone="Asia/Shanghai",
                                    job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 300})
    now = utcnow()
    for source in pipeline.sources:
        if source.enabled:
            scheduler.add_job(pipeline.collect_one, "interval", args=[source], minutes=source.every_minutes,
                              next_run_time=now, id=f"collect:{source.name}", name=f"collect {source.name}")
    scheduler.add_job(pipeline.process, "interval", seconds=pipeline.settings.process_interval_seconds,
                      next_run_time=now, id="process", name="process pending posts")
    scheduler.add_job(pipeline.index, "interval", seconds=60, next_run_time=now, id="index",
                      name="full-text index and Elasticsearch copy")
    scheduler.add_job(pipeline.escalate, "interval", seconds=pipeline.settings.escalate_interval_seconds,
                      next_run_time=now, id="escalate", name="escalate overdue steps")
    scheduler.add_job(pipeline.deliver, "interval", seconds=pipeline.settings.notify_interval_seconds,
                      next_run_time=now, id="deliver", name="deliver notifications")
    # Briefings at fixed local times (the scheduler's zone is Asia/Shanghai): the weekly one for the
    # Monday meeting, the daily duty report for the morning hand-over.
    scheduler.add_job(pipeline.brief, "cron", args=["week"], day_of_week="mon", hour=8, minute=0,
                      id="brief:week", name="weekly briefing", misfire_grace_time=6 * 3600)
    scheduler.add_job(pipeline.brief, "cron", args=["day"], hour=7, minute=30,
                      id="brief:day", name="daily duty report", misfire_grace_time=3600)
    return scheduler
