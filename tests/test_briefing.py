"""The weekly briefing from a seeded week of known posts and incidents (real SQLite store, real
alerts workflow): every figure, the DOCX read back, the HTML escaped, the charts drawn in a CJK font;
an empty week and a week with a blind source say so honestly."""

from __future__ import annotations

import datetime as dt
import io
import warnings

import docx
import pytest

from alerts import actions
from alerts.config import alerts_config
from alerts.detection import process_pending
from briefing import charts as charts_mod
from briefing.figures import Briefing
from briefing.layout import HANDLING_HEADER
from briefing.period import daily, iso_week, last_full_week
from briefing.service import build_briefing, keep, list_kept, render
from core.jurisdiction import load_jurisdiction
from core.models import RawPost
from core.timeutil import SHANGHAI

GYQ, SMH = "500105006000", "500105003000"  # 观音桥街道, 石马河街道
WEEK = "2026-W48"  # Monday 2026-11-23 to Sunday 2026-11-29


def local(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=SHANGHAI)


AS_OF = local(2026, 11, 30, 8)  # the Monday briefing: figures are taken as of the week's end
WEEK_END = local(2026, 11, 30)


@pytest.fixture(scope="module")
def jurisdiction():
    return load_jurisdiction("jiangbei")


@pytest.fixture
def config(jurisdiction):
    cfg = alerts_config(jurisdiction)
    cfg.quiet_hours = None
    return cfg


def add(store, analyzer, config, text, at, author, url, **engagement):
    with store.begin() as tx:
        ids = tx.add_posts([RawPost(source="weibo", text=text, author=author, url=url, published_at=at,
                                    engagement=engagement)], now=at).new_ids
    process_pending(store, analyzer, now=at, config=config)
    return ids[0]


def runs(store, source, start, end, every_hours=6, ok_until=None):
    at = start
    with store.begin() as tx:
        while at < end:
            ok = ok_until is None or at <= ok_until
            tx.record_source_run(source, at, at + dt.timedelta(minutes=1), ok, 5 if ok else 0, 1 if ok else 0,
                                 None if ok else "HTTP 503 from source")
            at += dt.timedelta(hours=every_hours)


def incident_of(store, post_id):
    with store.read() as tx:
        for inc in tx.list_incidents(limit=100):
            if post_id in [p.id for p, _, _ in tx.incident_post_rows(inc.id)]:
                return inc
    raise AssertionError(f"post {post_id} in no incident")


@pytest.fixture
def seeded(store, analyzer, config):
    """W47: one incident (D, never signed) and a chat post. W48: incident A (noise, 观音桥, grows to
    较大, signed on time, responded late, resolved, closed), incident B (water, 石马河 returns it,
    reassigned to 观音桥 which never signs), a chat post. Weibo ran every 6 hours throughout."""
    ids = {}
    ids["D"] = add(store, analyzer, config, "石马河街道南桥寺社区的排污口往河沟里排黄水，投诉多次没人管",
                   local(2026, 11, 17, 9), "居民戊", "https://weibo.example/d")
    ids["chat47"] = add(store, analyzer, config, "周末去观音桥步行街逛街，人好多", local(2026, 11, 18, 20), "路人",
                        "https://weibo.example/c1")
    ids["A1"] = add(store, analyzer, config, "观音桥街道建新北路工地夜间施工打桩噪音扰民，凌晨两点还在施工，根本睡不着",
                    local(2026, 11, 23, 9), "居民甲", "https://weibo.example/1")
    ids["A2"] = add(store, analyzer, config, "建新北路那个工地又在夜间施工打桩，噪音太大了，观音桥这边居民天天睡不着",
                    local(2026, 11, 23, 10), "居民乙", "https://weibo.example/2", reposts=900, comments=300)
    ids["B"] = add(store, analyzer, config, "石马河街道鲜花港社区旁边的石马河又黑又臭，河面漂着死鱼，<b>没人管</b>",
                   local(2026, 11, 23, 9, 30), "居民丁", "https://weibo.example/10")
    ids["chat48"] = add(store, analyzer, config, "周末去观音桥步行街逛街，吃了一顿火锅", local(2026, 11, 24, 10),
                        "路人", "https://weibo.example/c2")
    a, b, d = incident_of(store, ids["A1"]), incident_of(store, ids["B"]), incident_of(store, ids["D"])
    assert len({a.id, b.id, d.id}) == 3 and a.id == incident_of(store, ids["A2"]).id
    actions.sign(store, config, a.id, "观音桥街道", now=local(2026, 11, 23, 12))
    actions.respond(store, config, a.id, "观音桥街道", "已联系工地", now=local(2026, 11, 25, 10))  # due Wed 09:00
    actions.resolve(store, config, a.id, "观音桥街道", "夜间施工已停止", now=local(2026, 11, 26, 10))
    actions.close(store, config, a.id, "审核员", now=local(2026, 11, 27, 10))
    actions.return_incident(store, config, b.id, "石马河街道", "该河段属观音桥街道管辖", now=local(2026, 11, 23, 10))
    actions.assign(store, config, b.id, GYQ, "值班员", now=local(2026, 11, 23, 11))
    runs(store, "weibo", local(2026, 11, 16), WEEK_END)
    return ids, a.id, b.id, d.id


