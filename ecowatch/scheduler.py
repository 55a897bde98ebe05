"""Periodic jobs (APScheduler 3): collect each source, process pending posts.

Jobs read and write the store only, so a restart loses nothing: pending posts stay pending and
deadlines are recomputed from stored timestamps. One process per database runs them (the leader,
:class:`Leadership`): ``ecowatch serve --workers N`` runs them in its supervising process only,
and of two servers on one database the second stands by and takes over when the first stops.
"""

from __future__ import annotations

import fcntl
import logging
import os
import threading
import time
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import Connection, text

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
MAX_BACKOFF_SECONDS = 1800.0  # a failing job is tried again at least every half hour


class JobGuard:
    """Runs one periodic job. A failure is one log line (no traceback) and the job's next runs
    are skipped for a while, doubling per failure in a row up to :data:`MAX_BACKOFF_SECONDS`: a
    database it cannot open or a full disk must not write a 50-line traceback every few seconds
    nor hammer what is already unwell. The first success after failures says so, in one line."""

    def __init__(self, name: str, job: Callable[..., None], every_seconds: float,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.name = name
        self.job = job
        self.every_seconds = every_seconds
        self.clock = clock
        self.failures = 0
        self.resume_at = 0.0

    def __call__(self, *args: Any) -> None:
        now = self.clock()
        if now < self.resume_at:
            return
        try:
            self.job(*args)
        except Exception as exc:  # every failure of a job is logged here, once, and retried later
            self.failures += 1
            delay = min(MAX_BACKOFF_SECONDS, self.every_seconds * 2 ** (self.failures - 1))
            self.resume_at = now + delay
            first = (str(exc).strip().splitlines() or [""])[0][:300]
            log.error("job %s failed (%d in a row; next try in %.0f s): %s: %s", self.name, self.failures, delay,
                      type(exc).__name__, first)
            return
        if self.failures:
            log.info("job %s works again after %d failures", self.name, self.failures)
            self.failures = 0


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
                self._analyzer = context.analyzer(self.settings)
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

    def duty(self) -> None:
        """Job: page the officer on duty for major incidents, climb pages nobody acknowledged,
        write and chase hand-overs (alerts.duty_job). From stored times and the rota, so the
        first run after a restart acts once for the shift on duty then."""
        from alerts.duty_job import run_duty
        from alerts.paging import link_maker

        config, notifiers = self.alerts
        paging, handovers = run_duty(self.store, config, notifiers.keys(), utcnow(),
                                     link_maker(self.settings.token_secret(), self.settings.public_url))
        if paging.paged or handovers.written or handovers.late_paged:
            log.info("duty: %s pages opened, %s tiers paged (%s to the leaders), %s hand-overs written, "
                     "%s late hand-overs paged", paging.opened, paging.paged, paging.to_leaders, handovers.written,
                     handovers.late_paged)

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

    def mail(self) -> None:
        """Job: import 信息简报 from the configured IMAP mailbox (briefing.mail_sources): each mail
        flagged seen once kept, so a restart midway loses and doubles nothing. A mailbox that cannot
        be reached is the guard's one log line and back-off; a mail that cannot be read stays unseen."""
        from briefing.mail_sources import import_mailbox
        from core.jurisdiction import load_jurisdiction

        outcomes = list(import_mailbox(self.settings, self.store, load_jurisdiction(self.settings.jurisdiction)))
        kept = [o for o in outcomes if o.state is not None]
        failed = [o for o in outcomes if o.error is not None]
        for o in failed:
            log.warning("信息简报 mail %s not imported: %s", o.origin, o.error)
        if kept:
            log.info("信息简报 mail: %s imported, %s to triage", sum(o.state == "imported" for o in kept),
                     sum(o.state == "triage" for o in kept))

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
        from storage.search_sync import sync_posts

        report = sync_posts(self.store, self.es_index(), lambda t: indexer.document_tokens(t)[0], grams=bigrams)
        if report.indexed or report.error:
            log.info("elasticsearch: %s posts indexed, %s pending %s", report.indexed, report.pending,
                     report.error or "")


    def es_index(self) -> Any:
        """The Elasticsearch copy (storage.es_posts.EsPostIndex), its template installed on first use."""
        from storage.es_posts import EsPostIndex

        if self._es is None:
            self._es = EsPostIndex.from_settings(self.settings)
            self._es.ensure_template()
        return self._es

    def reconcile(self) -> None:
        """Job: refill an Elasticsearch copy that lost data (a restore, a node lost), and say what it refilled."""
        if not self.settings.es_url:
            return
        from indexing.search_index import SearchIndexer, bigrams
        from storage.search_sync import reconcile

        indexer = SearchIndexer(self.analyzer.jurisdiction)
        report = reconcile(self.store, self.es_index(), lambda t: indexer.document_tokens(t)[0], grams=bigrams)
        if report.refilled or report.error or report.in_cluster < report.recorded:
            log.info("elasticsearch reconcile: cluster held %s of %s posts sent; %s re-sent%s", report.in_cluster,
                     report.recorded, report.refilled, f"; {report.error}" if report.error else "")


def build_scheduler(pipeline: Pipeline) -> BackgroundScheduler:
    """A scheduler with one job per enabled source plus the processing job, all due at start."""
    scheduler = BackgroundScheduler(timezone="Asia/Shanghai",
                                    job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 300})
    now = utcnow()

    def every(job_id: str, job: Callable[..., None], seconds: float, **options: Any) -> None:
        scheduler.add_job(JobGuard(job_id, job, seconds), "interval", seconds=seconds, next_run_time=now, id=job_id,
                          **options)

    for source in pipeline.sources:
        if source.enabled:
            every(f"collect:{source.name}", pipeline.collect_one, source.every_minutes * 60, args=[source],
                  name=f"collect {source.name}")
    every("process", pipeline.process, pipeline.settings.process_interval_seconds, name="process pending posts")
    every("index", pipeline.index, 60, name="full-text index and Elasticsearch copy")
    every("reconcile", pipeline.reconcile, 3600, name="refill the Elasticsearch copy if it lost posts")
    every("escalate", pipeline.escalate, pipeline.settings.escalate_interval_seconds, name="escalate overdue steps")
    every("deliver", pipeline.deliver, pipeline.settings.notify_interval_seconds, name="deliver notifications")
    every("duty", pipeline.duty, 60, name="page the officer on duty, hand-overs")
    if pipeline.settings.brief_imap_host:
        every("mail", pipeline.mail, pipeline.settings.brief_mail_interval_minutes * 60,
              name="import 信息简报 from the IMAP mailbox")
    # Briefings at fixed local times (the scheduler's zone is Asia/Shanghai): the weekly one for the
    # Monday meeting, the daily duty report for the morning hand-over.
    scheduler.add_job(pipeline.brief, "cron", args=["week"], day_of_week="mon", hour=8, minute=0,
                      id="brief:week", name="weekly briefing", misfire_grace_time=6 * 3600)
    scheduler.add_job(pipeline.brief, "cron", args=["day"], hour=7, minute=30,
                      id="brief:day", name="daily duty report", misfire_grace_time=3600)
    return scheduler


