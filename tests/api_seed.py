"""Users and incidents written straight into a real store, for the API, browser and fuzz tests."""

from __future__ import annotations

import datetime as dt

import httpx

from core.models import Analysis, AuditEntry, Evidence, Grade, Incident, Polarity, RawPost, State
from core.passwords import hash_password
from core.timeutil import utcnow
from storage.sql import SqlStore

UNIT_A = "500105003000"  # 石马河街道
UNIT_B = "500105006000"  # 观音桥街道
PASSWORD = "correct-horse-battery"
USERS = {"duty1": ("duty", None), "leader1": ("leader", None), "admin1": ("admin", None),
         "unit_a": ("unit", UNIT_A), "unit_b": ("unit", UNIT_B),
         "dept_zj": ("department", None), "dept_ga": ("department", None)}
# The department each department user is bound to (会办): 区住房城乡建委 and 区公安分局.
DEPARTMENTS = {"dept_zj": "zj", "dept_ga": "ga"}
_HASH = hash_password(PASSWORD)  # one hash for all: argon2 is slow on purpose


def seed_users(store: SqlStore) -> None:
    """The users of the matrix, all with PASSWORD."""
    with store.begin() as tx:
        for name, (role, unit) in USERS.items():
            tx.add_user(name, role, unit, _HASH, utcnow(), department_code=DEPARTMENTS.get(name))


def add_incident(store: SqlStore, *, title: str, text: str, unit_code: str | None, unit: str | None,
                 state: State = State.ASSIGNED, grade: Grade = Grade.BLUE, topic: str = "water",
                 opened_at: dt.datetime | None = None, source: str = "test-feed",
                 deadlines: dict[str, dt.datetime] | None = None) -> int:
    """One incident with one analysed post; returns the incident id."""
    now = opened_at or utcnow()
    post = RawPost(source=source, title=title, text=text, url=None, published_at=now, fetched_at=now)
    full = post.full_text  # evidence offsets index the analysed text: title and body joined
    word = "石马河" if "石马河" in text else text[:2]
    analysis = Analysis(relevant=True, unit=unit, unit_code=unit_code, confidence=0.9, topics=[topic],
                        polarity=Polarity.NEG, sentiment=0.1,
                        evidence=[Evidence("place", word, full.find(word), full.find(word) + len(word), unit or "")])
    with store.begin() as tx:
        post_id = tx.add_posts([post], now).new_ids[0]
        tx.claim_post(post_id, now)
        tx.save_analysis(post_id, analysis, now)
        incident = Incident(title=title, unit=unit, unit_code=unit_code, topic=topic, grade=grade, state=state,
                            opened_at=now, updated_at=now, deadlines=deadlines or {
                                "sign_off": now + dt.timedelta(hours=2), "response": now + dt.timedelta(hours=24)},
                            grade_reasons=["相关负面舆情"])
        incident_id = tx.insert_incident(incident)
        tx.attach_post(incident_id, post_id, now)
        tx.add_audit(AuditEntry(incident_id, now, "system", "open", None, state.value, {"post_id": post_id}))
    return incident_id


def login(base: str, name: str, password: str = PASSWORD) -> dict[str, str]:
    """Authorization headers for a user, from the real login endpoint."""
    resp = httpx.post(f"{base}/api/auth/token", data={"username": name, "password": password})
    resp.raise_for_status()
    return {"Authorization": f"Bearer {resp.json()['access_token']}"}


def token_headers(name: str, secret: str) -> dict[str, str]:
    """Authorization headers signed with the server's key, as login would issue them (login runs
    argon2, ~0.5 s a time, so tests that are not about login skip it)."""
    from dashboard_api.security import create_token

    role, unit = USERS[name]
    token = create_token(secret, name, role, unit, utcnow(), 60, department_code=DEPARTMENTS.get(name))[0]
    return {"Authorization": f"Bearer {token}"}
