"""The detection pass's groups (issue 17): a group of posts is worked in memory and written at its
end. It decides exactly what one post per transaction decides (incidents, links, grades, audit,
feed lines, notifications: SQLite and PostgreSQL against a post-at-a-time run); a reply finds the
post it answers linked earlier in the same group; a group whose commit fails leaves every one of
its posts pending and writes nothing, and the next pass processes each post once."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import sqlalchemy as sa

from alerts.config import alerts_config
from alerts.detection import process_pending
from core.models import RawPost
from core.timeutil import SHANGHAI
from storage.sql import SqlStore, open_store

NOW = dt.datetime(2026, 11, 30, 9, 0, tzinfo=SHANGHAI)
EVENT = ["观音桥街道建新北路工地夜间施工打桩噪音扰民，凌晨两点还在施工", "建新北路工地晚上打桩太吵了，凌晨还在施工",
         "观音桥建新北路那个工地半夜打桩，吵得娃娃睡不着", "建新北路工地又在夜间施工，打桩机响到凌晨"]
OTHERS = ["石马河街道石马河又黑又臭，有人往河里偷排污水", "五里店街道垃圾站好几天没人清运，臭气熏天",
          "寸滩街道有个汽修厂喷漆房味道好大，没有任何处理", "今天天气不错，去公园散步"]


def _posts() -> list[RawPost]:
    """One event told by twelve residents within the hour (its grade rises as they come and their
    reach grows), other matters between them, and a comment that names nothing answering the
    first report."""
    posts = []
    for i in range(12):
        posts.append(RawPost(source="weibo", text=EVENT[i % len(EVENT)] + "（" + "!" * i + "）", author=f"居民{i}",
                             url=f"https://w/event/{i}", published_at=NOW - dt.timedelta(minutes=50 - 3 * i),
                             engagement={"reposts": 300 * i, "comments": 50 * i}))
        if i % 3 == 0:
            posts.append(RawPost(source="weibo", text=OTHERS[i // 3], author=f"邻居{i}", url=f"https://w/other/{i}",
                                 published_at=NOW - dt.timedelta(minutes=45 - 3 * i)))
    posts.append(RawPost(source="weibo", text="娃娃才好小啊，吓死了", author="路人", url="https://w/comment",
                         published_at=NOW - dt.timedelta(minutes=5), reply_to="https://w/event/0"))
    return posts


def _outcome(store: SqlStore) -> dict[str, list[tuple]]:
    """Everything the pass writes, without ids the two databases could number differently."""
    queries = {
        "incidents": ("SELECT id, title, unit_code, topic, grade, state, post_count, keywords, reach FROM incidents "
                      "ORDER BY id"),
        "links": "SELECT incident_id, post_id, role FROM incident_posts ORDER BY post_id",
        "audit": "SELECT incident_id, action, from_state, to_state, detail FROM audit_log ORDER BY id",
        "events": "SELECT kind, incident_id, payload FROM events ORDER BY id",
        "outbox": "SELECT incident_id, channel, address, lines, events FROM outbox ORDER BY id",
        "analyses": "SELECT post_id, relevant, unit_code, topic FROM analyses ORDER BY post_id",
        "pending": "SELECT id FROM raw_posts WHERE processed_at IS NULL",
    }
    with store.engine.connect() as conn:
        return {k: [tuple(_plain(v) for v in row) for row in conn.execute(sa.text(q))] for k, q in queries.items()}


def _plain(value: object) -> str:
    """A column's value as the same text from either database (SQLite hands JSON over as text and
    booleans as 0/1; PostgreSQL as objects and True/False)."""
    if isinstance(value, str) and value[:1] in "[{":
        value = json.loads(value)
    if isinstance(value, bool):
        value = int(value)
    return json.dumps(value, ensure_ascii=False, sort_keys=True) if isinstance(value, list | dict) else str(value)


def _run(store: SqlStore, analyzer, per_tx: int) -> dict[str, list[tuple]]:
    with store.begin() as tx:
        tx.add_posts(_posts(), now=NOW)
    report = process_pending(store, analyzer, now=NOW, config=alerts_config(analyzer.jurisdiction), per_tx=per_tx)
    assert report.failed == 0 and report.processed == len(_posts())
    return _outcome(store)


def test_a_group_decides_and_writes_what_one_post_at_a_time_does(sql_store, analyzer, tmp_path: Path):
    grouped = _run(sql_store, analyzer, per_tx=200)
    one_by_one = open_store(f"sqlite:///{tmp_path}/one.db")
    try:
        reference = _run(one_by_one, analyzer, per_tx=1)
    finally:
        one_by_one.dispose()
    assert grouped == reference
    # What the comparison covered: the event's grade rose within the group, more than once in
    # the feed; the reply joined the first report's incident; nothing is left pending.
    incident_of = {post_id: incident for incident, post_id, _ in grouped["links"]}
    assert incident_of[str(len(_posts()))] == incident_of["1"]  # the comment (last post) joined the first's
    assert len([e for e in grouped["events"] if e[0] == "grade_raised"]) >= 2
    assert [a for a in grouped["audit"] if a[1] == "grade_raised"]
    assert grouped["pending"] == []


# A row that breaks a deferred foreign key when the group links the post with this text: SQLite
# accepts the insert and refuses the COMMIT, as a full disk or a lost connection fails a
# transaction after its work was done.
_FAIL_AT_COMMIT = [
    "CREATE TABLE trap_parent (id INTEGER PRIMARY KEY)",
    "CREATE TABLE trap (parent INTEGER REFERENCES trap_parent(id) DEFERRABLE INITIALLY DEFERRED)",
    "CREATE TRIGGER trap_link AFTER INSERT ON incident_posts WHEN NEW.post_id = 7 "
    "BEGIN INSERT INTO trap VALUES (999); END",
]


def test_a_group_that_fails_at_commit_loses_nothing_and_the_next_pass_doubles_nothing(store, analyzer, tmp_path):
    with store.begin() as tx:
        ids = tx.add_posts(_posts(), now=NOW).new_ids
        for sql in _FAIL_AT_COMMIT:
            tx.conn.exec_driver_sql(sql)
    assert ids is not None and 7 in ids
    config = alerts_config(analyzer.jurisdiction)
    failed = process_pending(store, analyzer, now=NOW, config=config, per_tx=6)
    # Posts 1-6 went through in the first group; the second group (7-12) failed at its commit and
    # wrote nothing (no link, no analysis, no audit entry, no incident), and the pass stopped.
    assert (failed.processed, failed.failed) == (6, 1)
    after_failure = _outcome(store)
    assert [p for (p,) in after_failure["pending"]] == [str(i) for i in ids[6:]]
    assert {post for _, post, _ in after_failure["links"]} <= {str(i) for i in ids[:6]}
    assert [a for (a, *_) in after_failure["analyses"]] == [str(i) for i in ids[:6]]
    with store.begin() as tx:
        tx.conn.exec_driver_sql("DROP TRIGGER trap_link")
    done = process_pending(store, analyzer, now=NOW, config=config, per_tx=6)
    assert done.processed == len(ids) - 6 and done.failed == 0
    resumed = _outcome(store)
    # Each post analysed once, linked at most once, audited once: as an uninterrupted run.
    reference_store = open_store(f"sqlite:///{tmp_path}/reference.db")
    try:
        reference = _run(reference_store, analyzer, per_tx=6)
    finally:
        reference_store.dispose()
    assert resumed == reference
    assert len({post for _, post, _ in resumed["links"]}) == len(resumed["links"])


def test_a_comment_on_a_chatter_comment_finds_the_thread_incident_within_one_group(tmp_path: Path, analyzer):
    """A comment answering a comment that joined nothing ("楼主这个盘二手房啥价格？") is still under
    the complaint: the thread is walked up to the post in an incident, the chatter linked by
    nothing, the root linked earlier in the same group, and a group decides as one post at a
    time does."""
    thread = [
        ("root", None, "观音桥街道建新北路工地凌晨两点还在打桩，咚咚咚的，整栋楼都在抖"),
        ("price", "root", "楼主这个盘现在二手房啥价格？想在附近看套房"),
        ("answer", "price", "回楼上，我家老汉一晚上醒了四回，你说呢"),
    ]
    posts = [RawPost(source="weibo", text=text, author=f"居民{i}", url=f"https://w/t/{key}",
                     reply_to=f"https://w/t/{parent}" if parent else None,
                     published_at=NOW - dt.timedelta(minutes=30 - 10 * i)) for i, (key, parent, text) in
             enumerate(thread)]
    outcomes = []
    for per_tx in (10, 1):
        st = open_store(f"sqlite:///{tmp_path}/t{per_tx}.db")
        try:
            with st.begin() as tx:
                tx.add_posts(posts, now=NOW)
            process_pending(st, analyzer, now=NOW, config=alerts_config(analyzer.jurisdiction), per_tx=per_tx)
            outcomes.append(_outcome(st))
        finally:
            st.dispose()
    grouped, one_by_one = outcomes
    assert grouped == one_by_one
    incident_of = {post_id: incident for incident, post_id, _ in grouped["links"]}
    assert "2" not in incident_of and incident_of["3"] == incident_of["1"]
