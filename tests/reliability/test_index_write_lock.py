"""The full-text index job must not hold the database's write lock while it tokenises (rel10).

Under load (8-18 on a 2-core machine) the scheduler's index job held SQLite's write lock for 27 s
tokenising 500 posts in its ``BEGIN IMMEDIATE`` transaction (0.5 s idle). Every other writer of the
server waits behind it, and gives up after the 30 s busy timeout: the processing pass then throws
its whole group of analyses away and starts over, an officer's click fails with "database is
locked". Here the tokenising is held up on purpose and another writer must get through meanwhile.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
import threading

from core.jurisdiction import load_jurisdiction
from core.models import RawPost
from indexing.search_index import SearchIndexer

T0 = dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC)


class _HeldIndexer(SearchIndexer):
    """Tokenises as usual, but the first post waits until the test has tried its write."""

    def __init__(self) -> None:
        super().__init__(load_jurisdiction("jiangbei"))
        self.tokenising = threading.Event()
        self.tried = threading.Event()

    def document_tokens(self, text: str) -> tuple[list[str], list[str]]:
        self.tokenising.set()
        self.tried.wait(timeout=30)
        return super().document_tokens(text)


def test_another_writer_gets_through_while_the_index_tokenises(store):
    with store.begin() as tx:
        tx.add_posts([RawPost(source="weibo", text=f"石马河又黑又臭（{i}）", url=f"http://w/{i}") for i in range(20)],
                     T0)
    indexer = _HeldIndexer()
    added: list[int] = []
    worker = threading.Thread(target=lambda: added.append(indexer.catch_up(store)))
    worker.start()
    try:
        assert indexer.tokenising.wait(timeout=30)
        db = sqlite3.connect(str(store.engine.url.database), timeout=0.5, isolation_level=None)
        try:
            db.execute("BEGIN IMMEDIATE")  # "database is locked" while the index holds the write lock
            db.execute("ROLLBACK")
        finally:
            db.close()
    finally:
        indexer.tried.set()
        worker.join(timeout=60)
    assert added == [20]
    with store.read() as tx:  # and every post is in the index once
        assert tx.count_unindexed() == 0
        assert tx.indexed_up_to() == tx.max_post_id()


def test_posts_another_process_indexed_meanwhile_are_not_indexed_twice(store):
    with store.begin() as tx:
        tx.add_posts([RawPost(source="weibo", text=f"工地噪音扰民（{i}）", url=f"http://n/{i}") for i in range(30)], T0)
    slow, fast = _HeldIndexer(), SearchIndexer(load_jurisdiction("jiangbei"))
    added: list[int] = []
    worker = threading.Thread(target=lambda: added.append(slow.catch_up(store, batch=30)))
    worker.start()
    try:
        assert slow.tokenising.wait(timeout=30)
        assert fast.catch_up(store, batch=10) == 30  # another server's pass, while the first tokenises
    finally:
        slow.tried.set()
        worker.join(timeout=60)
    assert added == [0]
    with store.begin() as tx:
        rows = tx.conn.exec_driver_sql("SELECT count(*), count(DISTINCT rowid) FROM post_fts").one()
    assert tuple(rows) == (30, 30)
