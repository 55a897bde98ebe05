"""The console's read side of the incidents aggregate: filtered lists and counts, an incident's
posts (the one reader of them), and when each incident first reached a state (for on-time rates).
Kept apart from :mod:`storage.incidents` so the write path stays small."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Hashable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from types import SimpleNamespace
from typing import Any, Protocol, TypeVar

from sqlalchemy import JSON, ColumnElement, Connection, Dialect, Engine, Integer, Select, Text, bindparam, func, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

from core.errors import StoreError
from core.models import Analysis, AuditEntry, Evidence, Grade, Incident, Polarity, PostRole, RawPost, State
from storage.copies import Copy, incident_copies, shared_with
from storage.rows import User, row_to_incident, stored_times
from storage.schema import UtcDateTime, analyses, audit_log, incident_posts, incidents, raw_posts, users


class _RowJson(FunctionElement[str]):
    """Columns as one JSON array, as text: ``json_array`` on SQLite, ``json_build_array`` on
    PostgreSQL (cast to text, or psycopg would decode it). Times come as the database writes them
    into JSON (SQLite: its stored text; PostgreSQL: ISO 8601 with an offset), both read by
    :func:`_time`."""

    type = Text()
    name = "row_json"
    inherit_cache = True


class _JsonValue(FunctionElement[Any]):
    """A JSON column inside :class:`_RowJson` as the JSON value it holds, not as a string of it."""

    type = Text()
    name = "json_value"
    inherit_cache = True


@compiles(_RowJson)
def _row_json_sqlite(element: _RowJson, compiler: Any, **kw: Any) -> str:
    return f"json_array({compiler.process(element.clauses, **kw)})"


@compiles(_RowJson, "postgresql")
def _row_json_postgresql(element: _RowJson, compiler: Any, **kw: Any) -> str:
    return f"CAST(json_build_array({compiler.process(element.clauses, **kw)}) AS TEXT)"


@compiles(_JsonValue)
def _json_value_sqlite(element: _JsonValue, compiler: Any, **kw: Any) -> str:
    return f"json({compiler.process(element.clauses, **kw)})"


@compiles(_JsonValue, "postgresql")
def _json_value_postgresql(element: _JsonValue, compiler: Any, **kw: Any) -> str:
    return str(compiler.process(element.clauses, **kw))


# What a listed incident shows (dashboard_api.schemas.IncidentPublic) and what its overdue steps are
# computed from: not the grouping keywords, the reach or the override, whose JSON is most of what
# decoding a full row costs. Each row comes as one text, a JSON array of these columns (_RowJson):
# per value, the driver making a Python object cost more than SQLite's own work, and one text is
# both what a page is decoded from (one json.loads, _decoded) and the row's key in _MEMO.
_LISTED = (_RowJson(
    incidents.c.id, incidents.c.title, incidents.c.unit, incidents.c.unit_code, incidents.c.department,
    incidents.c.topic, incidents.c.place, incidents.c.grade, _JsonValue(incidents.c.grade_reasons),
    incidents.c.state, incidents.c.opened_at, incidents.c.updated_at, _JsonValue(incidents.c.deadlines),
    incidents.c.post_count, _JsonValue(incidents.c.milestones), incidents.c.merged_into,
    incidents.c.public_reply_at).label("listed"),)
_LISTED_BY_ID = select(*_LISTED).where(incidents.c.id == bindparam("b_id"))
# A whole incident row as one JSON text (IncidentSnapshot.find_incidents), and its time columns.
_FULL = _RowJson(*(_JsonValue(c) if isinstance(c.type, JSON) else c for c in incidents.c)).label("full")
_FULL_TIMES = [c.name for c in incidents.c if isinstance(c.type, UtcDateTime)]
_GRADES = {g.value: g for g in Grade}
_STATES = {s.value: s for s in State}
_ROLES = {r.value: r for r in PostRole}
_POLARITIES = {p.value: p for p in Polarity}

# An incident's posts with their roles and analyses (the incident page, corrections, labelling, the
# demo): every column RawPost and Analysis are read from but the post's snapshot (``raw``, its HTML,
# which nothing reading an incident's posts uses), as one JSON text per row (:class:`_RowJson`, as
# _LISTED) and the two floats beside it (SQLite writes a REAL into JSON with 15 digits, not
# exactly).
_POSTS = (select(_RowJson(
    raw_posts.c.id, raw_posts.c.source, raw_posts.c.url, raw_posts.c.title, raw_posts.c.text, raw_posts.c.author,
    raw_posts.c.published_at, raw_posts.c.fetched_at, _JsonValue(raw_posts.c.engagement), incident_posts.c.role,
    analyses.c.post_id, analyses.c.relevant, analyses.c.unit, analyses.c.unit_code, _JsonValue(analyses.c.topics),
    analyses.c.polarity, _JsonValue(analyses.c.evidence), _JsonValue(analyses.c.signals), analyses.c.place,
    raw_posts.c.reply_to).label("post"), analyses.c.confidence, analyses.c.sentiment)
          .join_from(raw_posts, incident_posts, incident_posts.c.post_id == raw_posts.c.id)
          .outerjoin(analyses, analyses.c.post_id == raw_posts.c.id)
          .where(incident_posts.c.incident_id == bindparam("b_id")).order_by(raw_posts.c.id))
PostRow = tuple[RawPost, Analysis | None, PostRole]
# The incident page's other reads (IncidentSnapshot), one JSON text per row as well: the user its
# token names, the incident's audit log and its copies to departments, oldest first.
_USER = select(_RowJson(users.c.name, users.c.role, users.c.unit_code, users.c.password_hash, users.c.active,
                        users.c.created_at, users.c.id, users.c.token_version, users.c.department_code)
               ).where(users.c.name == bindparam("b_name"))
_AUDIT = (select(_RowJson(audit_log.c.incident_id, audit_log.c.at, audit_log.c.actor, audit_log.c.action,
                          audit_log.c.from_state, audit_log.c.to_state, _JsonValue(audit_log.c.detail), audit_log.c.id))
          .where(audit_log.c.incident_id == bindparam("b_id")).order_by(audit_log.c.id))
_COPIES = (select(_RowJson(*incident_copies.c)).where(incident_copies.c.incident_id == bindparam("b_id"))
           .order_by(incident_copies.c.id))


def _time(value: str) -> dt.datetime:
    """A time as a row's JSON text has it (:class:`_RowJson`), as aware UTC (as
    storage.schema.UtcDateTime gives it). SQLite keeps naive UTC text: parsed with the zone
    appended, since ``datetime.replace`` costs several times the parse; PostgreSQL writes ISO 8601
    with the session's offset."""
    try:
        return _from_iso(value + "+00:00")
    except ValueError:  # text that carries its own offset
        return _from_iso(value).astimezone(dt.UTC)


