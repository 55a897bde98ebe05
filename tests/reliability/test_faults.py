"""Faults the store can throw at the background jobs (issue 20): a transaction that fails at commit
counts nothing in the processing report, and a job that keeps failing logs one line per failure and
backs off instead of a traceback every interval."""

from __future__ import annotations

import logging
from pathlib import Path

from alerts.detection import process_pending
from core.models import RawPost
from ecowatch.scheduler import MAX_BACKOFF_SECONDS, JobGuard, Pipeline
from storage.sql import SqlStore

# A row that breaks a deferred foreign key: SQLite accepts the insert and refuses the COMMIT, as a
# full disk or a lost connection fails a transaction after its work was done.
_FAIL_AT_COMMIT = [
    "CREATE TABLE trap_parent (id INTEGER PRIMARY KEY)",
    "CREATE TABLE trap (parent INTEGER REFERENCES trap_parent(id) DEFERRABLE INITIALLY DEFERRED)",
    "CREATE TRIGGER trap_incident AFTER INSERT ON incidents BEGIN INSERT INTO trap VALUES (999); END",
]


def test_the_process_report_counts_no_incident_whose_transaction_rolled_back(store, analyzer):
    with store.begin() as tx:
        tx.add_posts([RawPost(source="微博", text="石马河街道石马河又黑又臭，有人往河里偷排污水", author="居民")])
        for sql in _FAIL_AT_COMMIT:
            tx.conn.exec_driver_sql(sql)
    failed = process_pending(store, analyzer)
    with store.read() as tx:
        assert tx.list_incidents() == []
        assert len(tx.unprocessed_posts()) == 1  # still pending: the next pass tries again
    assert (failed.opened, failed.processed, failed.failed) == (0, 0, 1)
    with store.begin() as tx:
        tx.conn.exec_driver_sql("DROP TRIGGER trap_incident")
    done = process_pending(store, analyzer)
    with store.read() as tx:
        assert len(tx.list_incidents()) == done.opened == 1


def test_a_failing_job_logs_one_line_per_failure_and_backs_off(settings, tmp_path: Path, caplog):
    broken = tmp_path / "broken.db"
    broken.write_bytes(b"this is not a database" * 100)
    pipeline = Pipeline(settings, SqlStore(f"sqlite:///{broken}"), [])
    clock = [0.0]
    guard = JobGuard("deliver", pipeline.deliver, 10, clock=lambda: clock[0])
    caplog.set_level(logging.INFO, logger="ecowatch.scheduler")
    tried = []
    for second in range(0, 200, 10):  # the scheduler calls it every 10 s for 200 s
        clock[0] = float(second)
        before = len(caplog.records)
        guard()
        if len(caplog.records) > before:
            tried.append(second)
    assert tried == [0, 10, 30, 70, 150]  # 10, 20, 40, 80 s apart
    lines = [r for r in caplog.records if r.name == "ecowatch.scheduler"]
    assert len(lines) == 5 and all(r.exc_info is None and "\n" not in r.getMessage() for r in lines)
    assert "job deliver failed (5 in a row; next try in 160 s)" in lines[-1].getMessage()
    assert "DatabaseError" in lines[0].getMessage() or "StoreError" in lines[0].getMessage()
    for _ in range(5):  # 320, 640, 1280, then capped
        clock[0] = guard.resume_at
        guard()
    assert guard.resume_at - clock[0] == MAX_BACKOFF_SECONDS

    # Once the database is whole again, the job runs and says so, in one line.
    broken.unlink()
    from storage.sql import open_store

    pipeline.store = open_store(f"sqlite:///{broken}")
    clock[0] = guard.resume_at
    guard()
    assert caplog.records[-1].getMessage() == "job deliver works again after 10 failures"
    assert guard.failures == 0
