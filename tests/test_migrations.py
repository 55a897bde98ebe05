"""Migrations: the revisions build exactly the declared schema, on SQLite and PostgreSQL; older
databases are brought forward without losing rows."""

from __future__ import annotations

import datetime as dt
import json

import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from core.models import RawPost
from storage.migrations import alembic_config, upgrade_to_head
from storage.schema import metadata
from storage.sql import open_store
from storage.tables import register_all_tables


def _empty_engine(sql_store) -> sa.Engine:
    """A fresh engine on the fixture's database with every table dropped."""
    engine = sql_store.engine
    register_all_tables()
    metadata.drop_all(engine)
    with engine.begin() as conn:
        conn.exec_driver_sql("DROP TABLE IF EXISTS alembic_version")
    return engine


def test_revisions_build_exactly_the_declared_tables(sql_store):
    engine = _empty_engine(sql_store)
    command.upgrade(alembic_config(engine), "head")  # migrations only, no create_all
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    assert diff == [], f"the schema changed without a migration: {diff}\n" \
                       'write one with: python -m storage.migrations revision "what changed"'


def test_open_store_twice_is_idempotent_and_keeps_rows(sql_store):
    with sql_store.begin() as tx:
        tx.add_posts([RawPost(source="s", text="石马河", url="http://x/1")])
    again = open_store(sql_store.url)
    with again.read() as tx:
        assert tx.count_posts() == 1
    with again.engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM alembic_version").scalar() == 1
    again.dispose()


def test_database_from_before_migrations_is_brought_forward(tmp_path):
    url = f"sqlite:///{tmp_path / 'old.db'}"
    engine = sa.create_engine(url)
    with engine.begin() as conn:  # the foundation's first layout, without newer tables and columns
        conn.exec_driver_sql("CREATE TABLE raw_posts (id INTEGER PRIMARY KEY, fingerprint VARCHAR(200) NOT NULL "
                             "UNIQUE, content_hash VARCHAR(64) NOT NULL, source VARCHAR(200) NOT NULL, url TEXT, "
                             "title TEXT NOT NULL, text TEXT NOT NULL, author VARCHAR(200), published_at DATETIME, "
                             "fetched_at DATETIME NOT NULL, engagement JSON NOT NULL, snapshot TEXT, "
                             "processed_at DATETIME, process_error TEXT)")
        conn.exec_driver_sql("INSERT INTO raw_posts (fingerprint, content_hash, source, title, text, fetched_at, "
                             "engagement) VALUES ('url:http://a/1', 'h', 's', '', '旧帖子', '2026-01-01 00:00:00', "
                             "'{}')")
    upgrade_to_head(engine)
    tables = set(sa.inspect(engine).get_table_names())
    assert {"incidents", "audit_log", "alembic_version"} <= tables
    store = open_store(url)
    with store.read() as tx:
        assert tx.get_post(1).text == "旧帖子"
    store.dispose()


def _database_with_feed_events(sql_store) -> tuple[sa.Engine, int]:
    """A database at revision 0002 (two live-feed tables) with rows in both; returns the engine
    and the id of its one console event."""
    engine = _empty_engine(sql_store)
    command.upgrade(alembic_config(engine), "0002")
    at = dt.datetime(2026, 11, 30, 1, 0, tzinfo=dt.UTC)
    md = sa.MetaData()
    old = {name: sa.Table(name, md, autoload_with=engine) for name in ("incidents", "events", "feed_events")}
    with engine.begin() as conn:
        conn.execute(old["incidents"].insert().values(
            id=7, title="石马河污水", unit="石马河街道", unit_code="500105003000", topic="water", grade="blue",
            grade_reasons=[], state="assigned", opened_at=at, updated_at=at,
            deadlines={}, post_count=1))
        console = conn.execute(old["events"].insert().values(
            at=at, kind="incident_new", incident_id=7, unit_code="500105003000",
            payload={"title": "石马河污水"})).inserted_primary_key[0]
        conn.execute(old["feed_events"].insert(), [
            {"at": at + dt.timedelta(minutes=n), "incident_id": iid, "recipient": who,
             "grade": grade, "subject": f"主题{n}", "body": f"第{n}条\n两行", "events": kinds}
            for n, (iid, who, grade, kinds) in enumerate([
                (7, "属地联系人", "blue", ["opened"]), (7, "区生态环境局值班室", "blue", ["opened", "reminder"]),
                (None, "区生态环境局值班室", None, [])])])
    return engine, int(console)