_from_iso = dt.datetime.fromisoformat


@dataclass(slots=True)
class IncidentFilters:
    """Restrictions on an incident list; None or empty = any."""

    unit_code: str | None = None
    states: Sequence[str] = ()
    grades: Sequence[str] = ()
    topics: Sequence[str] = ()
    since: dt.datetime | None = None  # opened at or after
    until: dt.datetime | None = None  # opened before
    copied_to: str | None = None  # only those copied to this department and not withdrawn (会办)


class IncidentReads(Protocol):
    """What an incident list is read through (``alerts.incident_list``): a transaction
    (:class:`IncidentQueriesTx`) or the API's lean view (:class:`IncidentSnapshot`)."""

    def count_incidents(self, f: IncidentFilters) -> int: ...

    def listed_incidents(self, f: IncidentFilters, limit: int | None = 100, offset: int = 0) -> list[Incident]: ...

    def find_incidents(self, f: IncidentFilters, limit: int | None = 100, offset: int = 0) -> list[Incident]: ...


# Each filter's condition, on a bound parameter named after it: a statement is built once per
# combination of the filters present (_statement) and reused, since building and keying a new
# statement per request cost the list about as much as running it.
_CONDITIONS: dict[str, ColumnElement[bool]] = {
    "unit_code": incidents.c.unit_code == bindparam("unit_code"),
    "states": incidents.c.state.in_(bindparam("states", expanding=True)),
    "grades": incidents.c.grade.in_(bindparam("grades", expanding=True)),
    "topics": incidents.c.topic.in_(bindparam("topics", expanding=True)),
    "since": incidents.c.opened_at >= bindparam("since"),
    "until": incidents.c.opened_at < bindparam("until"),
    "copied_to": incidents.c.id.in_(shared_with(bindparam("copied_to"))),
}
_NEWEST_FIRST = (incidents.c.opened_at.desc(), incidents.c.id.desc())


