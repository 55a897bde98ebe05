"""The authorization matrix: every endpoint × every role, on the real server over loopback.

A unit user gets only its own unit's data and is refused the rest; a department user (会办) only
the incidents copied to its department; wrong, forged and expired tokens are refused; without a
token only /healthz, login and the console page answer.
"""

from __future__ import annotations

import datetime as dt

import httpx
import pytest

from core.models import State
from core.timeutil import utcnow
from dashboard_api.security import create_token
from tests.api_seed import UNIT_A, UNIT_B, USERS, add_incident, login, seed_users, token_headers
from tests.conftest import TEST_SECRET

ROLES = list(USERS)  # duty1, leader1, admin1, unit_a, unit_b, dept_zj (A is copied to it), dept_ga
http = httpx.Client(timeout=10)  # one client: building one per request costs ~0.1 s (TLS context)


@pytest.fixture
def world(store, api_server):
    """Three incidents (unit A, unit B, triage), A copied to 区住房城乡建委 (dept_zj's department),
    and a logged-in session per user."""
    seed_users(store)
    ids = {
        "A": add_incident(store, title="石马河又黑又臭",
                          text="石马河街道鲜花港社区旁边的石马河又黑又臭，河水黑臭，污水直排",
                          unit_code=UNIT_A, unit="石马河街道"),
        "B": add_incident(store, title="观音桥噪声扰民", text="观音桥步行街夜间施工噪声扰民，河道也黑臭",
                          unit_code=UNIT_B, unit="观音桥街道", topic="noise"),
        "T": add_incident(store, title="江北区某处污水", text="江北区不知哪里的污水黑臭", unit_code=None, unit=None,
                          state=State.NEW),
    }
    headers = {name: token_headers(name, TEST_SECRET) for name in ROLES}
    copied = http.post(f"{api_server}/api/incidents/{ids['A']}/copy", headers=headers["duty1"],
                       json={"department": "zj", "note": "请核查"})
    assert copied.status_code == 200, copied.text
    return api_server, ids, headers


def _status(base, method, path, headers, body=None):
    return http.request(method, base + path, headers=headers, json=body).status_code


