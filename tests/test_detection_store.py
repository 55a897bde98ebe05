"""The detection pass's store work (SQLite and PostgreSQL): the grouping rule decides the same on
the candidate summaries as on whole incidents; a post another worker claimed first is left to it;
two workers on one pending set process every post once; an old database gets the grouping index."""

from __future__ import annotations

import dataclasses
import datetime as dt
import threading

import sqlalchemy as sa

from alerts.config import alerts_config
from alerts.detection import process_pending
from alerts.grouping import MAX_KEYWORDS, last_activity
from alerts.rules import decide
from core.jurisdiction import load_jurisdiction
from core.models import Grade, Incident, PostRole, RawPost, State
from core.timeutil import SHANGHAI
from storage.migrations import upgrade_to_head
from storage.sql import open_store

NOW = dt.datetime(2026, 11, 30, 9, 0, tzinfo=SHANGHAI)
COMPLAINTS = [
    "观音桥街道建新北路工地夜间施工打桩噪音扰民，凌晨两点还在施工",
    "观音桥街道建新北路工地晚上打桩太吵了，凌晨还在施工",
    "石马河街道石马河又黑又臭，有人往河里偷排污水",
    "石马河街道石马河发臭，排污口一直往河里排黑水",
    "五里店街道垃圾站好几天没人清运，臭气熏天",
    "五里店街道垃圾站没人清运，苍蝇乱飞臭气熏天",
]


def _incident(analysis, words, *, place, state, last, closed=None, merged_into=None) -> Incident:
    return Incident(
        title="t", unit=None, unit_code=analysis.unit_code, topic=analysis.topic, grade=Grade.YELLOW, state=state,
        opened_at=last - dt.timedelta(hours=2), updated_at=closed or last, place=place, keywords=list(words),
        last_post_at=last, milestones={"closed": closed} if closed else {}, merged_into=merged_into,
        reach={"posts": 3, "authors": ["a", "b"]}, deadlines={"sign_off": last + dt.timedelta(days=1)})


def test_rule_decides_the_same_on_summaries_as_on_whole_incidents(sql_store, analyzer):
    pack = analyzer.jurisdiction
    config = alerts_config(pack)
    window = dt.timedelta(hours=float(config.grouping.get("window_hours", 72)))
    reopen = dt.timedelta(days=float(config.grouping.get("reopen_days", 30)))
    seen: list[tuple] = []
    with sql_store.begin() as tx:
        for n, text in enumerate(COMPLAINTS[::2]):  # incidents in every state the rule tells apart
            a = analyzer.analyze(text)
            words = analyzer.salience.event_words(analyzer.segmenter.cut(text), MAX_KEYWORDS)
            # The last matter has no open incident in the window: its posts reopen a closed one.
            live = State.ASSIGNED if n < 2 else State.CLOSED
            for kw in (
                dict(place=a.place, state=live, last=NOW - dt.timedelta(hours=5)),
                dict(place="别处", state=State.SIGNED if n < 2 else State.CLOSED, last=NOW - dt.timedelta(hours=1)),
                dict(place=None, state=State.RESPONDED, last=NOW - dt.timedelta(days=8)),  # out of the window
                dict(place=a.place, state=State.CLOSED, last=NOW - dt.timedelta(days=9),
                     closed=NOW - dt.timedelta(days=8)),
                dict(place=a.place, state=State.CLOSED, last=NOW - dt.timedelta(days=9),
                     closed=NOW - dt.timedelta(days=40)),  # closed too long ago
                dict(place=None, state=State.NEW, last=NOW - dt.timedelta(hours=2), merged_into=1),
            ):
                tx.insert_incident(_incident(a, words, **kw))
    with sql_store.read() as tx:
        for text in COMPLAINTS:
            post = RawPost(source="weibo", text=text, url=f"https://x/{len(seen)}", published_at=NOW)
            a = analyzer.analyze(text)
            words = analyzer.salience.event_words(analyzer.segmenter.cut(text), MAX_KEYWORDS)
            unit = a.unit_code if a.confidence >= config.min_unit_confidence else None
            args = (unit, a.topic, NOW - window, NOW - reopen)
            whole = tx.grouping_candidates(*args)
            summaries = tx.grouping_candidates(*args, summary=True)
            assert [s.id for s in summaries] == [w.id for w in whole] and whole
            for s, w in zip(summaries, whole, strict=True):  # what the rule reads is the real thing
                for f in ("unit_code", "topic", "place", "state", "merged_into", "updated_at", "keywords",
                          "public_reply_at"):
                    assert getattr(s, f) == getattr(w, f), f
                assert last_activity(s) == last_activity(w)
                if w.state is State.CLOSED:
                    assert s.milestones == w.milestones
            on_whole = decide(post, a, whole, pack, NOW, words, analyzer.salience.weight, PostRole.REPORT)
            on_summary = decide(post, a, summaries, pack, NOW, words, analyzer.salience.weight, PostRole.REPORT)
            assert dataclasses.replace(on_summary, incident=None) == dataclasses.replace(on_whole, incident=None)
            assert (on_summary.incident and on_summary.incident.id) == (on_whole.incident and on_whole.incident.id)
            seen.append((on_whole.action, len(whole)))
    assert {"merge", "reopen"} <= {action for action, _ in seen}  # the comparison covered both


