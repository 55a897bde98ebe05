"""One process per database runs the scheduled jobs (ecowatch.scheduler.Leadership and lead): of
two schedulers over one store, on SQLite and on PostgreSQL, only the leader's jobs run; when it
gives leadership up, the one standing by takes over and its jobs run."""

from __future__ import annotations

import threading
import time
from collections import Counter

from apscheduler.schedulers.background import BackgroundScheduler

from ecowatch.scheduler import Leadership, lead
from storage.sql import SqlStore


def _scheduler(name: str, runs: Counter[str], lock: threading.Lock) -> BackgroundScheduler:
    scheduler = BackgroundScheduler(job_defaults={"coalesce": True, "max_instances": 1})

    def job() -> None:
        with lock:
            runs[name] += 1

    scheduler.add_job(job, "interval", seconds=0.2, id="job")
    return scheduler


def _wait(predicate, seconds: float = 20.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def test_only_the_leader_runs_the_jobs_and_a_standby_takes_over(sql_store: SqlStore):
    # A second store object: another process's engine and connections on the same database.
    other = SqlStore(str(sql_store.engine.url.render_as_string(hide_password=False)))
    runs: Counter[str] = Counter()
    lock = threading.Lock()
    first, second = _scheduler("first", runs, lock), _scheduler("second", runs, lock)
    first_leadership, second_leadership = Leadership(sql_store), Leadership(other)
    stop_first = lead(first, first_leadership, every_seconds=0.1)
    try:
        assert _wait(lambda: runs["first"] >= 3)
        stop_second = lead(second, second_leadership, every_seconds=0.1)
        try:
            time.sleep(1.5)  # the standby tried many times and never got it
            assert runs["second"] == 0 and not second_leadership.held
            stop_first.set()  # the leader stops (its process ends): the lock is released
            assert _wait(lambda: runs["second"] >= 3), runs
            with lock:
                first_runs = runs["first"]
            time.sleep(0.5)
            assert runs["first"] == first_runs  # the former leader runs nothing more
            assert second_leadership.held and not first_leadership.held
        finally:
            stop_second.set()
            second.shutdown(wait=False)
    finally:
        stop_first.set()
        first.shutdown(wait=False)
        other.dispose()
    assert first_runs >= 3


def test_the_sqlite_lock_file_is_private(tmp_path):
    """The lock file sits beside the database (0600, in a 0700 folder): it is made 0600 too,
    whatever the umask."""
    import os
    import stat

    from storage.sql import open_store

    old = os.umask(0o022)  # umask is process-wide: restored below
    try:
        store = open_store(f"sqlite:///{tmp_path / 'ecowatch.db'}")
        leadership = Leadership(store)
        assert leadership.try_acquire()
        lock = tmp_path / "ecowatch.db.scheduler-lock"
        assert stat.S_IMODE(lock.stat().st_mode) == 0o600
        leadership.release()
        store.dispose()
    finally:
        os.umask(old)
