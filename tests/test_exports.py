"""Exports and feeds for other systems, on the real server over loopback: the spreadsheets hold
exactly what the lists show (same filters, same scope), open in Excel (BOM, Shanghai times), never
carry a formula; the JSON and Atom feeds page by cursor, are scoped, refuse strangers, and parse;
every documented field list in docs/exports.md equals what is emitted."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import httpx
import pytest
from openpyxl import load_workbook

from alerts.event_documents import EVENT_FIELDS, EVENT_SCHEMA
from briefing.exports import INCIDENT_COLUMNS, POST_COLUMNS
from core.jurisdiction import load_jurisdiction
from core.models import Grade, State
from dashboard_api.routes.feeds import FeedPublic
from tests.api_seed import UNIT_A, UNIT_B, add_incident, seed_users, token_headers
from tests.conftest import TEST_SECRET, serving

DOC = Path(__file__).resolve().parents[1] / "docs" / "exports.md"
FEED_KEY = "feed-key-for-the-city-platform-0123456789"
ATOM = "{http://www.w3.org/2005/Atom}"
EVIL = '=HYPERLINK("http://evil.test","点我") <script>alert(1)</script> & \u202e反转'
OPENED = dt.datetime(2026, 12, 1, 1, 30, tzinfo=dt.UTC)  # 09:30 in Shanghai
http = httpx.Client(timeout=30)


@pytest.fixture
def world(store):
    from dashboard_api import create_app

    seed_users(store)
    ids = {
        "A": add_incident(store, title=EVIL, text="石马河街道的石马河又黑又臭，河水黑臭", unit_code=UNIT_A,
                          unit="石马河街道", opened_at=OPENED),
        "A2": add_incident(store, title="+石马河排污口", text="石马河排污口污水黑臭直排", unit_code=UNIT_A,
                           unit="石马河街道", grade=Grade.ORANGE, state=State.SIGNED,
                           opened_at=OPENED + dt.timedelta(hours=1)),
        "B": add_incident(store, title="观音桥噪声扰民", text="观音桥步行街夜间施工噪声扰民，河道也黑臭",
                          unit_code=UNIT_B, unit="观音桥街道", topic="noise", opened_at=OPENED + dt.timedelta(hours=2)),
    }
    app = create_app(store, load_jurisdiction("jiangbei"), secret_key=TEST_SECRET)
    app.state.feed_token = FEED_KEY
    app.state.export_max_rows = 10_000
    with serving(app) as base:
        yield base, app, ids, {name: token_headers(name, TEST_SECRET) for name in ("duty1", "unit_a", "leader1")}


def _csv(resp: httpx.Response) -> list[list[str]]:
    assert resp.status_code == 200, resp.text
    assert resp.content.startswith(b"\xef\xbb\xbf")  # UTF-8 BOM: Excel reads the Chinese
    assert resp.headers["content-type"].startswith("text/csv")
    assert "attachment" in resp.headers["content-disposition"]
    assert resp.headers["x-ecowatch-schema"] == "ecowatch.export.v1"
    return list(csv.reader(io.StringIO(resp.content.decode("utf-8-sig"))))


def _xlsx(resp: httpx.Response) -> list[list]:
    assert resp.status_code == 200, resp.text
    sheet = load_workbook(io.BytesIO(resp.content)).active
    for row in sheet.iter_rows():
        assert all(cell.data_type != "f" for cell in row)  # no cell is a formula
    return [[c.value for c in row] for row in sheet.iter_rows()]


def _ids(base: str, path: str, headers: dict) -> list[int]:
    return [i["id"] for i in http.get(base + path, headers=headers).json()]


@pytest.mark.parametrize("query", ["", "?state=signed", "?grade=orange&grade=blue", f"?unit_code={UNIT_B}",
                                   "?overdue=false", "?since=2026-12-01T10:00:00%2B08:00", "?topic=noise"])
def test_incident_export_holds_what_the_list_shows(world, query):
    base, _app, _, h = world
    for user in ("duty1", "unit_a"):
        listed = http.get(f"{base}/api/incidents{query}", headers=h[user])
        if listed.status_code == 403:  # a unit user asking for another unit: the export refuses alike
            assert http.get(f"{base}/api/exports/incidents.csv{query}", headers=h[user]).status_code == 403
            continue
        rows = _csv(http.get(f"{base}/api/exports/incidents.csv{query}", headers=h[user]))
        assert rows[0] == [c.header for c in INCIDENT_COLUMNS]
        assert [int(r[0]) for r in rows[1:]] == [i["id"] for i in listed.json()]
        sheet = _xlsx(http.get(f"{base}/api/exports/incidents.xlsx{query}", headers=h[user]))
        assert [r[0] for r in sheet[1:]] == [i["id"] for i in listed.json()]


def test_incident_export_cells_are_inert_local_and_labelled(world):
    base, _app, ids, h = world
    rows = _csv(http.get(f"{base}/api/exports/incidents.csv", headers=h["duty1"]))
    by_id = {int(r[0]): dict(zip([c.key for c in INCIDENT_COLUMNS], r, strict=True)) for r in rows[1:]}
    evil = by_id[ids["A"]]
    # The formula is text behind an apostrophe; the bidi override is gone; the rest is kept as written.
    assert evil["title"] == "'" + EVIL.replace("\u202e", "")
    assert by_id[ids["A2"]]["title"] == "'+石马河排污口"
    assert evil["opened_at"] == "2026-12-01 09:30:00"  # Asia/Shanghai
    assert (evil["grade"], evil["state"], evil["topic"], evil["unit"]) == ("一般", "已交办", "水环境", "石马河街道")
    assert evil["deadlines"] == "签收 2026-12-01 11:30；回应 2026-12-02 09:30"
    assert evil["overdue"] == "签收、回应"  # those deadlines passed long before the test ran
    sheet = _xlsx(http.get(f"{base}/api/exports/incidents.xlsx", headers=h["duty1"]))
    header = sheet[0]
    row = next(r for r in sheet[1:] if r[0] == ids["A"])
    assert row[header.index("标题")] == "'" + EVIL.replace("\u202e", "")
    assert row[header.index("发现时间")] == dt.datetime(2026, 12, 1, 9, 30)  # a date-time cell, Shanghai


def test_exports_are_scoped_and_refuse_strangers(world):
    base, _app, ids, h = world
    rows = _csv(http.get(f"{base}/api/exports/incidents.csv", headers=h["unit_a"]))
    assert {int(r[0]) for r in rows[1:]} == {ids["A"], ids["A2"]}
    assert http.get(f"{base}/api/exports/incidents.csv?unit_code={UNIT_B}", headers=h["unit_a"]).status_code == 403
    assert http.get(f"{base}/api/exports/incidents.csv").status_code == 401
    assert http.get(f"{base}/api/exports/incidents.pdf", headers=h["duty1"]).status_code == 422
    posts = _csv(http.get(f"{base}/api/exports/posts.csv?q=黑臭", headers=h["unit_a"]))
    assert {int(r[1]) for r in posts[1:]} == {ids["A"], ids["A2"]}
    assert http.get(f"{base}/api/exports/posts.csv?q=黑臭&unit_code={UNIT_B}", headers=h["unit_a"]).status_code == 403
    assert http.get(f"{base}/api/exports/posts.csv", headers=h["duty1"]).status_code == 422  # q is required


def test_post_export_holds_what_the_search_finds_with_whole_text(world):
    base, _app, ids, h = world
    for query in ("q=黑臭", "q=黑臭&sort=newest", "q=黑臭&topic=noise", f"q=石马河&unit_code={UNIT_A}"):
        found = http.get(f"{base}/api/search?{query}&limit=100", headers=h["duty1"]).json()
        rows = _csv(http.get(f"{base}/api/exports/posts.csv?{query}", headers=h["duty1"]))
        assert rows[0] == [c.header for c in POST_COLUMNS]
        assert [int(r[0]) for r in rows[1:]] == [hit["post_id"] for hit in found["hits"]]
    sheet = _xlsx(http.get(f"{base}/api/exports/posts.xlsx?q=噪声", headers=h["duty1"]))
    (row,) = sheet[1:]
    record = dict(zip([c.key for c in POST_COLUMNS], row, strict=True))
    assert record["incident_id"] == ids["B"] and record["text"] == "观音桥步行街夜间施工噪声扰民，河道也黑臭"
    assert (record["topic"], record["polarity"]) == ("噪声", "负面")


def test_too_many_rows_is_refused_with_a_clear_message(world):
    base, app, _, h = world
    app.state.export_max_rows = 2
    resp = http.get(f"{base}/api/exports/incidents.xlsx", headers=h["duty1"])
    assert resp.status_code == 422 and "3 incidents match" in resp.json()["detail"]
    assert "at most 2" in resp.json()["detail"]
    assert http.get(f"{base}/api/exports/incidents.csv?unit_code={UNIT_A}", headers=h["duty1"]).status_code == 200
    resp = http.get(f"{base}/api/exports/posts.csv?q=黑臭", headers=h["duty1"])
    assert resp.status_code == 422 and "3 posts match" in resp.json()["detail"]


def _feed(base: str, headers: dict, query: str = "") -> dict:
    resp = http.get(f"{base}/api/feeds/incidents.json{query}", headers=headers)
    assert resp.status_code == 200, resp.text
    return resp.json()


def test_json_feed_pages_by_cursor_and_is_scoped(world):
    base, _app, ids, h = world
    key = {"Authorization": f"Bearer {FEED_KEY}"}
    every = _feed(base, key)
    assert every["schema_version"] == "ecowatch.feed.v1" and not every["has_more"]
    assert [(e["kind"], e["incident_id"]) for e in every["events"]] == [("incident_new", i) for i in ids.values()]
    # Paged one by one: the same events, each once, in order.
    seen, after = [], 0
    while True:
        page = _feed(base, key, f"?after={after}&limit=1")
        seen += page["events"]
        after = page["next_after"]
        if not page["has_more"]:
            break
    assert seen == every["events"]
    assert _feed(base, key, f"?after={after}") == {"schema_version": "ecowatch.feed.v1", "events": [],
                                                   "next_after": after, "has_more": False}
    # A login reads its own scope; since filters by time.
    assert {e["incident_id"] for e in _feed(base, h["unit_a"])["events"]} == {ids["A"], ids["A2"]}
    assert len(_feed(base, h["leader1"])["events"]) == 3
    later = _feed(base, key, "?since=2026-12-01T10:30:00%2B08:00")["events"]
    assert [e["incident_id"] for e in later] == [ids["A2"], ids["B"]]
    first = every["events"][0]
    assert first["at"] == "2026-12-01T09:30:00+08:00" and first["title"] == EVIL  # the data, as it is
    assert (first["grade"], first["grade_label"], first["state_label"]) == ("blue", "一般", "已交办")


@pytest.mark.parametrize("auth", [None, "Bearer wrong-key-wrong-key-wrong-key-00", "Bearer " + FEED_KEY[:-1],
                                  "Basic " + FEED_KEY])
def test_feeds_refuse_strangers(world, auth):
    base, _app, _, _h = world
    headers = {"Authorization": auth} if auth else {}
    for fmt in ("json", "atom"):
        assert http.get(f"{base}/api/feeds/incidents.{fmt}", headers=headers).status_code == 401


def test_feed_key_unset_means_logins_only(world):
    base, app, _, h = world
    app.state.feed_token = None
    assert http.get(f"{base}/api/feeds/incidents.json",
                    headers={"Authorization": f"Bearer {FEED_KEY}"}).status_code == 401
    assert http.get(f"{base}/api/feeds/incidents.json", headers=h["duty1"]).status_code == 200


def test_atom_feed_parses_back_with_text_escaped(world):
    base, _app, ids, _h = world
    key = {"Authorization": f"Bearer {FEED_KEY}"}
    resp = http.get(f"{base}/api/feeds/incidents.atom?limit=2", headers=key)
    assert resp.status_code == 200 and resp.headers["content-type"].startswith("application/atom+xml")
    assert b"<script>" not in resp.content  # escaped markup, never markup
    feed = ET.fromstring(resp.content)  # the stdlib parser: well-formed XML
    assert feed.tag == f"{ATOM}feed" and feed.findtext(f"{ATOM}id") == "urn:ecowatch:feed:incidents"
    entries = feed.findall(f"{ATOM}entry")
    assert [e.findtext(f"{ATOM}id") for e in entries] == [f"urn:ecowatch:event:{e['id']}"
                                                          for e in _feed(base, key, "?limit=2")["events"]]
    title = entries[0].findtext(f"{ATOM}title")
    assert title == f"新事件 #{ids['A']} " + EVIL.replace("\u202e", "")  # the text back, exactly
    assert entries[0].find(f"{ATOM}category").get("term") == "incident_new"
    assert entries[0].findtext(f"{ATOM}updated") == "2026-12-01T09:30:00+08:00"
    nxt = {link.get("rel"): link.get("href") for link in feed.findall(f"{ATOM}link")}["next"]
    rest = ET.fromstring(http.get(nxt, headers=key).content)
    assert [e.findtext(f"{ATOM}title") for e in rest.findall(f"{ATOM}entry")] == [f"新事件 #{ids['B']} 观音桥噪声扰民"]
    assert "next" not in {link.get("rel") for link in rest.findall(f"{ATOM}link")}


# docs/exports.md documents each format as a table: the documented lists equal what is emitted.
def _documented(section: str) -> list[list[str]]:
    text = DOC.read_text(encoding="utf-8")
    body = text.split(section, 1)[1].split("\n#", 1)[0]
    rows = [line for line in body.splitlines() if line.startswith("| `")]
    return [[cell.strip().strip("`") for cell in line.strip("|").split("|")] for line in rows]


def test_documented_spreadsheet_columns_are_the_emitted_ones(world):
    base, _app, _, h = world
    for section, columns, path in (("### Incident columns", INCIDENT_COLUMNS, "incidents.csv"),
                                   ("### Post columns", POST_COLUMNS, "posts.csv?q=黑臭")):
        documented = [(row[0], row[1]) for row in _documented(section)]
        assert documented == [(c.key, c.header) for c in columns]
        assert _csv(http.get(f"{base}/api/exports/{path}", headers=h["duty1"]))[0] == [c.header for c in columns]


def test_documented_event_and_feed_fields_are_the_emitted_ones(world):
    base, _app, _, h = world
    assert [row[0] for row in _documented("## Events: `ecowatch.event.v1`")] == list(EVENT_FIELDS)
    page = _feed(base, h["duty1"])
    assert [row[0] for row in _documented("## JSON and Atom feeds")] == list(page) == list(FeedPublic.model_fields)
    assert all(list(e) == list(EVENT_FIELDS) and e["schema_version"] == EVENT_SCHEMA for e in page["events"])
    versions = re.findall(r"`(ecowatch\.[a-z]+\.v\d+)`", DOC.read_text(encoding="utf-8"))
    assert {"ecowatch.export.v1", EVENT_SCHEMA, page["schema_version"], "ecowatch.webhook.v1"} <= set(versions)