def _bound(f: IncidentFilters) -> tuple[frozenset[str], dict[str, Any]]:
    """The filters ``f`` sets (by name in :data:`_CONDITIONS`) and their parameter values."""
    values = {"unit_code": f.unit_code, "states": list(f.states) or None, "grades": list(f.grades) or None,
              "topics": list(f.topics) or None, "since": f.since, "until": f.until, "copied_to": f.copied_to}
    params = {k: v for k, v in values.items() if v is not None}
    return frozenset(params), params


@cache
def _statement(kind: str, present: frozenset[str], paged: bool = False) -> Select[Any]:
    """The query of ``kind`` (full rows, listed columns, a count, the ids) under the filters
    ``present``, newest first for rows; ``paged`` takes ``limit`` and ``offset`` parameters."""
    query = {"full": select(incidents), "listed": select(*_LISTED), "ids": select(incidents.c.id),
             "full_json": select(_FULL), "count": select(func.count()).select_from(incidents)}[kind]
    for name, condition in _CONDITIONS.items():
        if name in present:
            query = query.where(condition)
    if kind in ("full", "listed", "full_json"):
        query = query.order_by(*_NEWEST_FIRST)
    if paged:
        query = query.limit(bindparam("limit", type_=Integer)).offset(bindparam("offset", type_=Integer))
    return query


def _query(kind: str, f: IncidentFilters, limit: int | None, offset: int) -> tuple[Select[Any], dict[str, Any]]:
    """The statement of ``kind`` matching ``f``, newest first, the page ``offset … offset+limit``
    (all when ``limit`` is None), and its parameters."""
    present, params = _bound(f)
    if limit is not None:
        params.update(limit=limit, offset=offset)
    return _statement(kind, present, limit is not None), params


# Listed incidents decoded, by the stored row they came from (its :data:`_LISTED` text): the
# console asks for the same newest pages again and again, and decoding a page cost the list more
# than reading it. Keyed by the whole row, an incident changed in any listed column is another key,
# so nothing stale is ever given; at most _MEMO_LIMIT rows, emptied when full. The Incidents are
# shared by every request that reads the same row: read-only to the callers of
# ``listed_incidents`` / ``listed_incident`` (the API's list and page only read them).
_MEMO_LIMIT = 8192
_MEMO: dict[str, Incident] = {}
K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


def _remembered(memo: dict[K, V], keys: list[K], decode: Callable[[list[K]], list[V]]) -> list[V]:
    """What ``keys`` stand for: those in ``memo`` from it, the others decoded in one call and kept
    (``memo`` emptied first when they would take it past _MEMO_LIMIT; a read of more than that, an
    export-sized list, is not kept at all)."""
    found = [memo.get(k) for k in keys]
    missing = [k for k, v in zip(keys, found, strict=True) if v is None]
    if not missing:
        return found  # type: ignore[return-value]
    decoded = dict(zip(missing, decode(missing), strict=True))
    if len(decoded) <= _MEMO_LIMIT:
        if len(memo) + len(decoded) > _MEMO_LIMIT:
            memo.clear()
        memo.update(decoded)
    return [v if v is not None else decoded[k] for k, v in zip(keys, found, strict=True)]


def _listed(rows: Sequence[Any]) -> list[Incident]:
    """Incidents from rows of :data:`_LISTED` (see :meth:`IncidentQueriesTx.listed_incidents`):
    those read before from :data:`_MEMO`, the others decoded a page at a time."""
    return _remembered(_MEMO, [r[0] for r in rows], _decoded)