# (method, path template) → {role: expected status}; every endpoint of the OpenAPI schema is here.
ALL_OK = dict.fromkeys(ROLES, 200)
NO_UNIT = {"unit_a": 403, "unit_b": 403}
# A department user reads only what was shared with it: everything else is refused (403), and an
# incident not copied to it is not found (404), as another unit's is for a unit user.
NO_DEPT = {"dept_zj": 403, "dept_ga": 403}
READ_MATRIX = {
    ("GET", "/api/auth/me"): ALL_OK,
    ("GET", "/api/jurisdiction"): ALL_OK,
    ("GET", "/api/vocabulary"): ALL_OK,
    ("GET", "/api/incidents"): ALL_OK,  # a department user: those copied to it
    ("GET", "/api/incidents/{A}"): {**ALL_OK, "unit_b": 404, "dept_ga": 404},
    ("GET", "/api/copies"): {**ALL_OK, **NO_UNIT, "admin1": 403},  # the departments' inbox
    ("GET", "/api/search?q=黑臭"): {**ALL_OK, **NO_DEPT},
    ("GET", "/api/stats"): {**ALL_OK, **NO_DEPT},
    ("GET", "/api/feed"): ALL_OK,  # a department's: the lines of the incidents copied to it
    ("GET", "/api/feed/stream?after=0&max_seconds=0.5"): ALL_OK,
    ("GET", "/api/sources"): {**ALL_OK, **NO_UNIT, **NO_DEPT},
    ("GET", "/api/users"): {**dict.fromkeys(ROLES, 403), "admin1": 200},
    ("GET", "/api/briefings"): {**ALL_OK, **NO_UNIT, **NO_DEPT},
    ("GET", "/api/briefings/2026-W01?format=html"): {**ALL_OK, **NO_UNIT, **NO_DEPT},
    ("GET", "/api/rota/now"): {**ALL_OK, **NO_UNIT, **NO_DEPT},
    ("GET", "/api/rota/month?month=2026-10"): {**ALL_OK, **NO_UNIT, **NO_DEPT},
    ("GET", "/api/rota/log?month=2026-10&format=xlsx"): {**ALL_OK, **NO_UNIT, **NO_DEPT},
    # Reporting up and items handed down (their write endpoints: SHARING_WRITES below).
    ("GET", "/api/incidents/{A}/reports"): {**ALL_OK, **NO_UNIT, **NO_DEPT},
    ("GET", "/api/incidents/{A}/reports/preview?format=html"): {**dict.fromkeys(ROLES, 409), **NO_UNIT,
                                                                **NO_DEPT},  # 一般: no special report
    ("GET", "/api/sendings"): {**ALL_OK, **NO_UNIT, **NO_DEPT},
    ("GET", "/api/inbound"): {**ALL_OK, **NO_UNIT, **NO_DEPT},
    ("GET", "/api/briefs"): ALL_OK,  # a unit or department user: its own briefs and tally row
    ("GET", "/api/briefs/tally"): ALL_OK,
    ("GET", "/api/briefs/mail-triage"): {**ALL_OK, **NO_UNIT, **NO_DEPT},  # mails the email import could not place
    ("GET", "/api/briefs/tally/export"): {**ALL_OK, **NO_UNIT, **NO_DEPT},
    # Exports (the lists' own scope: a unit its own, a department what was copied to it) and the feeds
    # for other systems (a login: its scope; a department none).
    ("GET", "/api/exports/incidents.csv"): ALL_OK,
    ("GET", f"/api/exports/incidents.xlsx?unit_code={UNIT_B}"): {**ALL_OK, "unit_a": 403},
    ("GET", "/api/exports/posts.csv?q=黑臭"): {**ALL_OK, **NO_DEPT},
    ("GET", f"/api/exports/posts.xlsx?q=黑臭&unit_code={UNIT_A}"): {**ALL_OK, "unit_b": 403, **NO_DEPT},
    ("GET", "/api/feeds/incidents.json"): {**ALL_OK, **NO_DEPT},
    ("GET", "/api/feeds/incidents.atom"): {**ALL_OK, **NO_DEPT},
}
ACTIONS = {"assign": {"unit_code": UNIT_A}, "reassign": {"unit_code": UNIT_B, "reason": "地点核实"},
           "sign": {}, "respond": {"response": "已核查"}, "resolve": {"feedback": "已整改"},
           "return": {"reason": "不属本辖区"}, "close": {}, "merge": {"into": 1, "reason": "同一事"},
           "grade": {"grade": "orange", "reason": "涉及饮用水"},
           "extend": {"step": "response", "hours": 12, "reason": "等监测数据"},
           "reject": {"reason": "整改不到位"}, "acknowledge": {},
           # the duty desk's corrections (alerts.corrections); a unit may 修正 a post of its own incident
           "dismiss": {"scope": "jurisdiction", "reason": "宁波"}, "edit": {"post_id": 1, "topic": "air"},
           "split": {"post_ids": [1], "reason": "另一件事"}, "move": {"post_ids": [1], "into": 1}, "undo": {},
           # 会办 / 抄送: the duty desk copies and withdraws, the department copied on it replies
           "copy": {"department": "ga"}, "withdraw_copy": {"department": "zj"}, "reply": {"opinion": "已核查"}}
DUTY_ACTIONS = {"assign", "reassign", "close", "merge", "grade", "extend", "reject", "acknowledge", "dismiss", "edit",
                "split", "move", "undo", "copy", "withdraw_copy"}
UNIT_ACTIONS = {"sign", "respond", "resolve", "return", "extend", "edit"}
DEPT_ACTIONS = {"reply"}
OTHER = {("POST", "/api/auth/token"), ("GET", "/healthz"), ("POST", "/api/users"), ("PATCH", "/api/users/{name}")}
# The rota's writes: their roles are checked in tests/test_rota_api.py.
OTHER |= {("POST", "/api/rota/shifts/{shift_id}/override"), ("POST", "/api/rota/pages/{page_id}/ack"),
          ("POST", "/api/rota/handovers/{handover_id}/accept"), ("POST", "/api/rota/handovers/{handover_id}/remarks")}
