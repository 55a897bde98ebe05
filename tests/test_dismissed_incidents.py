"""An incident closed as 误报 stays closed: a new post like it is recorded with it (absorbed), never
reopening it nor opening its twin, so the duty desk's "this is not ours" holds for every hour after
(alerts.grouping.dismissed). Real SQLite store, the real analyser and grouping rule."""

# ruff: noqa: F811  (pytest fixtures imported from the tests that define them, used as arguments)
from __future__ import annotations

import datetime as dt

from alerts.corrections import dismiss, undo
from alerts.detection import process_pending
from core.models import RawPost, State
from tests.test_briefing import add, config, incident_of, jurisdiction, local  # noqa: F401  (fixtures)

LEAK = "观音桥街道建新北路化工仓库泄漏，刺鼻气味弥漫整个小区，好几个老人头晕送医院了。"
AGAIN = ["建新北路化工仓库泄漏的气味到现在还没散，观音桥这边小区里孩子都在咳嗽。",
         "观音桥建新北路化工仓库泄漏第二天，刺鼻味道还在，希望尽快查明原因。",
         "又闻到建新北路那个化工仓库的刺鼻气味了，泄漏到底处理没有，观音桥居民很担心。",
         "建新北路化工仓库泄漏，观音桥小区刺鼻气味一整天，老人小孩都不敢开窗。"]
T0 = local(2026, 12, 1, 9)


def _post(store, analyzer, config, text, at, url):
    with store.begin() as tx:
        (pid,) = tx.add_posts([RawPost(source="weibo", text=text, author="网民", url=url, published_at=at)],
                              now=at).new_ids
    return pid, process_pending(store, analyzer, now=at, config=config)


def test_a_post_like_a_dismissed_incident_is_absorbed_not_reopening_it(store, analyzer, config):
    first = add(store, analyzer, config, LEAK, T0, "居民甲", "https://weibo.example/leak1")
    incident = incident_of(store, first)
    dismiss(store, config, incident.id, "duty1", "environment", "消防演习，不是真的泄漏",
            now=T0 + dt.timedelta(hours=1))
    with store.read() as tx:
        before = tx.get_incident(incident.id)
        incidents_before = len(tx.list_incidents(limit=100))
        notes_before = len(tx.notifications_after(0))
    assert before.state is State.CLOSED

    # Every hour the same non-matter is posted about again: recorded with the dismissed incident.
    for hour in (2, 3, 4):
        pid, report = _post(store, analyzer, config, AGAIN[hour - 2], T0 + dt.timedelta(hours=hour),
                            f"https://weibo.example/again{hour}")
        assert (report.reopened, report.opened, report.merged) == (0, 0, 0), report
        assert report.absorbed == 1
        assert incident_of(store, pid).id == incident.id
    with store.read() as tx:
        after = tx.get_incident(incident.id)
        audit = tx.audit_for(incident.id)
        assert len(tx.list_incidents(limit=100)) == incidents_before  # no twin opened
        assert len(tx.notifications_after(0)) == notes_before  # nobody is called about it
    assert after.state is State.CLOSED and after.reopened == 0 and after.grade is before.grade
    assert after.deadlines == before.deadlines and after.milestones == before.milestones
    assert [e.action for e in audit].count("reopen") == 0
    assert [e.detail.get("dismissed") for e in audit if e.action == "add_post"] == [True, True, True]

    # Undoing the 误报 makes it an ordinary incident again: the absorbed posts are there, and a new
    # post now joins it as any other (it is open again).
    undo(store, config, incident.id, "duty1", "看错了，确是泄漏", now=T0 + dt.timedelta(hours=5))
    pid, report = _post(store, analyzer, config, AGAIN[3], T0 + dt.timedelta(hours=6), "https://weibo.example/again6")
    assert report.absorbed == 0 and report.merged == 1 and incident_of(store, pid).id == incident.id


def test_an_ordinary_closed_incident_still_reopens(store, analyzer, config):
    from alerts.grouping import dismissed

    first = add(store, analyzer, config, LEAK, T0, "居民甲", "https://weibo.example/leak1")
    incident = incident_of(store, first)
    with store.begin() as tx:  # closed by the workflow (审核办结), not dismissed
        closed = tx.get_incident(incident.id)
        closed.state, closed.milestones["closed"] = State.CLOSED, T0 + dt.timedelta(hours=1)
        closed.milestones["dismissed"] = T0  # a stamp left from an earlier, undone-by-reopen 误报
        tx.update_incident(closed)
    assert not dismissed(closed)
    _pid, report = _post(store, analyzer, config, AGAIN[0], T0 + dt.timedelta(hours=2), "https://weibo.example/again")
    assert report.reopened == 1 and report.absorbed == 0