EXPECTED_FEED = [  # what the in-app feed held before the move, as Tx.notifications_after (storage.events) shows it
    ("属地联系人", 7, "blue", "主题0", "第0条\n两行", ["opened"], 0),
    ("区生态环境局值班室", 7, "blue", "主题1", "第1条\n两行", ["opened", "reminder"], 1),
    ("区生态环境局值班室", None, None, "主题2", "第2条\n两行", [], 2)]


def _feed(store) -> list[tuple]:
    start = dt.datetime(2026, 11, 30, 1, 0, tzinfo=dt.UTC)
    with store.read() as tx:
        return [(f["recipient"], f["incident_id"], f["grade"], f["subject"], f["body"], f["events"],
                 int((f["at"] - start).total_seconds() // 60)) for f in tx.notifications_after(0, limit=100)]


def test_feed_events_rows_move_into_the_one_live_feed_table(sql_store):
    engine, console = _database_with_feed_events(sql_store)
    command.upgrade(alembic_config(engine), "head")
    assert "feed_events" not in sa.inspect(engine).get_table_names()
    store = open_store(sql_store.url)
    assert _feed(store) == EXPECTED_FEED  # every row, in order, with its time
    with store.read() as tx:
        (kept,) = tx.events_after(0)  # the console's line: same id, same fields, no recipient
        moved = tx.events_after(0, recipient="区生态环境局值班室")
    assert (kept.id, kept.kind, kept.incident_id, kept.recipient) == (console, "incident_new", 7, None)
    assert [(e.kind, e.unit_code, e.id > console) for e in moved] == [("notification", "500105003000", True),
                                                                      ("notification", None, True)]
    # Back down: feed_events again, with the same rows, and the events table as it was.
    command.downgrade(alembic_config(engine), "0002")
    with engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT recipient, incident_id, grade, subject, body FROM feed_events "
                                    "ORDER BY id")).all()
        assert [tuple(r) for r in rows] == [e[:5] for e in EXPECTED_FEED]
        assert conn.execute(sa.text("SELECT count(*) FROM events")).scalar() == 1
    assert "recipient" not in {c["name"] for c in sa.inspect(engine).get_columns("events")}
    command.upgrade(alembic_config(engine), "head")
    assert _feed(store) == EXPECTED_FEED
    store.dispose()


def test_database_from_before_migrations_with_feed_events_keeps_its_rows(sql_store):
    engine, _ = _database_with_feed_events(sql_store)
    with engine.begin() as conn:  # made before migrations were recorded: no alembic_version
        conn.exec_driver_sql("DROP TABLE alembic_version")
    upgrade_to_head(engine)
    assert "feed_events" not in sa.inspect(engine).get_table_names()
    store = open_store(sql_store.url)
    assert _feed(store) == EXPECTED_FEED
    store.dispose()


def test_overdue_lines_written_before_the_once_key_get_it(sql_store):
    """Revision overdue_once keys the ``overdue`` lines the API used to write (the first of any
    duplicates), so the escalation job does not announce them again."""
    from storage.events import OnceLine, overdue_key

    engine = _empty_engine(sql_store)
    cfg = alembic_config(engine)
    command.upgrade(cfg, "0005")
    deadline = dt.datetime(2026, 12, 1, 1, 0, tzinfo=dt.UTC)
    line = {"step": "sign_off", "deadline": "2026-12-01T09:00:00+08:00"}
    with engine.begin() as conn:
        for payload in (line, line, {"step": "response"}):  # a duplicate from two workers; one without deadline
            conn.execute(sa.text("INSERT INTO events (at, kind, incident_id, unit_code, payload) "
                                 "VALUES (:at, 'overdue', 7, NULL, :p)"),
                         {"at": deadline.replace(tzinfo=None), "p": json.dumps(payload)})
    command.upgrade(cfg, "head")
    with engine.connect() as conn:
        keys = [r[0] for r in conn.exec_driver_sql("SELECT once_key FROM events ORDER BY id")]
    assert keys == [overdue_key(7, "sign_off", deadline), None, None]
    store = open_store(sql_store.url)
    with store.begin() as tx:
        assert not tx.add_event_once(OnceLine(overdue_key(7, "sign_off", deadline), "overdue", 7, None, {}, deadline))
        assert tx.add_event_once(OnceLine(overdue_key(7, "response", deadline), "overdue", 7, None, {}, deadline))
    store.dispose()