# Reporting up (报送) and items handed down (上级交办): the endpoints that write.
_NOT_DUTY = {"leader1": 403, "admin1": 403, "unit_a": 403, "unit_b": 403, **NO_DEPT}
_ITEM = {"origin": "cac", "reference": "AUTHZ-1", "text": "石马河有死鱼", "unit": "石马河街道",
        "deadline": "2030-01-01T00:00:00+08:00"}
# (method, path template, {role: expected status}); the duty desk's status is what the state allows
# (a 一般 incident gets no report: 409; unknown ids: 404) — never 403.
SHARING_WRITES = [
    ("POST", "/api/incidents/{incident_id}/reports", {"duty1": 409, **_NOT_DUTY}),
    ("GET", "/api/reports/{report_id}", {"duty1": 404, "leader1": 404, "admin1": 404, **NO_UNIT, **NO_DEPT}),
    ("POST", "/api/reports/{report_id}/sendings", {"duty1": 404, **_NOT_DUTY}),
    ("POST", "/api/sendings/{sending_id}/sent", {"duty1": 404, **_NOT_DUTY}),
    ("POST", "/api/sendings/{sending_id}/retry", {"duty1": 404, **_NOT_DUTY}),
    ("POST", "/api/inbound", {"duty1": 201, **_NOT_DUTY}),
    ("POST", "/api/inbound/{inbound_id}/sendings", {"duty1": 404, **_NOT_DUTY}),
    ("POST", "/api/inbound/platform", dict.fromkeys(ROLES, 401)),
    # 信息简报: a unit or department submits its own; the duty desk must say whose (422 here); others may not.
    ("POST", "/api/briefs", {"duty1": 422, "leader1": 403, "admin1": 403, "unit_a": 201, "unit_b": 201,
                             "dept_zj": 201, "dept_ga": 201}),
    ("GET", "/api/briefs/files/{file_id}", dict.fromkeys(ROLES, 404)),  # a login is no platform key (and it is off)
    # The email import's triage list: the duty desk assigns or dismisses (no such mail here: 404).
    ("POST", "/api/briefs/mail-triage/{mail_id}/assign", {"duty1": 404, **_NOT_DUTY}),
    ("POST", "/api/briefs/mail-triage/{mail_id}/dismiss", {"duty1": 404, **_NOT_DUTY}),
]
_SHARING_BODIES = {"/api/reports/{report_id}/sendings": {"recipient": "cac", "channel": "manual"},
                   "/api/inbound": _ITEM, "/api/inbound/{inbound_id}/sendings": {"channel": "manual"},
                   "/api/inbound/platform": _ITEM, "/api/briefs": {"title": "简报", "text": "正文"},
                   "/api/briefs/mail-triage/{mail_id}/assign": {"submitter": "石马河街道"}}
OTHER |= {(method, path) for method, path, _ in SHARING_WRITES}


def test_matrix_covers_every_endpoint(world):
    base, _ids, _headers = world
    schema = http.get(base + "/openapi.json").json()
    endpoints = {(m.upper(), p) for p, ops in schema["paths"].items() for m in ops}
    covered = {(m, p.split("?")[0].replace("{A}", "{incident_id}").replace("2026-W01", "{key}")
                .replace(".csv", ".{fmt}").replace(".xlsx", ".{fmt}")) for m, p in READ_MATRIX} | OTHER
    covered |= {("POST", f"/api/incidents/{{incident_id}}/{a}") for a in ACTIONS}
    assert endpoints == covered, "a new endpoint needs its row in the authorization matrix"


@pytest.mark.parametrize("endpoint", list(READ_MATRIX), ids=[p for _m, p in READ_MATRIX])
def test_read_endpoints_by_role(world, endpoint):
    base, ids, headers = world
    method, path = endpoint
    path = path.replace("{A}", str(ids["A"]))
    got = {role: _status(base, method, path, headers[role]) for role in ROLES}
    assert got == READ_MATRIX[endpoint]