def docx_tables(data: bytes) -> dict[str, list[list[str]]]:
    """Tables of a DOCX by their caption (the paragraph just before each table)."""
    document = docx.Document(io.BytesIO(data))
    body = document.element.body
    out, caption = {}, None
    tables = iter(document.tables)
    for child in body.iterchildren():
        tag = child.tag.rsplit("}", 1)[-1]
        if tag == "p":
            caption = "".join(t.text or "" for t in child.iter() if t.tag.endswith("}t"))
        elif tag == "tbl":
            table = next(tables)
            out[caption] = [[c.text for c in row.cells] for row in table.rows]
    return out


def test_every_figure_matches_the_records(store, seeded, jurisdiction):
    ids, a_id, b_id, d_id = seeded
    b = build_briefing(store, jurisdiction, iso_week(WEEK), AS_OF, {"weibo": 24})
    assert b.as_of == WEEK_END

    # Totals and week-on-week, against the store's own analyses.
    with store.read() as tx:
        relevant = {k: tx.get_analysis(v).relevant for k, v in ids.items()}
        polarity = {k: tx.get_analysis(v).polarity.value for k, v in ids.items()}
    assert relevant == {"D": True, "chat47": False, "A1": True, "A2": True, "B": True, "chat48": False}
    totals = {c.label: (c.current, c.previous) for c in b.totals}
    assert totals["采集信息"] == (4, 2)
    assert totals["涉生态环境信息"] == (3, 1)
    neg_now = sum(polarity[k] == "neg" for k in ("A1", "A2", "B"))
    assert totals["其中负面"] == (neg_now, int(polarity["D"] == "neg"))
    assert totals["新增舆情事件"] == (2, 1)
    # B's dead fish are visible pollution of a river: 较大, like A's spread.
    assert {c.label: (c.current, c.previous) for c in b.by_grade} == {"较大": (2, 0), "一般": (0, 1)}
    assert {c.label: (c.current, c.previous) for c in b.by_topic} == {"水环境": (1, 1), "噪声": (1, 0)}
    assert {c.label: (c.current, c.previous) for c in b.by_unit} == {"观音桥街道": (2, 0), "石马河街道": (0, 1)}

    # Top incidents: A (较大, reach 1200) before B; D belongs to last week.
    assert [i.id for i in b.top] == [a_id, b_id]
    top_a = b.top[0]
    assert (top_a.grade.label, top_a.reach_total, top_a.reposts, top_a.comments, top_a.authors, top_a.posts) == (
        "较大", 1200, 900, 300, 2, 2)
    assert top_a.state_label == "已审核办结" and b.top[1].state_label == "已交办" and b.top[1].unit == "观音桥街道"
    assert [link.post_id for link in top_a.links] == [ids["A1"], ids["A2"]]
    assert all(link.snapshot for link in top_a.links)
    with store.read() as tx:
        for inc in b.top:
            for quote in inc.summary:  # verbatim: every quote is a piece of its own post
                assert quote.text.rstrip("…") in tx.get_post(quote.post_id).text
                assert quote.post_id in [p.id for p, _, _ in tx.incident_post_rows(inc.id)]

    # Accountability: A signed on time, responded late (due Wed 09:00, done 10:00), resolved on time;
    # B returned by 石马河 before its sign-off fell due, reassigned to 观音桥 which never signed.
    rows = {r.unit: r for r in b.handling}
    gyq, smh = rows["观音桥街道"], rows["石马河街道"]
    assert (gyq.assigned, gyq.sign_due, gyq.sign_on_time, gyq.response_due, gyq.response_on_time,
            gyq.closure_due, gyq.closure_on_time, gyq.overdue, gyq.returned) == (2, 2, 1, 2, 0, 1, 1, 2, 0)
    assert gyq.rate == pytest.approx(2 / 5)
    assert (smh.assigned, smh.due, smh.returned, smh.overdue, smh.rate) == (1, 0, 1, 0, None)
    assert b.handling_total.assigned == 3 and b.handling_total.returned == 1
    # Overdue at the week's end: B's sign-off and response, and last week's D (never signed, so
    # every step of it is late by now), longest overdue first.
    got = {(o.incident_id, o.step): o.hours_over for o in b.overdue}
    with store.read() as tx:
        inc_b, inc_d = tx.get_incident(b_id), tx.get_incident(d_id)
    assert inc_b.deadlines["sign_off"] == local(2026, 11, 24, 11)  # restarted at the reassignment
    assert got == {(b_id, "sign_off"): 133.0, (b_id, "response"): round((WEEK_END - inc_b.deadlines["response"])
                                                                         .total_seconds() / 3600, 1),
                   (d_id, "sign_off"): round((WEEK_END - inc_d.deadlines["sign_off"]).total_seconds() / 3600, 1),
                   (d_id, "response"): round((WEEK_END - inc_d.deadlines["response"]).total_seconds() / 3600, 1),
                   (d_id, "closure"): round((WEEK_END - inc_d.deadlines["closure"]).total_seconds() / 3600, 1)}
    assert inc_d.deadlines["closure"] == local(2026, 11, 26, 9)  # 7 working days after Tuesday 17th
    # Both overdue; B (较大) before D (一般).
    assert [a.id for a in b.attention] == [b_id, d_id] and all(a.overdue for a in b.attention)

    # Trend, topic mix and places.
    mon, tue = b.trend[0], b.trend[1]
    assert (len(b.trend), mon.label, mon.posts, mon.relevant, tue.posts, tue.relevant) == (7, "11/23", 3, 3, 1, 0)
    assert sum(p.posts for p in b.trend) == 4
    assert dict(b.topic_mix) == {"噪声": 2, "水环境": 1}
    assert dict(b.hot_units) == {"观音桥街道": 2, "石马河街道": 1}
    assert [c.source for c in b.coverage] == ["weibo"] and not b.blind_sources
    assert b.notes == []

    # The DOCX opens and its tables read back as the figures.
    data = render(b, "docx")
    tables = docx_tables(data)
    assert tables["总体数据"][1:] == [["采集信息", "4", "2", "+2（+100.0%）"],
                                   ["涉生态环境信息", "3", "1", "+2（+200.0%）"],
                                   tables["总体数据"][3], ["新增舆情事件", "2", "1", "+1（+100.0%）"]]
    assert tables["总体数据"][3][:3] == ["其中负面", str(neg_now), str(int(polarity["D"] == "neg"))]
    handling = tables["属地办理情况"]
    assert handling[0] == HANDLING_HEADER
    assert handling[1:] == [["石马河街道", "1", "—", "—", "—", "0", "1", "—"],  # the pack's order
                            ["观音桥街道", "2", "1/2", "0/2", "1/1", "2", "0", "40.0%"],
                            ["合计", "3", "1/2", "0/2", "1/1", "2", "1", "40.0%"]]
    assert [r[0] for r in tables["超期清单"][1:]] == [f"#{d_id}", f"#{d_id}", f"#{b_id}", f"#{b_id}",
                                                       f"#{d_id}"]
    assert tables["分日走势"][1][:3] == ["11/23", "3", "3"]
    document = docx.Document(io.BytesIO(data))
    assert len(document.inline_shapes) == 3  # trend, topics, places charts embedded
    text = "\n".join(p.text for p in document.paragraphs)
    assert "建新北路工地夜间施工打桩噪音扰民" in text and f"帖 #{ids['A1']}" in text

    # HTML: the same content, crawled text escaped.
    page = render(b, "html").decode()
    assert "<b>没人管</b>" not in page and "&lt;b&gt;没人管&lt;/b&gt;" in page
    assert "40.0%" in page and 'href="https://weibo.example/1"' in page


