"""Workflow actions, the live feed (resumable) and search, over the real server."""

from __future__ import annotations

import datetime as dt
import json

import httpx
import pytest
from typer.testing import CliRunner

from alerts.config import alerts_config
from alerts.escalation_job import run_escalation
from core.jurisdiction import load_jurisdiction
from core.models import Grade, State
from core.passwords import verify_password
from core.timeutil import utcnow
from tests.api_seed import UNIT_A, UNIT_B, add_incident, seed_users, token_headers
from tests.conftest import TEST_SECRET

http = httpx.Client(timeout=10)


@pytest.fixture
def env(store, api_server):
    seed_users(store)
    return api_server, {n: token_headers(n, TEST_SECRET) for n in ("duty1", "unit_a", "unit_b", "leader1")}


def _post(base, incident_id, action, headers, body=None):
    return http.post(f"{base}/api/incidents/{incident_id}/{action}", headers=headers, json=body)


def test_triage_to_closure_with_audit_and_feed(env, store):
    base, h = env
    iid = add_incident(store, title="来历不明的污水", text="江北区某处污水", unit_code=None, unit=None, state=State.NEW)
    assert http.get(f"{base}/api/incidents?state=new", headers=h["duty1"]).json()[0]["id"] == iid
    assert http.get(f"{base}/api/incidents", headers=h["unit_a"]).json() == []
    assert _post(base, iid, "sign", h["unit_a"]).status_code == 404  # not theirs yet
    r = _post(base, iid, "assign", h["duty1"], {"unit_code": UNIT_A, "note": "请核实"})
    assert r.status_code == 200 and r.json()["state"] == "assigned" and r.json()["unit"] == "石马河街道"
    assert [i["id"] for i in http.get(f"{base}/api/incidents", headers=h["unit_a"]).json()] == [iid]
    assert _post(base, iid, "respond", h["unit_a"], {"response": "x"}).status_code == 409  # sign first
    assert _post(base, iid, "respond", h["unit_a"], {}).status_code == 422  # response is required
    assert _post(base, iid, "sign", h["unit_a"]).json()["state"] == "signed"
    assert _post(base, iid, "respond", h["unit_a"], {"response": "已核查"}).json()["state"] == "responded"
    assert _post(base, iid, "resolve", h["unit_a"], {"feedback": "已整改"}).json()["state"] == "resolved"
    assert _post(base, iid, "close", h["duty1"], {"note": "复核通过"}).json()["state"] == "closed"
    detail = http.get(f"{base}/api/incidents/{iid}", headers=h["duty1"]).json()
    assert [(a["action"], a["actor"], a["to_state"]) for a in detail["audit"]] == [
        ("open", "system", "new"), ("assign", "duty1", "assigned"), ("sign", "unit_a", "signed"),
        ("respond", "unit_a", "responded"), ("resolve", "unit_a", "resolved"), ("close", "duty1", "closed")]
    assert detail["audit"][3]["detail"] == {"response": "已核查"}
    assert {t["kind"] for t in detail["timeline"]} == {"post", "action", "deadline"}
    events = http.get(f"{base}/api/feed", headers=h["unit_a"]).json()
    assert [e["payload"]["action"] for e in events] == ["assign", "sign", "respond", "resolve", "close"]
    with store.read() as tx:  # the escalation job of alerts/ sees the steps done through the API
        assert set(tx.get_incident(iid).milestones) == {"sign_off", "response", "closure", "closed"}


def test_return_reassign_moves_visibility(env, store):
    base, h = env
    iid = add_incident(store, title="噪声", text="观音桥噪声", unit_code=UNIT_A, unit="石马河街道")
    assert _post(base, iid, "return", h["unit_a"], {"reason": ""}).status_code == 422
    r = _post(base, iid, "return", h["unit_a"], {"reason": "不属本辖区"})
    assert r.json()["state"] == "returned"
    r = _post(base, iid, "reassign", h["duty1"], {"unit_code": UNIT_B, "reason": "观音桥辖区"})
    assert r.json()["unit_code"] == UNIT_B
    assert http.get(f"{base}/api/incidents/{iid}", headers=h["unit_a"]).status_code == 404
    assert http.get(f"{base}/api/incidents/{iid}", headers=h["unit_b"]).status_code == 200
    assert _post(base, iid, "reassign", h["duty1"], {"unit_code": "nope", "reason": "x"}).status_code == 409
    # unit A's feed was told the incident left it, and sees nothing after that
    feed = http.get(f"{base}/api/feed", headers=h["unit_a"]).json()
    assert [(e["unit_code"], e["payload"].get("action", e["kind"])) for e in feed] == [
        (UNIT_A, "incident_new"), (UNIT_A, "return"), (UNIT_A, "reassign")]