# The PostgreSQL advisory lock the leader holds (a fixed 32-bit number named after what it guards).
LEADER_LOCK_KEY = zlib.crc32(b"ecowatch scheduler leader")
LEADER_CHECK_SECONDS = 5.0  # how often a standing-by process tries to lead, and a leader checks it still does


class Leadership:
    """The right to run the scheduled jobs, held by one process per database at a time.

    PostgreSQL: a session advisory lock on a connection kept for it (servers on several hosts
    share it). SQLite: an exclusive ``flock`` on ``<database>.scheduler-lock`` beside the file
    (SQLite lives on one host). Either is released by the operating system or the server when
    the holding process ends, however it ends: there is no lease to expire and no stale holder."""

    def __init__(self, store: SqlStore) -> None:
        self.store = store
        self._file: IO[bytes] | None = None
        self._conn: Connection | None = None
        url = store.engine.url
        self._path = (Path(f"{url.database}.scheduler-lock")
                      if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:") else None)

    @property
    def held(self) -> bool:
        """Whether this process holds it (as far as it last knew)."""
        return self._file is not None or self._conn is not None

    def try_acquire(self) -> bool:
        """Take it if nobody holds it; True when this process now holds it."""
        if self.held:
            return True
        if self.store.engine.dialect.name == "postgresql":
            conn = self.store.engine.connect()
            if conn.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": LEADER_LOCK_KEY}).scalar():
                conn.commit()  # the lock is the session's: it outlives this transaction
                self._conn = conn
                return True
            conn.close()
            return False
        if self._path is None:  # an in-memory database: this process is the only one that sees it
            self._file = open("/dev/null", "rb")  # noqa: SIM115 - held until release()
            return True
        # Private like the database beside it (0600, whatever the umask); held until release().
        handle = os.fdopen(os.open(self._path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600), "ab")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            return False
        self._file = handle
        return True

    def still_held(self) -> bool:
        """False when a held lock was lost: the PostgreSQL connection holding it broke (the server
        restarted), so another process may lead now. A file lock is not lost while its process lives."""
        if self._conn is None:
            return self.held
        try:
            self._conn.execute(text("SELECT 1")).scalar()
            self._conn.commit()
            return True
        except Exception:  # any failure of that connection means the lock may be gone
            self.release()
            return False

    def release(self) -> None:
        """Give it up (another process may then take it)."""
        if self._file is not None:
            self._file.close()  # closing the file drops the flock
            self._file = None
        if self._conn is not None:
            try:
                self._conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": LEADER_LOCK_KEY})
                self._conn.commit()
            except Exception:  # a broken connection: the server already dropped the lock with the session
                log.debug("unlocking on the leader's connection failed", exc_info=True)
            # Closed, not returned to the pool: the session (and any lock it still has) ends with it.
            self._conn.invalidate()
            self._conn.close()
            self._conn = None


def lead(scheduler: BackgroundScheduler, leadership: Leadership,
         every_seconds: float = LEADER_CHECK_SECONDS) -> threading.Event:
    """Start ``scheduler`` paused and run its jobs only while this process holds ``leadership``:
    a thread tries to take it every ``every_seconds`` (a second server on the same database stands
    by and takes over when the first stops) and pauses the jobs if it is lost. Set the returned
    event to stop the thread and give leadership up."""
    scheduler.start(paused=True)
    stop = threading.Event()

    def loop() -> None:
        said_standby = False
        while not stop.is_set():
            try:
                if leadership.held and not leadership.still_held():
                    scheduler.pause()
                    log.warning("scheduler: lost the leader lock; jobs paused until it is taken again")
                elif not leadership.held and leadership.try_acquire():
                    log.info("scheduler: this process runs the scheduled jobs (leader)")
                    scheduler.resume()
                elif not leadership.held and not said_standby:
                    log.info("scheduler: another process runs the scheduled jobs; standing by")
                    said_standby = True
            except Exception as exc:  # the database unreachable: try again next time, one line
                log.error("scheduler: leader check failed: %s: %s", type(exc).__name__, str(exc)[:200])
            stop.wait(every_seconds)
        if scheduler.running:
            scheduler.pause()  # no job starts once leadership is given up
        leadership.release()

    threading.Thread(target=loop, name="scheduler-leader", daemon=True).start()
    return stop