def test_unit_user_sees_only_its_own_unit_everywhere(world):
    base, ids, h = world
    ua, duty = h["unit_a"], h["duty1"]
    assert {i["id"] for i in http.get(base + "/api/incidents", headers=ua).json()} == {ids["A"]}
    assert {i["id"] for i in http.get(base + "/api/incidents", headers=duty).json()} == set(ids.values())
    assert http.get(base + f"/api/incidents?unit_code={UNIT_B}", headers=ua).status_code == 403
    assert http.get(base + f"/api/incidents/{ids['B']}", headers=ua).status_code == 404
    assert http.get(base + f"/api/incidents/{ids['T']}", headers=ua).status_code == 404
    # search: both A's and B's posts say 黑臭; unit A finds only its own
    assert http.get(base + "/api/search?q=黑臭", headers=duty).json()["total"] == 3
    hits = http.get(base + "/api/search?q=黑臭", headers=ua).json()
    assert hits["total"] == 1 and hits["hits"][0]["incident_id"] == ids["A"]
    assert set(hits["facets"]["unit_code"]) == {UNIT_A}
    assert http.get(base + f"/api/search?q=黑臭&unit_code={UNIT_B}", headers=ua).status_code == 403
    # stats
    stats = http.get(base + "/api/stats", headers=ua).json()
    assert [u["unit_code"] for u in stats["by_unit"]] == [UNIT_A] and stats["total"] == 1
    assert http.get(base + f"/api/stats?unit_code={UNIT_B}", headers=ua).status_code == 403
    assert http.get(base + "/api/stats", headers=duty).json()["total"] == 3
    # feed, polled and streamed
    assert {e["incident_id"] for e in http.get(base + "/api/feed", headers=ua).json()} == {ids["A"]}
    assert {e["incident_id"] for e in http.get(base + "/api/feed", headers=duty).json()} == set(ids.values())
    body = http.get(base + "/api/feed/stream?after=0&max_seconds=1", headers=ua).text
    data_lines = [line for line in body.splitlines() if line.startswith("data: ")]
    assert data_lines and all(f'"incident_id": {ids["A"]}' in line for line in data_lines)
    # exports and the feeds for other systems: the same scope
    rows = http.get(base + "/api/exports/incidents.csv", headers=ua).content.decode("utf-8-sig").splitlines()
    assert [int(r.split(",")[0]) for r in rows[1:]] == [ids["A"]]
    rows = http.get(base + "/api/exports/posts.csv?q=黑臭", headers=ua).content.decode("utf-8-sig").splitlines()
    assert [int(r.split(",")[1]) for r in rows[1:]] == [ids["A"]]
    events = http.get(base + "/api/feeds/incidents.json", headers=ua).json()["events"]
    assert {e["incident_id"] for e in events} == {ids["A"]}
    assert f"#{ids['B']} " not in http.get(base + "/api/feeds/incidents.atom", headers=ua).text


@pytest.mark.parametrize("action", list(ACTIONS))
def test_actions_by_role(world, action):
    base, ids, h = world
    body = dict(ACTIONS[action])
    if action == "merge":
        body["into"] = ids["B"]
    path = f"/api/incidents/{ids['A']}/{action}"
    for role in ("leader1", "admin1"):  # read-only and admin never act on incidents
        assert _status(base, "POST", path, h[role], body) == 403
    if action not in DUTY_ACTIONS:
        assert _status(base, "POST", path, h["duty1"], body) == 403
    if action not in UNIT_ACTIONS:
        assert _status(base, "POST", path, h["unit_a"], body) == 403
    else:
        assert _status(base, "POST", path, h["unit_b"], body) == 404  # another unit's incident
        assert _status(base, "POST", f"/api/incidents/{ids['T']}/{action}", h["unit_a"], body) == 404
    if action not in DEPT_ACTIONS:
        assert _status(base, "POST", path, h["dept_zj"], body) == 403
        assert _status(base, "POST", path, h["dept_ga"], body) == 403
    else:
        assert _status(base, "POST", path, h["dept_ga"], body) == 404  # not copied to its department
        assert _status(base, "POST", f"/api/incidents/{ids['T']}/{action}", h["dept_zj"], body) == 404
    # The right role gets a real answer: done (200) or not in this state (409), never refused.
    actor = "unit_a" if action in UNIT_ACTIONS else "dept_zj" if action in DEPT_ACTIONS else "duty1"
    assert _status(base, "POST", path, h[actor], body) in (200, 409)