def test_empty_week_is_honest(store, jurisdiction):
    b = build_briefing(store, jurisdiction, iso_week("2026-W50"), local(2026, 12, 14, 8))
    assert [c.current for c in b.totals] == [0, 0, 0, 0]
    assert b.top == [] and b.handling == [] and b.overdue == [] and b.attention == []
    assert any("没有任何采集来源的运行记录" in n for n in b.notes)
    assert any("本期未采集到任何信息" in n for n in b.notes)
    for fmt in ("docx", "html"):
        assert render(b, fmt)
    text = "\n".join(p.text for p in docx.Document(io.BytesIO(render(b, "docx"))).paragraphs)
    assert "本期无重点舆情事件" in text and "无法判断是否漏采" in text


def test_blind_source_is_reported(store, jurisdiction):
    week = iso_week(WEEK)
    runs(store, "weibo", local(2026, 11, 22), WEEK_END)
    # The news site answered until Wednesday 00:00 (the run finished 00:01), then failed every time:
    # blind 24 hours after its last success, from Thursday 00:01.
    runs(store, "news", local(2026, 11, 22), WEEK_END, ok_until=local(2026, 11, 25))
    b = build_briefing(store, jurisdiction, week, AS_OF, {"weibo": 24, "news": 24, "never-ran": 12})
    cov = {c.source: c for c in b.coverage}
    assert cov["news"].blind_spans == [(local(2026, 11, 26, 0, 1), WEEK_END)] and cov["news"].blind_hours == 96
    assert cov["news"].failed_runs == 19 and cov["news"].last_error == "HTTP 503 from source"
    assert cov["never-ran"].blind_hours == 168 and cov["never-ran"].note == "本期未运行"
    assert not cov["weibo"].blind
    assert [c.source for c in b.blind_sources] == ["never-ran", "news"]
    assert any("news 失明 96 小时" in n and "不代表无舆情" in n for n in b.notes)
    tables = docx_tables(render(b, "docx"))
    news = next(r for r in tables["采集来源"] if r[0] == "news")
    assert news[5] == "96" and "11-26 00:01—11-30 00:00" in news[6]


