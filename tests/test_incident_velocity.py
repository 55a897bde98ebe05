"""An incident's velocity (its posts of the last hour) is counted from each link's copy of its
post's time (incident_posts.posted_at, revision 0020_pipe4), on SQLite and PostgreSQL: the same
count the join over the posts gave, and an older database's links get the time from the upgrade."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from alembic import command

from core.models import Grade, Incident, PostRole, RawPost, State
from storage.migrations import alembic_config
from storage.schema import metadata
from storage.sql import SqlStore
from storage.tables import register_all_tables

NOW = dt.datetime(2026, 11, 30, 1, 0, tzinfo=dt.UTC)


def _incident(tx) -> int:
    return tx.insert_incident(Incident(title="t", unit="u", unit_code="500105003000", topic="air", grade=Grade.BLUE,
                                       state=State.ASSIGNED, opened_at=NOW, updated_at=NOW))


def _posts(tx) -> list[int]:
    """Posts at 90, 59, 30 and 0 minutes before NOW, one undated (fetched 10 minutes before)."""
    posts = [RawPost(source="s", text=f"帖子{m}", url=f"https://x/{m}", author=f"a{m}",
                     published_at=NOW - dt.timedelta(minutes=m)) for m in (90, 59, 30, 0)]
    posts.append(RawPost(source="s", text="无日期", url="https://x/undated", author="b",
                         fetched_at=NOW - dt.timedelta(minutes=10)))
    result = tx.add_posts(posts, now=NOW)
    assert result.new_ids is not None and len(result.new_ids) == 5
    return result.new_ids


def _velocity(store: SqlStore, incident_id: int) -> int:
    with store.read() as tx:
        return tx.incident_post_count_between(incident_id, NOW - dt.timedelta(hours=1), NOW)


def test_velocity_counts_the_linked_posts_of_the_last_hour_by_their_own_time(sql_store: SqlStore):
    with sql_store.begin() as tx:
        incident_id, other = _incident(tx), _incident(tx)
        ids = _posts(tx)
        # Linked both ways: one at a time, and a group's links in one statement; the link time
        # (added_at) is a day later and must not count.
        assert tx.attach_post(incident_id, ids[0], NOW + dt.timedelta(days=1))
        tx.attach_posts([(incident_id, p, NOW + dt.timedelta(days=1), PostRole.REPORT) for p in ids[1:4]])
        tx.attach_posts([(other, ids[4], NOW, PostRole.REPORT)])
    assert _velocity(sql_store, incident_id) == 3  # 59, 30 and 0 minutes; not the one 90 minutes old
    assert _velocity(sql_store, other) == 1  # undated: its fetch time
    with sql_store.begin() as tx:  # 并单: the moved links keep their times
        tx.move_posts(other, incident_id)
    assert _velocity(sql_store, incident_id) == 4
    assert _velocity(sql_store, other) == 0


def test_the_upgrade_gives_existing_links_their_posts_time(sql_store: SqlStore):
    engine = sql_store.engine
    register_all_tables()
    metadata.drop_all(engine)
    with engine.begin() as conn:
        conn.exec_driver_sql("DROP TABLE IF EXISTS alembic_version")
    command.upgrade(alembic_config(engine), "0018_api4")
    with engine.begin() as conn:  # links as the code before 0019 wrote them: no post time
        conn.execute(sa.text("INSERT INTO incidents (id, title, topic, grade, grade_reasons, state, opened_at, "
                             "updated_at, deadlines, post_count) VALUES (1, 't', 'air', 'blue', '[]', 'assigned', "
                             ":at, :at, '{}', 2)"), {"at": NOW})
        for pid, minutes in ((1, 30), (2, 120)):
            conn.execute(sa.text("INSERT INTO raw_posts (id, fingerprint, content_hash, source, title, text, "
                                 "published_at, fetched_at, engagement) VALUES (:id, :fp, :fp, 's', '', 'x', "
                                 ":at, :at, '{}')"),
                         {"id": pid, "fp": f"url:https://x/{pid}", "at": NOW - dt.timedelta(minutes=minutes)})
            conn.execute(sa.text("INSERT INTO incident_posts (incident_id, post_id, added_at, role) "
                                 "VALUES (1, :id, :at, 'report')"), {"id": pid, "at": NOW})
    command.upgrade(alembic_config(engine), "head")
    assert _velocity(sql_store, 1) == 1
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM incident_posts WHERE posted_at IS NULL")).scalar() == 0