def _decoded(texts: Sequence[str]) -> list[Incident]:
    """Incidents decoded from :data:`_LISTED` texts, all in one ``json.loads``."""
    return [Incident(id=id_, title=title, unit=unit, unit_code=unit_code, department=department, topic=topic,
                     place=place, grade=_GRADES[grade], grade_reasons=list(reasons or []),
                     state=_STATES[state], opened_at=_time(opened_at), updated_at=_time(updated_at),
                     deadlines=stored_times(deadlines), post_count=post_count,
                     milestones=stored_times(milestones), merged_into=merged_into,
                     public_reply_at=None if public_reply_at is None else _time(public_reply_at))
            for (id_, title, unit, unit_code, department, topic, place, grade, reasons, state, opened_at,
                 updated_at, deadlines, post_count, milestones, merged_into, public_reply_at)
            in json.loads("[" + ",".join(texts) + "]")]


# Posts decoded for the incident page, by their :data:`_POSTS` row (as _MEMO for incidents).
_POST_MEMO: dict[tuple[Any, ...], PostRow] = {}


def _posts(rows: Sequence[tuple[Any, ...]]) -> list[PostRow]:
    """Posts with their analyses and roles from :data:`_POSTS` rows, the texts in one ``json.loads``."""
    out: list[PostRow] = []
    texts = _texts(rows)
    for (id_, source, url, title, text, author, published_at, fetched_at, engagement, role, analysed, relevant,
         unit, unit_code, topics, polarity, evidence, signals, place, reply_to), (_, confidence, sentiment) \
            in zip(texts, rows, strict=True):
        post = RawPost(source=source, text=text, title=title, url=url, author=author,
                       published_at=None if published_at is None else _time(published_at),
                       fetched_at=None if fetched_at is None else _time(fetched_at),
                       engagement=dict(engagement or {}), id=id_, reply_to=reply_to)
        analysis = None if analysed is None else Analysis(
            relevant=bool(relevant), unit=unit, unit_code=unit_code, confidence=confidence, topics=list(topics),
            polarity=_POLARITIES[polarity], sentiment=sentiment, evidence=[Evidence(**e) for e in evidence],
            signals=list(signals), place=place)
        out.append((post, analysis, _ROLES[role]))
    return out


class _IncidentReads:
    """The console's incident reads over :meth:`_fetch`: the same statements and decoding whether
    run through SQLAlchemy (:class:`IncidentQueriesTx`) or straight on the driver
    (:class:`IncidentSnapshot`)."""

    def _fetch(self, statement: Select[Any], params: Mapping[str, Any]) -> Sequence[tuple[Any, ...]]:
        raise NotImplementedError

    def listed_incidents(self, f: IncidentFilters, limit: int | None = 100, offset: int = 0) -> list[Incident]:
        """Like :meth:`IncidentQueriesTx.find_incidents`, with only what a list shows and what its
        overdue steps are computed from (:data:`_LISTED`); the rest of each Incident is left empty
        (no reach, keywords, override, returns, parent or last post). For the API's list, read far
        more often than anything else: reading the full rows cost it more than all the rest. An
        incident read before in the same listed columns is the same object (:data:`_MEMO`): read
        it, never change it."""
        return _listed(self._fetch(*_query("listed", f, limit, offset)))

    def count_incidents(self, f: IncidentFilters) -> int:
        """How many incidents match ``f``."""
        present, params = _bound(f)
        return int(self._fetch(_statement("count", present), params)[0][0])

    def listed_incident(self, incident_id: int) -> Incident | None:
        """One incident as :meth:`listed_incidents` reads it (what the incident page shows of it),
        or None."""
        found = _listed(self._fetch(_LISTED_BY_ID, {"b_id": incident_id}))
        return found[0] if found else None

    def incident_post_rows(self, incident_id: int, *, remembered: bool = False) -> list[PostRow]:
        """The posts of an incident with their analyses and roles, oldest first, in one query: the
        one reader of them (corrections, labelling, the demo; the incident page on every request).
        Each post is whole but for its snapshot (``raw``: None), decoded from its row's JSON text
        (:data:`_POSTS`), a page in one ``json.loads``. ``remembered`` (the page's cheap path): a
        post read before in the same row is the same objects, from :data:`_POST_MEMO`; read them,
        never change them."""
        rows = [tuple(r) for r in self._fetch(_POSTS, {"b_id": incident_id})]
        if not remembered:
            return _posts(rows)
        return _remembered(_POST_MEMO, rows, _posts)


