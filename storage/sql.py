"""The SQL store's entry points: :class:`SqlStore` (the engine) and :class:`Tx` (one transaction).

One class for SQLite (the embedded default, WAL mode) and PostgreSQL, through SQLAlchemy Core.
Writes go through ``store.begin()``, which yields a :class:`Tx`; everything done in one ``with``
block commits or rolls back together, so a crash mid-batch loses or doubles nothing.

``Tx`` holds no operation of its own: each aggregate's module (posts, incidents, incident
queries, escalations, outbox, live feed, users, search, sources, duty, copies to departments)
contributes a small class of methods over ``self.conn``, and ``Tx`` composes them, so every
caller writes ``tx.method(...)``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, make_url
from sqlalchemy.exc import SQLAlchemyError

from core.errors import StoreError
from storage.brief_mails import BriefMailsTx
from storage.briefs import BriefsTx
from storage.copies import CopiesTx
from storage.cursors import EventCursorsTx
from storage.escalations import EscalationsTx
from storage.events import EventsTx
from storage.inbound import InboundTx
from storage.incident_queries import IncidentQueriesTx
from storage.incidents import IncidentsTx
from storage.labels import LabelsTx
from storage.logins import LoginsTx
from storage.outbox import OutboxTx
from storage.post_moves import PostMovesTx
from storage.posts import PostsTx
from storage.reports import ReportsTx
from storage.rota import RotaTx
from storage.search import SearchTx
from storage.sources import SourcesTx
from storage.users import UsersTx

POOL_SIZE = 16  # connections kept open per process (as many again may be opened under a peak)


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    # isolation_level=None hands transaction control to SQLAlchemy's "begin" event below, so a
    # writer can take the lock up front (BEGIN IMMEDIATE) instead of failing mid-transaction.
    dbapi_conn.isolation_level = None
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.close()


def _sqlite_begin(conn: Connection) -> None:
    # On the driver's connection: through exec_driver_sql this one statement cost a read of the
    # API as much as its query (events, compilation cache, result set up; bench/api.py).
    conn.connection.driver_connection.execute(  # type: ignore[union-attr]
        "BEGIN IMMEDIATE" if conn.get_execution_options().get("write") else "BEGIN")


class SqlStore:
    """Persistence for everything but full-text scale-out (see storage.es_posts)."""

    def __init__(self, url: str, snapshot_dir: Path | str | None = None) -> None:
        self.url = url
        self.snapshot_dir = Path(snapshot_dir) if snapshot_dir else None
        # A pool as large as the API's thread pool (dashboard_api.app.API_THREADS) and the live
        # feed's polls: with SQLAlchemy's default 5 (+10 overflow, closed on return) a loaded
        # server opened and closed connections all the time, PRAGMAs and all.
        # (An in-memory SQLite database has one connection per thread, no such pool.)
        parsed = make_url(url)
        memory = parsed.get_backend_name() == "sqlite" and parsed.database in (None, "", ":memory:")
        pool: dict[str, Any] = {} if memory else {"pool_size": POOL_SIZE, "max_overflow": POOL_SIZE}
        self.engine: Engine = create_engine(url, future=True, **pool)
        if self.engine.dialect.name == "sqlite":
            database = self.engine.url.database
            if database and database != ":memory:":
                Path(database).parent.mkdir(parents=True, exist_ok=True)
            event.listen(self.engine, "connect", _sqlite_pragmas)
            event.listen(self.engine, "begin", _sqlite_begin)

    def create_schema(self) -> None:
        """Bring the database to the newest schema through the migrations (idempotent)."""
        from storage.migrations import upgrade_to_head

        upgrade_to_head(self.engine)

    @contextmanager
    def begin(self) -> Iterator[Tx]:
        """A write transaction: commits at the end of the block, rolls back on error."""
        try:
            with self.engine.connect().execution_options(write=True) as conn, conn.begin():
                yield Tx(conn, self.snapshot_dir)
        except SQLAlchemyError as exc:
            raise StoreError(str(exc.__cause__ or exc)) from exc

    @contextmanager
    def read(self) -> Iterator[Tx]:
        """A read-only view (a transaction that is never committed)."""
        with self.engine.connect() as conn:
            yield Tx(conn, self.snapshot_dir)

    def dispose(self) -> None:
        """Close pooled connections."""
        self.engine.dispose()


def open_store(url: str, snapshot_dir: Path | str | None = None) -> SqlStore:
    """Open (and create if needed) the store at ``url``."""
    store = SqlStore(url, snapshot_dir)
    store.create_schema()
    return store


class Tx(PostsTx, IncidentsTx, IncidentQueriesTx, EscalationsTx, OutboxTx, EventsTx, UsersTx, SearchTx,
         SourcesTx, LabelsTx, PostMovesTx, RotaTx, ReportsTx, InboundTx, BriefsTx, EventCursorsTx,
         CopiesTx, LoginsTx, BriefMailsTx):
    """Operations inside one transaction (or one read view): every aggregate's methods over one
    connection, so work on several aggregates commits or rolls back together."""

    def __init__(self, conn: Connection, snapshot_dir: Path | None) -> None:
        self.conn = conn
        self.snapshot_dir = snapshot_dir