def test_charts_use_a_cjk_font(store, seeded, jurisdiction):
    from matplotlib import font_manager

    family, path = charts_mod.cjk_font()
    assert "CJK" in family or "Han" in family or "Hei" in family
    props = font_manager.FontProperties(family=family)
    assert font_manager.findfont(props, fallback_to_default=False) == path
    b = build_briefing(store, jurisdiction, iso_week(WEEK), AS_OF)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        pictures = charts_mod.charts(b)
    assert not [w for w in caught if "glyph" in str(w.message).lower()]
    assert set(pictures) == {"trend", "topics", "places"} and all(p.startswith(b"\x89PNG") for p in pictures.values())
    # The text the charts draw resolves to the CJK font file.
    import matplotlib.pyplot as plt

    with plt.rc_context(charts_mod._style()):
        fig, ax = plt.subplots()
        title = ax.set_title("观音桥街道 噪声")
        assert font_manager.findfont(title.get_fontproperties()) == path
        plt.close(fig)
    # A character no installed font has is an error, not a box.
    with pytest.raises(charts_mod.FontError):
        charts_mod._barh("测试", [("\U0001FAE0", 1)], "#000")


def test_periods():
    week = iso_week("2026-W48")
    assert (week.start, week.end) == (local(2026, 11, 23).astimezone(dt.UTC), local(2026, 11, 30).astimezone(dt.UTC))
    assert week.previous().key == "2026-W47" and iso_week("2027-W01").previous().key == "2026-W53"
    assert last_full_week(local(2026, 11, 30, 8)).key == "2026-W48"
    day = daily("2026-11-29")
    assert (day.start, day.end) == (local(2026, 11, 28, 7, 30), local(2026, 11, 29, 7, 30))
    assert len(day.buckets()) == 24 and day.previous().key == "2026-11-28"
    for bad in ("2026-48", "2026-W54", "W48"):
        with pytest.raises(Exception, match="week"):
            iso_week(bad)