class IncidentQueriesTx(_IncidentReads):
    """The console's incident queries on :class:`storage.sql.Tx`; ``self.conn`` is the transaction's connection."""

    conn: Connection

    def _fetch(self, statement: Select[Any], params: Mapping[str, Any]) -> Sequence[tuple[Any, ...]]:
        return self.conn.execute(statement, params).all()

    def find_incidents(self, f: IncidentFilters, limit: int | None = 100, offset: int = 0) -> list[Incident]:
        """Incidents matching ``f``, newest first (all of them when ``limit`` is None)."""
        return [row_to_incident(r) for r in self.conn.execute(*_query("full", f, limit, offset))]

    def first_reached(self, states: Sequence[str], f: IncidentFilters) -> dict[int, dt.datetime]:
        """Per incident matching ``f``, when it first entered one of ``states`` (from the audit log)."""
        present, params = _bound(f)
        query = (select(audit_log.c.incident_id, func.min(audit_log.c.at).label("at"))
                 .where(audit_log.c.to_state.in_(list(states)),
                        audit_log.c.incident_id.in_(_statement("ids", present).scalar_subquery()))
                 .group_by(audit_log.c.incident_id))
        out: dict[int, dt.datetime] = {}
        for row in self.conn.execute(query, params):
            at = row.at
            if isinstance(at, str):
                at = dt.datetime.fromisoformat(at)
            out[row.incident_id] = at.replace(tzinfo=dt.UTC) if at.tzinfo is None else at
        return out


# Each statement as the driver runs it, per dialect and per length of each list parameter (a
# filter's ``IN``): its SQL, the names of its parameters in their order for a driver taking
# positional ones (SQLite's ``?``; a list's items named ``<name>_1``, ``<name>_2`` …), and the
# parameters' bind processors (a time as the store writes it, UtcDateTime).
_DRIVER_SQL: dict[tuple[int, str, tuple[int, ...]],
                  tuple[str, tuple[str, ...] | None, dict[str, Callable[[Any], Any]]]] = {}


def _driver_sql(statement: Select[Any], dialect: Dialect,
                params: Mapping[str, Any]) -> tuple[str, Mapping[str, Any] | tuple[Any, ...]]:
    """``statement`` and ``params`` as the driver of ``dialect`` takes them."""
    lists = tuple(len(v) for v in params.values() if isinstance(v, list))
    key = (id(statement), dialect.name, lists)  # the statements are module constants, never freed
    found = _DRIVER_SQL.get(key)
    if found is None:
        compiled = statement.compile(dialect=dialect)
        expanded = compiled.construct_expanded_state(dict(params))
        processors: dict[str, Callable[[Any], Any]] = {
            name: process for name, bind in compiled.binds.items()
            if (process := bind.type.dialect_impl(dialect).bind_processor(dialect)) is not None}
        found = (expanded.statement, None if expanded.positiontup is None else tuple(expanded.positiontup),
                 processors)
        _DRIVER_SQL[key] = found
    sql, names, processors = found
    if processors:
        params = {k: (([processors[k](i) for i in v] if isinstance(v, list) else processors[k](v))
                      if k in processors else v) for k, v in params.items()}
    if lists:
        params = {**{k: v for k, v in params.items() if not isinstance(v, list)},
                  **{f"{k}_{i}": item for k, v in params.items() if isinstance(v, list)
                     for i, item in enumerate(v, 1)}}
    return sql, params if names is None else tuple(params[n] for n in names)


