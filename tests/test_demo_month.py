"""The demo month (issue 19): played through the real pipeline and workflow, then read through the
real API as a newcomer's console would: every state, on-time rates, overdue and escalated
incidents, a two-week trend, last week's briefing. One build serves every check of the session
(tests/demo_seed.py; tests/test_demo_browser.py shares it)."""

# ruff: noqa: F811  (the fixture imported from tests/demo_seed.py, used as an argument)
from __future__ import annotations

import datetime as dt
from collections import Counter

import httpx
from sqlalchemy import select

from core.models import RawPost, State
from core.settings import Settings
from core.timeutil import SHANGHAI, utcnow
from crawlers.collect import collect
from crawlers.feeds.reader import parse_feed
from ecowatch import context
from ecowatch.commands_users import DEMO_PASSWORD
from ecowatch.demo.month import BUILT_MARKER, COPIED_TO, COPY_REPLY, DAYS, build_demo_month
from ecowatch.demo.server import LIVE_AT_START, LIVE_EVERY, SOURCES, live_feed, live_pool, serve_demo_sources
from nlp.analyzer import Analyzer
from storage.schema import raw_posts
from storage.sql import SqlStore
from tests.api_seed import login
from tests.demo_seed import Demo, demo  # noqa: F401  (fixture: the month, built once a session)


def _get(demo: Demo, path: str, **params: str | int) -> httpx.Response:
    resp = httpx.get(demo.base + path, params=params, headers=demo.auth, timeout=30)
    resp.raise_for_status()
    return resp


def test_every_state_and_the_workflow_history(demo: Demo) -> None:
    report = demo.report
    incidents = _get(demo, "/api/incidents", limit=500).json()
    assert {i["state"] for i in incidents} == {s.value for s in State}
    assert report.posts >= 400 and len(incidents) == report.incidents >= 60
    opened = [dt.datetime.fromisoformat(i["opened_at"]) for i in incidents]
    assert utcnow() - min(opened) > dt.timedelta(days=DAYS - 3)  # the month, not one morning
    actions: set[str] = set()
    rungs: set[str] = set()
    moved = 0  # returned, then assigned to another unit
    for incident in incidents:
        audit = _get(demo, f"/api/incidents/{incident['id']}").json()["audit"]
        actions |= {a["action"] for a in audit}
        rungs |= {a["detail"].get("rung") for a in audit if a["action"] == "escalate"}
        moved += any(a["action"] == "assign" and a["detail"].get("from_unit") not in (None, a["detail"]["unit"])
                     for a in audit)
    # Returned and reassigned, merged, extended, acknowledged, sent back at review, reopened.
    assert moved and {"return", "merge", "extend", "acknowledge", "reject", "reopen", "close"} <= actions
    assert "supervision" in rungs  # 督办
    viral = max(incidents, key=lambda i: i["post_count"])
    assert viral["post_count"] >= 30 and viral["grade"] in ("orange", "red")
    assert _get(demo, "/api/incidents", overdue="true").json()


def _published(store: SqlStore) -> list[dt.datetime]:
    with store.read() as tx:
        rows = tx.conn.execute(select(raw_posts.c.published_at)).scalars().all()
    return [(p if p.tzinfo else p.replace(tzinfo=dt.UTC)).astimezone(SHANGHAI) for p in rows]


