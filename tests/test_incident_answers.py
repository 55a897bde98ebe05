"""The JSON of ``GET /api/incidents`` and ``GET /api/incidents/{id}`` is a contract: every field
and value stays as it was whatever is done to make the reads cheaper. A store built here from fixed
times (overdue or not for decades either way) is asked through the real server by every kind of
reader and list filter; the answers must equal, byte for byte, the ones the code before the
speed-ups gave on the same store (``tests/data/incident_answers.json``, written by main at
a340a47), and the list must equal the response model built from full rows."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import select

from core.models import Analysis, AuditEntry, Grade, PostRole, RawPost, State
from dashboard_api.schemas import IncidentPublic, incident_fields
from storage.incident_queries import IncidentFilters
from storage.rows import row_to_analysis, row_to_post
from storage.schema import analyses, incident_posts, raw_posts
from storage.sql import SqlStore, Tx
from tests.api_seed import UNIT_A, UNIT_B, add_incident, seed_users, token_headers
from tests.conftest import TEST_SECRET

GOLDEN = Path(__file__).parent / "data" / "incident_answers.json"
T0 = dt.datetime(2024, 5, 6, 7, 8, 9, 123456, tzinfo=dt.UTC)
PAST, FUTURE = dt.datetime(2020, 1, 1, 8, tzinfo=dt.UTC), dt.datetime(2090, 1, 1, 8, 30, tzinfo=dt.UTC)
LISTS = ["/api/incidents", "/api/incidents?limit=5", "/api/incidents?limit=4&offset=3",
         f"/api/incidents?unit_code={UNIT_A}&state=assigned&state=signed", "/api/incidents?overdue=true",
         "/api/incidents?overdue=false&limit=3", "/api/incidents?grade=orange&topic=air",
         "/api/incidents?since=2024-05-06T00:00:00%2B08:00&until=2024-05-20T00:00:00Z",
         "/api/incidents?state=closed&state=returned&state=new", "/api/incidents?offset=100"]


def build(store: SqlStore) -> list[int]:
    """Incidents covering what a listed or detailed incident can show: both units and none, every
    state, grades and topics, deadlines past and future, a milestone, a merge, a public reply,
    whole-second and fractional times, several posts with roles, audit entries and copies."""
    seed_users(store)
    ids = []
    for i in range(12):
        unit_code, unit = [(UNIT_A, "石马河街道"), (UNIT_B, "观音桥街道"), (None, None)][i % 3]
        state = [State.ASSIGNED, State.SIGNED, State.NEW, State.RESPONDED, State.RETURNED, State.CLOSED][i % 6]
        opened = T0 + dt.timedelta(days=i, seconds=i * 7, microseconds=-123456 if i % 4 == 0 else i)
        ids.append(add_incident(
            store, title=f"石马河污水直排{i}号“引号”<b>", text=f"石马河旁边的厂又在排污水了，第{i}次",
            unit_code=unit_code,
            unit=unit, state=state,
            grade=[Grade.BLUE, Grade.YELLOW, Grade.ORANGE, Grade.RED][i % 4], topic=["water", "air", "noise"][i % 3],
            opened_at=opened,
            deadlines={"sign_off": PAST + dt.timedelta(hours=i), "response": FUTURE if i % 2 else PAST,
                       **({"closure": FUTURE} if i % 5 == 0 else {})}))
    with store.begin() as tx:
        done = tx.get_incident(ids[1])
        assert done is not None
        done.milestones = {"sign_off": PAST + dt.timedelta(minutes=5), "response": PAST + dt.timedelta(hours=1)}
        done.public_reply_at = T0 + dt.timedelta(hours=3)
        done.grade_reasons = ["相关负面舆情", "媒体报道", 'a "quoted" \\ reason']
        done.place = "石马河"
        tx.update_incident(done)
        merged = tx.get_incident(ids[4])
        assert merged is not None
        merged.merged_into = ids[0]
        tx.update_incident(merged)
        for k, role in enumerate([PostRole.OFFICIAL, PostRole.PROGRESS, PostRole.PRAISE]):
            at = T0 + dt.timedelta(hours=5 + k)
            post = RawPost(source="weibo", title="", text=f"经核查，已责令整改{k}", url=f"https://example.org/{k}",
                           author="江北发布", published_at=at, fetched_at=at, engagement={"reposts": k, "likes": 3})
            post_id = tx.add_posts([post], at).new_ids[0]
            tx.attach_post(ids[1], post_id, at, role)
        tx.add_audit(AuditEntry(ids[1], T0 + dt.timedelta(hours=1), "duty1", "assign", "new", "assigned",
                                {"unit_code": UNIT_A, "note": "请核查"}))
        tx.add_copy(ids[1], "zj", "duty1", T0 + dt.timedelta(hours=2), "请协助")
        tx.add_audit(AuditEntry(ids[1], T0 + dt.timedelta(hours=2), "duty1", "copy", None, None,
                                {"department_code": "zj"}))
        tx.add_copy(ids[1], "ga", "duty1", T0 + dt.timedelta(hours=2, minutes=1), None)
        tx.add_audit(AuditEntry(ids[1], T0 + dt.timedelta(hours=2, minutes=1), "duty1", "copy", None, None,
                                {"department_code": "ga"}))
    return ids


def answers(base: str, ids: list[int]) -> dict[str, Any]:
    """Every answer the contract covers, as text, with the list's total header."""
    out: dict[str, Any] = {}
    for user in ("duty1", "unit_a", "dept_zj", "leader1"):
        headers = token_headers(user, TEST_SECRET)
        details = [f"/api/incidents/{i}" for i in (ids if user in ("duty1", "unit_a", "dept_zj") else ids[:2])]
        for path in (LISTS if user == "duty1" else LISTS[:2]) + details:
            resp = httpx.get(base + path, headers=headers)
            out[f"{user} {path}"] = [resp.status_code, resp.headers.get("x-total-count"), resp.text]
    return out