ANON_OK = {("GET", "/healthz"), ("POST", "/api/auth/token")}


def _every_endpoint(base, ids):
    schema = http.get(base + "/openapi.json").json()
    for path, ops in schema["paths"].items():
        for method in ops:
            yield method.upper(), (path.replace("{incident_id}", str(ids["A"])).replace("{name}", "unit_a")
                                   .replace("{key}", "2026-W01").replace("{fmt}", "csv")), path


@pytest.mark.parametrize("token", ["none", "garbage", "forged", "expired", "disabled"])
def test_bad_tokens_are_refused_everywhere(world, store, token):
    base, ids, h = world
    now = utcnow()
    headers = {
        "none": {},
        "garbage": {"Authorization": "Bearer not-a-token"},
        "forged": {"Authorization": "Bearer " + create_token("another-key-of-32-bytes-or-more-xx", "duty1", "duty",
                                                             None, now, 60)[0]},
        "expired": {"Authorization": "Bearer " + create_token(TEST_SECRET, "duty1", "duty", None,
                                                              now - dt.timedelta(hours=2), 60)[0]},
        "disabled": h["unit_b"],
    }[token]
    if token == "disabled":
        assert http.patch(base + "/api/users/unit_b", headers=h["admin1"], json={"active": False}).status_code == 200
    for method, path, template in _every_endpoint(base, ids):
        if (method, template) in ANON_OK:
            continue
        resp = http.request(method, base + path, headers=headers, json={})
        assert resp.status_code == 401, (method, path, resp.status_code)
        assert "detail" in resp.json() and resp.headers["www-authenticate"] == "Bearer"
    assert http.get(base + "/healthz").status_code == 200
    assert http.get(base + "/").status_code == 200  # the console page itself holds no data


def test_login(world):
    base, _ids, _h = world
    ok = http.post(base + "/api/auth/token", data={"username": "unit_a", "password": "correct-horse-battery"})
    assert ok.status_code == 200
    assert ok.json()["user"] == {"name": "unit_a", "role": "unit", "unit_code": UNIT_A, "unit": "石马河街道",
                                 "active": True, "department_code": None, "department": None}
    dept = http.post(base + "/api/auth/token", data={"username": "dept_zj", "password": "correct-horse-battery"})
    assert dept.status_code == 200
    assert dept.json()["user"] == {"name": "dept_zj", "role": "department", "unit_code": None, "unit": None,
                                   "active": True, "department_code": "zj", "department": "区住房城乡建委"}
    bad = http.post(base + "/api/auth/token", data={"username": "unit_a", "password": "wrong"})
    assert bad.status_code == 400 and bad.json()["detail"] == "wrong user name or password"
    nobody = http.post(base + "/api/auth/token", data={"username": "nobody", "password": "wrong"})
    assert nobody.status_code == 400 and nobody.json() == bad.json()  # no hint which one was wrong
    assert http.post(base + "/api/auth/token", data={"username": "x"}).status_code == 422


def test_login_is_rate_limited_per_user_and_address(world):
    base, _ids, _h = world
    for _ in range(5):
        assert http.post(base + "/api/auth/token", data={"username": "leader1", "password": "nope"}).status_code == 400
    blocked = http.post(base + "/api/auth/token", data={"username": "leader1", "password": "correct-horse-battery"})
    assert blocked.status_code == 429 and int(blocked.headers["retry-after"]) > 0
    # another user from the same address is not locked out by someone guessing leader1's password
    assert http.post(base + "/api/auth/token",
                      data={"username": "duty1", "password": "correct-horse-battery"}).status_code == 200