def test_grade_merge_extend(env, store):
    base, h = env
    a = add_incident(store, title="一", text="石马河污水", unit_code=UNIT_A, unit="石马河街道")
    b = add_incident(store, title="二", text="石马河又有污水", unit_code=UNIT_A, unit="石马河街道")
    r = _post(base, a, "grade", h["duty1"], {"grade": "orange", "reason": "涉及饮用水源"})
    assert r.json()["grade"] == "orange" and "人工调整为重大: 涉及饮用水源（duty1）" in r.json()["grade_reasons"]
    assert _post(base, a, "grade", h["duty1"], {"grade": "purple", "reason": "x"}).status_code == 422
    feed = http.get(f"{base}/api/feed", headers=h["duty1"]).json()
    assert any(e["kind"] == "grade_raised" and e["incident_id"] == a for e in feed)
    before = http.get(f"{base}/api/incidents/{b}", headers=h["unit_a"]).json()["deadlines"]["response"]
    r = _post(base, b, "extend", h["unit_a"], {"step": "response", "hours": 24, "reason": "等监测"})
    assert r.json()["deadlines"]["response"] == before  # a unit only asks
    r = _post(base, b, "extend", h["duty1"], {"step": "response", "hours": 24, "reason": "同意"})
    after = dt.datetime.fromisoformat(r.json()["deadlines"]["response"])
    assert after - dt.datetime.fromisoformat(before) == dt.timedelta(hours=24)
    r = _post(base, b, "merge", h["duty1"], {"into": a, "reason": "同一事"})
    assert r.json()["state"] == "closed" and r.json()["post_count"] == 0
    merged = http.get(f"{base}/api/incidents/{a}", headers=h["duty1"]).json()
    assert merged["post_count"] == 2 and len(merged["posts"]) == 2
    assert _post(base, a, "merge", h["duty1"], {"into": a}).status_code == 409


def test_list_filters_and_overdue(env, store):
    base, h = env
    old = utcnow() - dt.timedelta(days=3)
    late = add_incident(store, title="超期", text="石马河超期", unit_code=UNIT_A, unit="石马河街道", opened_at=old,
                        grade=Grade.RED, topic="air")
    fresh = add_incident(store, title="新", text="石马河新", unit_code=UNIT_A, unit="石马河街道")
    ids = lambda q: [i["id"] for i in http.get(f"{base}/api/incidents?{q}", headers=h["duty1"]).json()]  # noqa: E731
    assert ids("overdue=true") == [late] and ids("overdue=false") == [fresh]
    assert ids("grade=red") == [late] and ids("topic=air") == [late] and ids("grade=red&grade=blue") == [fresh, late]
    since = (utcnow() - dt.timedelta(days=1)).isoformat()
    assert ids(f"since={httpx.QueryParams({'s': since})['s']}".replace("+", "%2B")) == [fresh]
    r = http.get(f"{base}/api/incidents?since=2026-01-01T00:00:00", headers=h["duty1"])
    assert r.status_code == 422 and "time zone" in r.json()["detail"]
    assert http.get(f"{base}/api/incidents?grade=purple", headers=h["duty1"]).status_code == 422
    assert http.get(f"{base}/api/incidents?limit=1", headers=h["duty1"]).headers["x-total-count"] == "2"
    listed = http.get(f"{base}/api/incidents?overdue=true", headers=h["duty1"]).json()[0]
    assert listed["overdue"] == ["sign_off", "response"]
    # reading the feed writes nothing; the escalation job writes each overdue line once, to the unit's feed too
    assert [e for e in http.get(f"{base}/api/feed", headers=h["unit_a"]).json() if e["kind"] == "overdue"] == []
    config = alerts_config(load_jurisdiction("jiangbei"))
    assert run_escalation(store, config).announced == 2
    assert run_escalation(store, config).announced == 0
    overdue = [e for e in http.get(f"{base}/api/feed", headers=h["unit_a"]).json() if e["kind"] == "overdue"]
    assert sorted(e["payload"]["step"] for e in overdue) == ["response", "sign_off"]
    stats = http.get(f"{base}/api/stats", headers=h["leader1"]).json()
    unit = stats["by_unit"][0]
    assert unit["unit_code"] == UNIT_A and unit["overdue"] == 1 and unit["sign_off_on_time_rate"] == 0.0
    assert sum(d["count"] for d in stats["by_day"]) == 2 and stats["by_grade"][3] == {"key": "red", "label": "特别重大",
                                                                                     "count": 1}