def test_keep_and_list(store, jurisdiction, tmp_path):
    b: Briefing = build_briefing(store, jurisdiction, iso_week(WEEK), AS_OF)
    written = keep(tmp_path / "briefings", b)
    assert [p.name for p in written] == ["weekly-2026-W48.docx", "weekly-2026-W48.html"]
    (tmp_path / "briefings" / "notes.txt").write_text("not a briefing")
    assert sorted((k.key, k.format) for k in list_kept(tmp_path / "briefings")) == [("2026-W48", "docx"),
                                                                                    ("2026-W48", "html")]


def test_api_lists_and_serves_briefings(store, seeded, api_server, tmp_path, monkeypatch):
    import httpx

    from tests.api_seed import seed_users, token_headers
    from tests.conftest import TEST_SECRET

    monkeypatch.setenv("ECOWATCH_DATA_DIR", str(tmp_path / "apidata"))  # where the router looks
    seed_users(store)
    assert httpx.get(api_server + "/api/briefings").status_code == 401  # briefings need a login
    http = httpx.Client(headers=token_headers("leader1", TEST_SECRET))
    assert http.get(api_server + "/api/briefings").json() == []
    page = http.get(api_server + f"/api/briefings/{WEEK}", params={"format": "html"}, timeout=60)
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "属地办理情况" in page.text
    kept = tmp_path / "apidata" / "briefings"
    keep(kept, build_briefing(store, load_jurisdiction("jiangbei"), iso_week(WEEK), AS_OF))
    listed = http.get(api_server + "/api/briefings").json()
    assert {(x["key"], x["format"]) for x in listed} == {(WEEK, "docx"), (WEEK, "html")}
    got = http.get(api_server + listed[0]["url"], timeout=60)
    assert got.status_code == 200 and got.content == (kept / f"weekly-{WEEK}.{listed[0]['format']}").read_bytes()
    assert http.get(api_server + "/api/briefings/2026-W99").status_code == 422
    assert http.get(api_server + f"/api/briefings/{WEEK}", params={"format": "pdf"}).status_code == 422


def test_cli_brief(store, seeded, settings, tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from ecowatch.main import app

    monkeypatch.setenv("ECOWATCH_DATA_DIR", str(settings.data_dir))
    out = tmp_path / "w48.docx"
    result = CliRunner().invoke(app, ["brief", "--week", WEEK, "--format", "docx", "--out", str(out),
                                      "--now", "2026-11-30T08:00:00+08:00"])
    assert result.exit_code == 0, result.output
    assert docx_tables(out.read_bytes())["属地办理情况"][-1][-1] == "40.0%"
    assert '"采集信息": 4' in result.output
    result = CliRunner().invoke(app, ["brief", "--daily", "--date", "2026-11-24", "--format", "html",
                                      "--now", "2026-11-24T07:30:00+08:00"])
    assert result.exit_code == 0, result.output
    daily_file = settings.data_dir / "briefings" / "daily-2026-11-24.html"
    assert "值班日报" in daily_file.read_text(encoding="utf-8")
    assert '"采集信息": 3' in result.output  # Monday 07:30 to Tuesday 07:30: A1, A2, B
    bad = CliRunner().invoke(app, ["brief", "--week", "2026-48"])
    assert bad.exit_code != 0 and "ISO week" in bad.output