def test_admin_manages_users(world):
    base, _ids, h = world
    new = {"name": "wulidian", "role": "unit", "unit_code": "500105007000", "password": "long-enough-pw"}
    assert http.post(base + "/api/users", headers=h["duty1"], json=new).status_code == 403
    created = http.post(base + "/api/users", headers=h["admin1"], json=new)
    assert created.status_code == 201 and created.json()["unit"] == "五里店街道"
    assert http.post(base + "/api/users", headers=h["admin1"], json=new).status_code == 409
    bad_unit = {**new, "name": "x1", "unit_code": "999"}
    assert http.post(base + "/api/users", headers=h["admin1"], json=bad_unit).status_code == 422
    assert "password_hash" not in str(http.get(base + "/api/users", headers=h["admin1"]).json())
    assert login(base, "wulidian", "long-enough-pw")
    # a department user (会办) names a department of the pack, and only it has one
    dept = {"name": "linye", "role": "department", "department_code": "ly", "password": "long-enough-pw"}
    for bad in ({**dept, "department_code": "nope"}, {**dept, "department_code": None},
                {**new, "name": "x2", "department_code": "ly"}):
        refused = http.post(base + "/api/users", headers=h["admin1"], json=bad)
        assert refused.status_code == 422, bad
    assert "nope" in http.post(base + "/api/users", headers=h["admin1"],
                               json={**dept, "department_code": "nope"}).json()["detail"]
    created = http.post(base + "/api/users", headers=h["admin1"], json=dept)
    assert created.status_code == 201 and created.json()["department"] == "区林业局"
    assert http.get(base + "/api/incidents", headers=login(base, "linye", "long-enough-pw")).json() == []
    # the machine's own actors (core.actors) are no one's user name: such a user would act as them
    for reserved in ("system", "city_platform", "值班员", "cli"):  # the machine's and the command line's actors
        taken = http.post(base + "/api/users", headers=h["admin1"], json={**new, "name": reserved})
        assert taken.status_code == 409 and "reserved" in taken.json()["detail"]