def test_a_district_month_of_posts(demo: Demo) -> None:
    """10-30 posts a day (bursts above), day and night, fewer in the small hours than in the evening."""
    published = _published(demo.store)
    days = Counter(p.date() for p in published)
    full = [days[d] for d in sorted(days)[1:-1]]  # the first and the last day are partial
    # Every full day has some (a quiet Sunday may have only a few: the day boundaries move with the
    # hour the demo is built at), none a flood.
    assert len(full) >= DAYS - 2 and min(full) >= 3 and max(full) <= 80
    assert sorted(full)[len(full) // 2] in range(10, 31)  # the median day
    hours = Counter(p.hour for p in published)
    assert sum(hours[h] for h in (2, 3, 4)) * 4 < sum(hours[h] for h in (19, 20, 21))
    assert len(hours) >= 22 and sum(hours[h] for h in range(6)) >= 15  # night owls post too


def test_a_burst_is_one_incident(demo: Demo) -> None:
    """The dead fish in the 嘉陵江: the original and its reposts are one incident, graded up."""
    with demo.store.read() as tx:
        ids = {i.id for i in (tx.thread_incident(f"https://demo.invalid/month/deadfish{path}")
                              for path in ["", *(f"/repost-{n}" for n in range(16))]) if i is not None}
    assert len(ids) == 1
    incident = _get(demo, f"/api/incidents/{ids.pop()}").json()
    assert incident["post_count"] >= 20 and incident["grade"] != "blue"


def test_statistics_and_briefing(demo: Demo) -> None:
    stats = _get(demo, "/api/stats").json()
    rates = [u["sign_off_on_time_rate"] for u in stats["by_unit"]] + [u["response_on_time_rate"]
                                                                     for u in stats["by_unit"]]
    assert any(r is not None and r < 1 for r in rates) and any(r == 1 for r in rates)  # some late, some on time
    days = stats["by_day"][-14:]
    assert sum(d["count"] > 0 for d in days) >= 12 and sum(d["count"] for d in days) >= 25  # a trend, not one bar
    # The desk's corrections: 改派, 并单, 误报, 修正, 调整等级.
    assert {"wrong_unit", "merged", "not_relevant", "edited", "regraded"} <= {c["key"] for c in stats["corrections"]}
    last_week = (utcnow().astimezone(SHANGHAI) - dt.timedelta(days=7)).isocalendar()
    html = _get(demo, f"/api/briefings/{last_week.year}-W{last_week.week:02d}", format="html").text
    week = [i for i in _get(demo, "/api/incidents", limit=500).json()
            if dt.datetime.fromisoformat(i["opened_at"]).astimezone(SHANGHAI).isocalendar()[:2] == last_week[:2]]
    assert week and any(i["unit"] in html for i in week if i["unit"])  # last week's incidents are in it


def test_the_duty_rota(demo: Demo) -> None:
    """Imported as a 值班表 file: someone is on duty now, the month's shifts are behind."""
    assert demo.report.shifts > 2 * DAYS
    board = _get(demo, "/api/rota/now").json()
    assert board["on_duty"]["primary"]["name"] in ("duty", "duty2", "duty3") and not board["gaps"]


def test_information_sharing(demo: Demo) -> None:
    """The 重大 event's 专报 (首报, 续报, 终报, each sent), the city bureau's item, the units' 信息简报."""
    viral = max(_get(demo, "/api/incidents", limit=500).json(), key=lambda i: i["post_count"])
    reports = _get(demo, f"/api/incidents/{viral['id']}/reports").json()
    assert [r["kind"] for r in reports][:2] == ["first", "followup"] and reports[-1]["kind"] == "final"
    assert all(r["sendings"] for r in reports)
    items = _get(demo, "/api/inbound").json()
    assert len(items) == 1 and items[0]["state"] == "closed"
    months = {(utcnow() - dt.timedelta(days=d)).astimezone(SHANGHAI).strftime("%Y-%m") for d in (0, DAYS)}
    assert sum(len(_get(demo, "/api/briefs", month=m).json()) for m in months) == 5


def test_a_department_logs_in_to_what_was_copied_to_it(demo: Demo) -> None:
    """Demo users for every role, the department (会办) included: 区水利局 sees the viral event copied
    to it, with its own answer, and nothing else."""
    water = login(demo.base, COPIED_TO, DEMO_PASSWORD)
    mine = httpx.get(demo.base + "/api/incidents", headers=water, timeout=30).json()
    viral = max(_get(demo, "/api/incidents", limit=500).json(), key=lambda i: i["post_count"])
    assert [i["id"] for i in mine] == [viral["id"]]
    detail = httpx.get(f"{demo.base}/api/incidents/{viral['id']}", headers=water, timeout=30).json()
    assert [a["action"] for a in detail["audit"] if a["action"] in ("copy", "reply")] == ["copy", "reply"]
    assert any(a["detail"].get("opinion") == COPY_REPLY for a in detail["audit"])


def test_an_existing_demo_starts_at_once(demo: Demo) -> None:
    store, data_dir = demo.store, demo.data_dir
    assert (data_dir / BUILT_MARKER).exists()

    def never() -> Analyzer:
        raise AssertionError("the month is there: nothing is played again")

    assert build_demo_month(store, never, context.alerts_config(Settings(data_dir=data_dir)), data_dir,
                            utcnow()) is None



def test_start_up_is_a_trickle_not_a_pile(demo: Demo) -> None:
    """The demo's news site and feeds, crawled for real at start-up, bring nothing the month has
    not stored already (the month replays them): what moves is the live feed, one post at a time."""
    server, base = serve_demo_sources()
    try:
        settings = Settings(data_dir=demo.data_dir)
        sources = context.sources(settings, {"base": base}, SOURCES.parent / "sources.toml")
        reports = {s.name: collect(s, demo.store, settings) for s in sources if s.url and "live" not in s.url}
    finally:
        server.shutdown()
    assert all(r.ok for r in reports.values()) and reports["demo-news"].items >= 10
    assert sum(r.new for r in reports.values()) == 0, reports


def test_the_live_feed_has_a_severe_one_now_and_then(analyzer: Analyzer) -> None:
    """Two posts at start-up, then one every LIVE_EVERY; within ten minutes one tells of harm to
    people or a spill (the signals that make an incident 较大 or 重大)."""
    started = utcnow()
    posts = parse_feed(live_feed("127.0.0.1:1", started, started + dt.timedelta(minutes=10)).encode(), "live").posts
    assert len(parse_feed(live_feed("127.0.0.1:1", started, started).encode(), "live").posts) <= 2
    severe = {"casualty", "poisoning", "explosion", "leak", "visible_pollution"}
    assert any(severe & set(analyzer.analyze(p.full_text).signals) for p in posts)


def test_the_live_feed_moves() -> None:
    """The live source serves a new post every LIVE_EVERY, none from the future; round the pool
    again, the same complaint comes from another resident (a new voice, not a duplicate)."""
    started = utcnow()

    def feed(after: int) -> list[RawPost]:
        return parse_feed(live_feed("127.0.0.1:1", started, started + after * LIVE_EVERY).encode(), "live").posts

    first, later, round_later = feed(0), feed(3), feed(len(live_pool()))
    assert len(first) == LIVE_AT_START + 1 and len(later) == len(first) + 3
    assert [p.published_at for p in later[3:]] == [p.published_at for p in first]
    assert all(p.published_at and p.published_at <= started + 3 * LIVE_EVERY for p in later)
    assert round_later[0].text == first[0].text and round_later[0].author != first[0].author
