"""A health probe must not cost the server its SQLite locks (rel10: kill -9 under load).

``/healthz`` read the database file's header with ``open()`` and ``close()``. Closing any handle
on a file cancels every POSIX lock the process holds on it, SQLite's own included
(sqlite.org/howtocorrupt.html, 2.2). The next process to close its connection then believed it
was the last one: it checkpointed, then deleted the ``-wal`` and ``-shm`` the server still wrote
to. From then on the server's commits went into a deleted file, and no other process saw them.
In the kill -9 test the restarted server "processed 200 posts" while the store showed none, and
a restart would have lost them. The test polled ``/healthz`` while the server worked; it
failed when load gave that poll time before the pass ended.
"""

from __future__ import annotations

import datetime as dt
import subprocess
import sys

from core.models import RawPost
from storage.health import disk_problem

T0 = dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC)


def _count_elsewhere(database: str) -> int:
    """The posts another process sees (it opens, reads and closes, as `ecowatch process` does)."""
    code = ("import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); "
            "print(c.execute('SELECT count(*) FROM raw_posts').fetchone()[0]); c.close()")
    done = subprocess.run([sys.executable, "-c", code, database], capture_output=True, text=True, timeout=60,
                          check=True)
    return int(done.stdout)


def test_a_health_probe_leaves_the_servers_wal_in_place(store):
    database = str(store.engine.url.database)
    with store.begin() as tx:
        tx.add_posts([RawPost(source="weibo", text="石马河又黑又臭", url="http://wal/1")], T0)
    assert disk_problem(store, 0) is None  # what /healthz asks, while the store is open
    assert _count_elsewhere(database) == 1
    with store.begin() as tx:  # written after another process came and went
        tx.add_posts([RawPost(source="weibo", text="工地夜间噪音扰民", url="http://wal/2")], T0)
    assert _count_elsewhere(database) == 2