def test_department_sees_only_what_was_shared_with_it(world):
    base, ids, h = world
    zj, ga, duty = h["dept_zj"], h["dept_ga"], h["duty1"]
    assert [i["id"] for i in http.get(base + "/api/incidents", headers=zj).json()] == [ids["A"]]
    assert http.get(base + "/api/incidents", headers=ga).json() == []
    assert http.get(base + f"/api/incidents?unit_code={UNIT_B}", headers=zj).json() == []
    for other in ("B", "T"):
        assert http.get(base + f"/api/incidents/{ids[other]}", headers=zj).status_code == 404
    # its inbox: its own copy, with the incident
    inbox = http.get(base + "/api/copies", headers=zj).json()
    assert [(c["incident_id"], c["department_code"], c["state"]) for c in inbox] == [(ids["A"], "zj", "waiting")]
    assert inbox[0]["incident"]["title"] == "石马河又黑又臭" and inbox[0]["note"] == "请核查"
    assert http.get(base + "/api/copies", headers=ga).json() == []
    # another department's copy of the same incident, and its answer, stay out of its view
    a = f"{base}/api/incidents/{ids['A']}"
    assert http.post(a + "/copy", headers=duty, json={"department": "ga"}).status_code == 200
    assert http.post(a + "/reply", headers=ga, json={"opinion": "公安意见"}).status_code == 200
    seen = http.get(base + f"/api/incidents/{ids['A']}", headers=zj).json()
    assert [c["department_code"] for c in seen["copies"]] == ["zj"]
    assert "公安意见" not in str(seen) and "区公安分局" not in str(seen)
    full = http.get(base + f"/api/incidents/{ids['A']}", headers=duty).json()
    assert [c["department_code"] for c in full["copies"]] == ["zj", "ga"] and "公安意见" in str(full["audit"])
    # 信息简报: its own department's only
    assert http.post(base + "/api/briefs", headers=zj, json={"title": "简报", "text": "正文"}).status_code == 201
    assert http.post(base + "/api/briefs", headers=zj,
                     json={"submitter": UNIT_A, "title": "简报", "text": "正文"}).status_code == 403
    assert {b["submitter"] for b in http.get(base + "/api/briefs", headers=zj).json()} == {"zj"}
    assert [r["submitter"] for r in http.get(base + "/api/briefs/tally", headers=zj).json()] == ["zj"]
    # its live feed: the lines of the incident copied to it, polled, tailed and streamed; nothing else
    assert http.post(base + f"/api/incidents/{ids['B']}/grade", headers=duty,
                     json={"grade": "orange", "reason": "扰民加剧"}).status_code == 200  # a line about B
    for dept, expected in ((zj, {ids["A"]}), (ga, {ids["A"]})):
        assert {e["incident_id"] for e in http.get(base + "/api/feed", headers=dept).json()} == expected
        assert {e["incident_id"] for e in http.get(base + "/api/feed?tail=50", headers=dept).json()} == expected
        body = http.get(base + "/api/feed/stream?after=0&max_seconds=1", headers=dept).text
        streamed = [line for line in body.splitlines() if line.startswith("data: ")]
        assert streamed and all(f'"incident_id": {ids["A"]},' in line for line in streamed)
    def said(headers):  # each line's action and the department it names; 公安's 会办 is not 住建's business
        return [(e["payload"].get("action", e["kind"]), e["payload"].get("department_code"))
                for e in http.get(base + "/api/feed", headers=headers).json()]

    assert said(zj) == [("incident_new", None), ("copy", "zj")]
    assert said(ga) == [("incident_new", None), ("copy", "ga"), ("reply", "ga")]
    assert {("copy", "zj"), ("grade", None), ("copy", "ga"), ("reply", "ga")} <= set(said(duty))
    for path in ("/api/feed?recipient=区生态环境局值班室", "/api/feed/stream?recipient=x&max_seconds=0.5"):
        assert http.get(base + path, headers=zj).status_code == 403  # no contact's inbox (they quote answers)
    # withdrawn: not found, out of its list, inbox and feed, and it can no longer answer
    assert http.post(base + f"/api/incidents/{ids['A']}/withdraw_copy", headers=duty,
                     json={"department": "zj"}).status_code == 200
    assert http.get(base + "/api/feed", headers=zj).json() == []
    assert http.get(base + "/api/feed/stream?after=0&max_seconds=0.5", headers=zj).text.count("data: ") == 0
    assert http.get(base + f"/api/incidents/{ids['A']}", headers=zj).status_code == 404
    assert http.get(base + "/api/incidents", headers=zj).json() == []
    assert http.get(base + "/api/copies", headers=zj).json() == []
    assert http.post(base + f"/api/incidents/{ids['A']}/reply", headers=zj, json={"opinion": "晚了"}).status_code == 404
    every = http.get(base + "/api/copies?withdrawn=true", headers=duty).json()
    assert sorted((c["department_code"], c["state"]) for c in every) == [("ga", "replied"), ("zj", "withdrawn")]


@pytest.mark.parametrize(("method", "template", "expected"), SHARING_WRITES,
                         ids=[f"{m} {p}" for m, p, _ in SHARING_WRITES])
def test_sharing_writes_by_role(world, method, template, expected):
    base, ids, _ = world
    path = (template.replace("{incident_id}", str(ids["A"])).replace("{report_id}", "999")
            .replace("{sending_id}", "999").replace("{inbound_id}", "999").replace("{file_id}", "999")
            .replace("{mail_id}", "999"))
    got = {role: _status(base, method, path, token_headers(role, TEST_SECRET), _SHARING_BODIES.get(template))
           for role in ROLES}
    assert got == expected
    assert _status(base, method, path, {}, _SHARING_BODIES.get(template)) == 401  # no token: refused