def _frames(text):
    frames = []
    for block in text.split("\n\n"):
        fields = dict(line.split(": ", 1) for line in block.splitlines() if ": " in line and not line.startswith(":"))
        if "data" in fields:
            frames.append((int(fields["id"]), fields["event"], json.loads(fields["data"])))
    return frames


def test_stream_resumes_after_last_event_id(env, store):
    base, h = env
    first = add_incident(store, title="一", text="石马河一", unit_code=UNIT_A, unit="石马河街道")
    got = _frames(http.get(f"{base}/api/feed/stream?after=0&max_seconds=1", headers=h["duty1"]).text)
    assert [(f[1], f[2]["incident_id"]) for f in got] == [("incident_new", first)]
    last = got[-1][0]
    # while "disconnected", two more things happen
    second = add_incident(store, title="二", text="石马河二", unit_code=UNIT_B, unit="观音桥街道")
    _post(base, first, "sign", h["unit_a"])
    resumed = _frames(http.get(f"{base}/api/feed/stream?max_seconds=1",
                               headers={**h["duty1"], "Last-Event-ID": str(last)}).text)
    assert [(f[1], f[2]["incident_id"]) for f in resumed] == [("incident_new", second), ("incident_changed", first)]
    # a console opening shows the newest events, then streams on from the last of them
    tail = http.get(f"{base}/api/feed?tail=2", headers=h["duty1"]).json()
    assert [e["id"] for e in tail] == [f[0] for f in resumed]
    # without a position the stream starts from now: nothing old is replayed
    assert _frames(http.get(f"{base}/api/feed/stream?max_seconds=0.5", headers=h["duty1"]).text) == []


def test_search_words_facets_highlights(env, store):
    base, h = env
    add_incident(store, title="石马河污水直排", text="鲜花港社区旁石马河有污水直排，河水发黑", unit_code=UNIT_A,
                 unit="石马河街道")
    add_incident(store, title="观音桥油烟", text="观音桥小区餐馆油烟扰民", unit_code=UNIT_B, unit="观音桥街道",
                 topic="air", source="other-feed")
    r = http.get(f"{base}/api/search", params={"q": "污水"}, headers=h["duty1"]).json()
    assert r["total"] == 1 and r["unindexed"] == 0 and r["tokens"] == ["污水"]
    hit = r["hits"][0]
    assert [hit["snippet"][s:e] for s, e in hit["highlights"]] == ["污水"]
    assert [hit["title"][s:e] for s, e in hit["title_highlights"]] == ["污水"]
    assert r["facets"]["unit_code"] == {UNIT_A: 1} and r["facets"]["topic"] == {"water": 1}
    assert http.get(f"{base}/api/search", params={"q": "油烟"}, headers=h["duty1"]).json()["facets"]["source"] == {
        "other-feed": 1}
    assert http.get(f"{base}/api/search", params={"q": "污水 油烟"}, headers=h["duty1"]).json()["total"] == 0
    assert http.get(f"{base}/api/search", params={"q": "油烟", "topic": "water"}, headers=h["duty1"]).json()[
        "total"] == 0
    # FTS syntax in the query is just text
    assert http.get(f"{base}/api/search", params={"q": '" OR * NEAR('}, headers=h["duty1"]).status_code == 200
    assert http.get(f"{base}/api/search", params={"q": ""}, headers=h["duty1"]).status_code == 422


