"""Migrations: the revisions build exactly the declared schema, on SQLite and PostgreSQL; older
databases are brought forward without losing rows."""

from __future__ import annotations

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