def _add(store, texts) -> list[int]:
    with store.begin() as tx:
        return tx.add_posts([RawPost(source="weibo", text=t, author=f"u{i}", url=f"https://w/{i}", published_at=NOW)
                             for i, t in enumerate(texts)], now=NOW).new_ids


class _Worker:
    """An analyzer stand-in: the real one, plus a hook run before each analysis."""

    def __init__(self, analyzer, before) -> None:
        self._analyzer, self._before = analyzer, before
        self.jurisdiction, self.segmenter, self.salience = analyzer.jurisdiction, analyzer.segmenter, analyzer.salience

    def analyze_with_tokens(self, text):
        self._before(text)
        return self._analyzer.analyze_with_tokens(text)


def test_post_claimed_by_another_worker_meanwhile_is_left_to_it(sql_store, analyzer):
    ids = _add(sql_store, COMPLAINTS[:3])
    by_text = dict(zip(COMPLAINTS[:3], ids, strict=True))

    def other_worker_claims(text):
        if text == COMPLAINTS[1]:
            with sql_store.begin() as tx:
                assert tx.claim_post(by_text[text], NOW)

    report = process_pending(sql_store, _Worker(analyzer, other_worker_claims), now=NOW,
                             config=alerts_config(analyzer.jurisdiction))
    assert report.processed == 2 and report.failed == 0
    with sql_store.read() as tx:
        assert tx.get_analysis(by_text[COMPLAINTS[1]]) is None  # nothing written for the other's post
        assert tx.get_analysis(by_text[COMPLAINTS[0]]) is not None
        attached = tx.conn.execute(sa.text("SELECT post_id FROM incident_posts")).scalars().all()
    assert by_text[COMPLAINTS[1]] not in attached and by_text[COMPLAINTS[0]] in attached


def test_two_workers_on_one_pending_set_process_each_post_once(sql_store, analyzer):
    texts = [f"{t}（第{n}次投诉）" for n in range(3) for t in COMPLAINTS] + ["今天天气不错，去公园散步"]
    ids = _add(sql_store, texts)
    config = alerts_config(load_jurisdiction("jiangbei"))
    # Both read the same pending list before either analyses anything, so they race for every post.
    barrier = threading.Barrier(2)
    started: set[int] = set()

    def wait_for_the_other(_text):
        me = threading.get_ident()
        if me not in started:
            started.add(me)
            barrier.wait(timeout=30)

    reports, errors = [], []

    def run(store):
        try:
            reports.append(process_pending(store, _Worker(analyzer, wait_for_the_other), now=NOW, config=config))
        except Exception as exc:  # surfaced by the assertion below
            errors.append(exc)
            barrier.abort()

    # Two stores (two connection pools), opened here: Alembic's setup is not thread-safe.
    stores = [open_store(sql_store.url) for _ in range(2)]
    workers = [threading.Thread(target=run, args=(store,)) for store in stores]
    for w in workers:
        w.start()
    for w in workers:
        w.join(timeout=120)
    for store in stores:
        store.dispose()
    assert not errors and len(reports) == 2
    assert sum(r.processed for r in reports) == len(ids) and sum(r.failed for r in reports) == 0
    with sql_store.read() as tx:
        assert tx.unprocessed_posts() == []
        attached = tx.conn.execute(sa.text("SELECT post_id FROM incident_posts")).scalars().all()
        incidents = tx.list_incidents(limit=1000)
        opened = tx.conn.execute(sa.text("SELECT count(*) FROM audit_log WHERE action = 'open'")).scalar_one()
    assert len(attached) == len(set(attached)) == sum(r.opened + r.merged + r.reopened for r in reports)
    assert len(incidents) == opened == sum(r.opened for r in reports)
    assert sum(i.post_count for i in incidents) == len(attached)


def test_database_from_before_migrations_gets_the_grouping_index(tmp_path):
    url = f"sqlite:///{tmp_path / 'old.db'}"
    engine = sa.create_engine(url)
    with engine.begin() as conn:  # an incidents table from before the index existed
        conn.exec_driver_sql("CREATE TABLE incidents (id INTEGER PRIMARY KEY, title TEXT NOT NULL, unit VARCHAR(100), "
                             "unit_code VARCHAR(20), department VARCHAR(100), topic VARCHAR(20) NOT NULL, "
                             "place VARCHAR(200), grade VARCHAR(10) NOT NULL, grade_reasons JSON NOT NULL, "
                             "state VARCHAR(16) NOT NULL, opened_at DATETIME NOT NULL, updated_at DATETIME NOT NULL, "
                             "deadlines JSON NOT NULL, post_count INTEGER NOT NULL)")
    upgrade_to_head(engine)
    names = {i["name"] for i in sa.inspect(engine).get_indexes("incidents")}
    assert "ix_incidents_unit_topic" in names
    upgrade_to_head(engine)  # and again: nothing to do
    engine.dispose()