def test_list_and_detail_answers_are_those_of_the_code_before(store: SqlStore, api_server: str) -> None:
    ids = build(store)
    got = answers(api_server, ids)
    expected = json.loads(GOLDEN.read_text(encoding="utf-8"))
    assert got.keys() == expected.keys()
    for key, answer in got.items():
        assert answer == expected[key], key
    status, _, detail = got[f"duty1 /api/incidents/{ids[1]}"]
    assert status == 200 and '"role":"official"' in detail
    assert json.loads(got["duty1 /api/incidents?overdue=true"][2])  # the rule is exercised both ways
    assert json.loads(got["duty1 /api/incidents?overdue=false&limit=3"][2])


def test_the_list_is_the_response_model_of_full_rows(store: SqlStore, api_server: str) -> None:
    build(store)
    resp = httpx.get(api_server + "/api/incidents", headers=token_headers("duty1", TEST_SECRET))
    now = dt.datetime.now(dt.UTC)  # overdue is decades away from now either way
    with store.read() as tx:
        full = tx.find_incidents(IncidentFilters(), None)
    assert resp.content == json.dumps([json.loads(IncidentPublic.of(i, now).model_dump_json()) for i in full],
                                      ensure_ascii=False, separators=(",", ":")).encode()


def full_post_rows(tx: Tx, incident_id: int) -> list[tuple[RawPost, Analysis | None, PostRole]]:
    """An incident's posts as SQLAlchemy reads whole rows (every column, its result processors):
    the reference the one lean reader, ``Tx.incident_post_rows``, is held to."""
    query = (select(raw_posts, incident_posts.c.role, *(c.label(f"a_{c.name}") for c in analyses.c))
             .join(incident_posts, incident_posts.c.post_id == raw_posts.c.id)
             .outerjoin(analyses, analyses.c.post_id == raw_posts.c.id)
             .where(incident_posts.c.incident_id == incident_id).order_by(raw_posts.c.id))
    return [(row_to_post(r), row_to_analysis(r, "a_") if r.a_post_id is not None else None, PostRole(r.role))
            for r in tx.conn.execute(query)]


def test_the_page_reads_what_the_full_reads_give(sql_store: SqlStore) -> None:
    """The incident page reads its incident and posts with the lighter queries
    (``listed_incident``, ``incident_post_rows``): on SQLite and PostgreSQL alike they must give
    what the full rows give, field for field (the posts: every field but the snapshot), for every
    incident of the store above."""
    ids = build(sql_store)
    with sql_store.begin() as tx:  # a post in a thread (reply_to is read too); floats to the last digit
        tx.conn.execute(raw_posts.update().where(raw_posts.c.text == "经核查，已责令整改1")
                        .values(reply_to="https://example.org/0"))
        tx.conn.execute(analyses.update().values(sentiment=1 / 3, confidence=0.123456789012345678))
    now = dt.datetime.now(dt.UTC)
    with sql_store.read() as tx:
        assert tx.listed_incident(max(ids) + 1) is None
        for i in ids:
            listed, full = tx.listed_incident(i), tx.get_incident(i)
            assert listed is not None and full is not None
            assert incident_fields(listed, now) == incident_fields(full, now)
            assert tx.incident_post_rows(i) == full_post_rows(tx, i)
            page = tx.incident_post_rows(i, remembered=True)  # the page's: the same objects for the same rows
            assert page == full_post_rows(tx, i) and all(
                a is b for x, y in zip(page, tx.incident_post_rows(i, remembered=True), strict=True)
                for a, b in zip(x, y, strict=True))
        posts = tx.incident_post_rows(ids[1])
    assert len(posts) == 4 and posts[0][1] is not None and posts[0][1].evidence  # the report, analysed
    assert [a for _, a, _ in posts[1:]] == [None] * 3  # three follow-ups with no analysis
    assert posts[0][1].sentiment == 1 / 3 and posts[2][0].reply_to == "https://example.org/0"
