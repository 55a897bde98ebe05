"""The SQL store on real SQLite: WAL, de-duplication, engagement refresh, atomic batches."""

from __future__ import annotations

import datetime as dt

import pytest

from core.errors import StoreError
from core.models import RawPost

NOW = dt.datetime(2026, 11, 28, 1, 0, tzinfo=dt.UTC)


def post(**kw) -> RawPost:
    base = dict(source="s", title="标题", text="石马河又臭了", url="http://x/1", author="a")
    base.update(kw)
    return RawPost(**base)


def test_sqlite_runs_in_wal_mode(store):
    with store.read() as tx:
        assert tx.conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"


def test_same_post_twice_keeps_one(sql_store):
    with sql_store.begin() as tx:
        r1 = tx.add_posts([post(), post()], NOW)
    with sql_store.begin() as tx:
        r2 = tx.add_posts([post(url="HTTP://X/1/")], NOW)  # same URL, other spelling
    assert (r1.new, r1.duplicate) == (1, 1)
    assert (r2.new, r2.duplicate) == (0, 1)
    with sql_store.read() as tx:
        assert tx.count_posts() == 1


def test_a_comments_numbered_anchor_keeps_it_apart_from_its_thread(sql_store):
    """A comment whose permalink is its thread's address plus ``#comment-N`` is a post of its own;
    a page anchor without a number (``#comments``) is the same page."""
    thread = "https://www.cqjb.gov.cn/hdjl/wsxf/xfxq/?id=202603274721&reply=29451"
    with sql_store.begin() as tx:
        got = tx.add_posts([post(url=thread), post(url=thread + "#comment-556829", text="又开始打了", reply_to=thread),
                            post(url=thread + "#comments")], NOW)
    assert (got.new, got.duplicate) == (2, 1)
    with sql_store.read() as tx:
        assert tx.count_posts() == 2


def test_same_author_same_text_at_two_urls_is_one_post_two_authors_two(sql_store):
    with sql_store.begin() as tx:
        tx.add_posts([post(url="http://a/1"), post(url="http://b/2"), post(url="http://c/3", author="b")], NOW)
        assert tx.count_posts() == 2


def test_seen_again_refreshes_engagement(sql_store):
    with sql_store.begin() as tx:
        tx.add_posts([post(engagement={"reposts": 3})], NOW)
    with sql_store.begin() as tx:
        result = tx.add_posts([post(engagement={"reposts": 40, "comments": 2})], NOW)
    assert result.updated == 1 and result.new == 0
    with sql_store.read() as tx:
        assert tx.get_post(1).engagement == {"reposts": 40, "comments": 2}


def test_snapshot_kept_at_first_sight(sql_store):
    with sql_store.begin() as tx:
        tx.add_posts([post(raw="<html>原始页面</html>")], NOW)
    with sql_store.begin() as tx:
        tx.add_posts([post(raw="<html>后来改过的页面</html>", engagement={"likes": 1})], NOW)
    files = list(sql_store.snapshot_dir.rglob("*.txt"))
    assert len(files) == 1
    assert "原始页面" in files[0].read_text(encoding="utf-8")


def test_crash_mid_batch_loses_and_doubles_nothing(sql_store):
    with pytest.raises(RuntimeError), sql_store.begin() as tx:
        tx.add_posts([post(url="http://x/a")], NOW)
        raise RuntimeError("crash after the first post")
    with sql_store.read() as tx:
        assert tx.count_posts() == 0  # rolled back whole
    with sql_store.begin() as tx:
        assert tx.add_posts([post(url="http://x/a"), post(url="http://x/b", text="另一条")], NOW).new == 2


def test_naive_datetimes_are_refused(sql_store):
    with pytest.raises(StoreError), sql_store.begin() as tx:
        tx.add_posts([post(published_at=dt.datetime(2026, 1, 1))], NOW)


def test_times_come_back_aware_utc(sql_store):
    with sql_store.begin() as tx:
        tx.add_posts([post(published_at=dt.datetime(2026, 11, 28, 9, 30, tzinfo=dt.timezone(dt.timedelta(hours=8))))],
                     NOW)
    with sql_store.read() as tx:
        got = tx.get_post(1).published_at
    assert got == dt.datetime(2026, 11, 28, 1, 30, tzinfo=dt.UTC) and got.tzinfo is not None