class IncidentSnapshot(_IncidentReads):
    """The incident list's and page's read view (:func:`incident_snapshot`): its statements run on
    the driver's cursor, compiled by SQLAlchemy once per dialect. Through a SQLAlchemy read view the
    page's six statements cost more than everything else it does (bench/api.py: ~120 µs for the
    view, its BEGIN and rollback, and ~35 µs per statement, against ~20 µs and ~3 µs on the
    driver). Every statement selects JSON texts and floats (see :class:`_RowJson`), which both
    drivers give as they are, so no result processing is skipped."""

    def __init__(self, cursor: Any, dialect: Dialect) -> None:
        self._cursor = cursor
        self._dialect = dialect

    def _fetch(self, statement: Select[Any], params: Mapping[str, Any]) -> Sequence[tuple[Any, ...]]:
        self._cursor.execute(*_driver_sql(statement, self._dialect, params))
        return self._cursor.fetchall()  # type: ignore[no-any-return]

    def find_incidents(self, f: IncidentFilters, limit: int | None = 100, offset: int = 0) -> list[Incident]:
        """Incidents matching ``f``, newest first, whole (as :meth:`IncidentQueriesTx.find_incidents`
        reads them: each row's values by column name, its times parsed, to ``row_to_incident``)."""
        out = []
        for values in _texts(self._fetch(*_query("full_json", f, limit, offset))):
            row = dict(zip(incidents.c.keys(), values, strict=True))
            row.update({k: _time(row[k]) for k in _FULL_TIMES if row[k] is not None})
            out.append(row_to_incident(SimpleNamespace(**row)))
        return out

    def user(self, name: str) -> User | None:
        """The stored user of this name (to confirm a token by), or None."""
        for row in self._fetch(_USER, {"b_name": name}):
            name, role, unit_code, password_hash, active, created_at, id_, version, department = json.loads(row[0])
            return User(name=name, role=role, unit_code=unit_code, password_hash=password_hash, active=bool(active),
                        created_at=_time(created_at), id=id_, token_version=version, department_code=department)
        return None

    def audit_for(self, incident_id: int) -> list[AuditEntry]:
        """The incident's audit log, oldest first."""
        return [AuditEntry(incident_id=incident, at=_time(at), actor=actor, action=action, from_state=from_state,
                           to_state=to_state, detail=dict(detail), id=id_)
                for incident, at, actor, action, from_state, to_state, detail, id_
                in _texts(self._fetch(_AUDIT, {"b_id": incident_id}))]

    def copies_of(self, incident_id: int) -> list[Copy]:
        """Every copy of the incident to a department, withdrawn ones too, oldest first."""
        return [Copy(id_, incident, department, _time(copied_at), copied_by, note, int(replies or 0),
                     _maybe_time(replied_at), _maybe_time(withdrawn_at), withdrawn_by)
                for id_, incident, department, copied_at, copied_by, note, replies, replied_at, withdrawn_at,
                withdrawn_by in _texts(self._fetch(_COPIES, {"b_id": incident_id}))]


def _texts(rows: Sequence[tuple[Any, ...]]) -> list[list[Any]]:
    """The JSON texts of rows (their first column) decoded, in one ``json.loads``."""
    return json.loads("[" + ",".join(r[0] for r in rows) + "]")  # type: ignore[no-any-return]


def _maybe_time(value: str | None) -> dt.datetime | None:
    return None if value is None else _time(value)


@contextmanager
def incident_snapshot(engine: Engine) -> Iterator[IncidentSnapshot]:
    """A read-only view for the incident list and page (:class:`IncidentSnapshot`): one transaction on a
    pooled connection, never committed (the pool rolls it back when the connection returns).
    A driver error is a :class:`StoreError` and the connection is not reused."""
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        if engine.dialect.name == "sqlite":  # the store's connections leave transactions to us
            cursor.execute("BEGIN")
        yield IncidentSnapshot(cursor, engine.dialect)
    except engine.dialect.loaded_dbapi.Error as exc:
        raw.invalidate()
        raise StoreError(str(exc)) from exc
    finally:
        raw.close()