def test_cli_user_add_reads_password_from_stdin(settings, monkeypatch):
    from ecowatch.main import app
    from storage.sql import open_store

    monkeypatch.setenv("ECOWATCH_DATA_DIR", str(settings.data_dir))
    runner = CliRunner()
    ok = runner.invoke(app, ["user", "add", "shimahe", "--role", "unit", "--unit", "石马河街道"],
                       input="a-good-password\n")
    assert ok.exit_code == 0, ok.output
    assert json.loads(ok.output) == {"name": "shimahe", "role": "unit", "unit_code": UNIT_A, "department_code": None}
    again = runner.invoke(app, ["user", "add", "shimahe", "--role", "duty"], input="a-good-password\n")
    assert again.exit_code == 1 and "already exists" in again.output
    assert runner.invoke(app, ["user", "add", "x", "--role", "unit"], input="a-good-password\n").exit_code == 2
    assert runner.invoke(app, ["user", "add", "x", "--role", "boss"], input="a-good-password\n").exit_code == 2
    assert runner.invoke(app, ["user", "add", "y", "--role", "duty"], input="short\n").exit_code == 2
    with open_store(settings.sqlalchemy_url).read() as tx:
        user = tx.get_user("shimahe")
    assert user is not None and user.password_hash.startswith("$argon2id$")
    assert verify_password(user.password_hash, "a-good-password") and not verify_password(user.password_hash, "x")


def test_demo_users_only_when_there_are_none(store):
    from core.jurisdiction import load_jurisdiction
    from ecowatch.commands_users import seed_demo_users

    names = seed_demo_users(store, load_jurisdiction("jiangbei"))
    assert {"duty", "leader", "admin", "石马河街道", "区水利局"} <= set(names)
    with store.read() as tx:
        assert tx.get_user("石马河街道").unit_code == UNIT_A
        assert tx.get_user("区水利局").department_code == "sl"
    assert seed_demo_users(store, load_jurisdiction("jiangbei")) == []


@pytest.mark.parametrize("path", ["/api/search?q=x&until=0001-01-01T00:01:00%2B01:00",
                                  "/api/incidents?since=0001-01-01T00:01:00%2B01:00",
                                  "/api/stats?until=9999-12-31T23:00:00-05:00"])
def test_times_out_of_range_are_422_not_500(env, path):
    base, h = env
    resp = http.get(base + path, headers=h["duty1"])
    assert resp.status_code == 422 and "out of range" in resp.json()["detail"]


def test_api_actions_run_the_alerts_workflow(env, store):
    """The HTTP actions go through alerts.actions: they queue notifications, and 审核退回 exists."""
    base, h = env
    iid = add_incident(store, title="退回", text="石马河退回", unit_code=UNIT_A, unit="石马河街道")
    assert _post(base, iid, "reject", h["duty1"], {"reason": "x"}).status_code == 409  # nothing resolved yet
    for action, who, body in (("sign", "unit_a", None), ("respond", "unit_a", {"response": "已核查"}),
                              ("resolve", "unit_a", {"feedback": "已整改"})):
        assert _post(base, iid, action, h[who], body).status_code == 200
    with store.read() as tx:
        assert {e for m in tx.list_outbox(incident_id=iid) for e in m["events"]} >= {"resolved"}
    r = _post(base, iid, "reject", h["duty1"], {"reason": "整改照片不清"})
    assert r.status_code == 200 and r.json()["state"] == "signed"
    assert _post(base, iid, "reject", h["unit_a"], {"reason": "x"}).status_code == 403
    assert _post(base, iid, "acknowledge", h["duty1"]).status_code == 409  # no 催办 is waiting
    # 退回 tells the unit again ("assigned"; the incident was seeded already assigned, so only reject queued it)
    with store.read() as tx:
        assert {e for m in tx.list_outbox(incident_id=iid) for e in m["events"]} >= {"resolved", "assigned"}
