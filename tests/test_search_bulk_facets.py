"""Bulk writes keep the search facets in a few statements (``storage.search.facets_kept_at_once``):
an import's batch, a detection group's analyses and its links leave ``post_facets`` and the
tallies exactly what the record says (``facet_drift`` 0) and stamped past every earlier stamp, as
the per-row triggers did; the triggers stand aside only inside the block and the flag is never
committed; an error in the block undoes its writes and the flag together; the same writes work
on PostgreSQL (nothing to keep there); revision 0021 makes the triggers and undoes them."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa
from alembic import command
from sqlalchemy import text

from core.models import Analysis, Grade, Incident, Polarity, PostRole, RawPost, State
from storage.migrations import alembic_config
from storage.search import facet_drift, facets_kept_at_once
from storage.sql import SqlStore, Tx, open_store
from tests.api_seed import UNIT_A, UNIT_B

T0 = dt.datetime(2026, 11, 20, 15, 30, tzinfo=dt.UTC)


def _posts(n: int, tag: str) -> list[RawPost]:
    return [RawPost(source=("weibo", "news")[i % 2], text=f"石马河又黑又臭（{tag}{i}）", url=f"http://b/{tag}/{i}",
                    published_at=T0 + dt.timedelta(hours=i)) for i in range(n)]


def _incident(tx: Tx, unit: str) -> int:
    return tx.insert_incident(Incident(title="石马河黑臭", unit=unit, unit_code=unit, topic="water", grade=Grade.BLUE,
                                       state=State.ASSIGNED, opened_at=T0, updated_at=T0, last_post_at=T0))


def _state(store: SqlStore) -> tuple[int, int, int]:
    """(drift, the flag, the counter) as committed."""
    with store.read() as tx:
        flag, n = tx.conn.execute(text("SELECT bulk, n FROM facet_changes")).one()
        return facet_drift(tx.conn), flag, n


def test_bulk_writes_keep_rows_tallies_and_stamps_exact(store):
    with store.begin() as tx:  # posts written per row (one at a time) and in bulk (a batch)
        single = tx.add_posts(_posts(1, "s"), T0).new_ids
        ids = tx.add_posts(_posts(30, "b"), T0).new_ids
    assert len(ids) == 30 and _state(store) == (0, 0, _state(store)[2])
    _, _, before = _state(store)
    with store.begin() as tx:  # analysed in bulk, some re-analysed into another unit: old tallies go down
        tx.save_analyses([(pid, Analysis(True, None, UNIT_A, 1.0, ["water"], Polarity.NEG, 0.2))
                          for pid in [*single, *ids]], T0)
        tx.save_analyses([(pid, Analysis(True, None, UNIT_B, 1.0, ["air"], Polarity.POS, 0.9)) for pid in ids[:10]],
                         T0)
        first, second = _incident(tx, UNIT_A), _incident(tx, UNIT_B)
        tx.attach_posts([(first if i % 3 else second, pid, T0, PostRole.REPORT) for i, pid in enumerate(ids[5:])])
    drift, flag, after = _state(store)
    assert (drift, flag) == (0, 0) and after > before
    with store.read() as tx:
        stamps = tx.conn.execute(text("SELECT min(seq), count(*) FROM post_facets WHERE post_id IN "
                                      f"({', '.join(map(str, ids))})")).one()
        units = dict(tx.conn.execute(text("SELECT value, n FROM facet_tallies WHERE facet = 'unit_code' AND n != 0"
                                          " AND unit_code = value")).all())
    assert stamps[0] > before and stamps[1] == 30  # every written row stamped past what a copy had seen
    # 1 single + ids[:5] analysed into A or B and unlinked, the rest by their incident's unit
    linked_b = sum(1 for i in range(25) if i % 3 == 0)
    assert units == {UNIT_A: 1 + 25 - linked_b, UNIT_B: 5 + linked_b}


def test_the_triggers_stand_aside_only_inside_the_block(store):
    with store.begin() as tx:
        with facets_kept_at_once(tx.conn) as touched:
            pid = tx.add_posts(_posts(1, "x"), T0).new_ids[0]  # its own block nests inside this one
            tx.conn.execute(text("INSERT INTO raw_posts (fingerprint, content_hash, source, title, text, fetched_at,"
                                 " counted_at, engagement) VALUES ('hand', 'hand', 'news', '', 't', :t, :t, '{}')"),
                            {"t": T0.replace(tzinfo=None)})
            hand = tx.conn.execute(text("SELECT id FROM raw_posts WHERE fingerprint = 'hand'")).scalar_one()
            assert tx.conn.execute(text("SELECT bulk FROM facet_changes")).scalar_one() == 1
            touched.append(pid)  # the hand-written row is not listed: no trigger wrote its facet row
        assert tx.conn.execute(text("SELECT bulk FROM facet_changes")).scalar_one() == 0
        assert tx.conn.execute(text("SELECT count(*) FROM post_facets WHERE post_id = :i"), {"i": hand}).scalar() == 0
        assert facet_drift(tx.conn) == 1
        tx.conn.execute(text("DELETE FROM raw_posts WHERE id = :i"), {"i": hand})
        # Outside the block the triggers keep a row written one at a time again.
        tx.save_analysis(pid, Analysis(True, None, UNIT_A, 1.0, ["water"], Polarity.NEG, 0.2), T0)
        tx.conn.execute(text("UPDATE analyses SET unit_code = :u WHERE post_id = :i"), {"u": UNIT_B, "i": pid})
        assert facet_drift(tx.conn) == 0


def test_an_error_in_the_block_undoes_its_writes_and_the_flag(store):
    with store.begin() as tx:
        pid = tx.add_posts(_posts(1, "e"), T0).new_ids[0]
        with pytest.raises(RuntimeError), facets_kept_at_once(tx.conn) as touched:
            tx.conn.execute(text("DELETE FROM post_facets WHERE post_id = :i"), {"i": pid})
            touched.append(pid)
            raise RuntimeError("a failed batch")
        # The caller carries on in the same transaction: the flag is down and nothing was lost.
        assert tx.conn.execute(text("SELECT bulk FROM facet_changes")).scalar_one() == 0
        tx.save_analysis(pid, Analysis(True, None, UNIT_A, 1.0, ["water"], Polarity.NEG, 0.2), T0)
    assert _state(store)[:2] == (0, 0)


def test_bulk_writes_on_both_databases(sql_store):
    with sql_store.begin() as tx:
        ids = tx.add_posts(_posts(12, "p"), T0).new_ids
        tx.save_analyses([(pid, Analysis(True, None, UNIT_A, 1.0, ["water"], Polarity.NEG, 0.2)) for pid in ids], T0)
        incident = _incident(tx, UNIT_A)
        tx.attach_posts([(incident, pid, T0, PostRole.REPORT) for pid in ids[:6]])
    with sql_store.read() as tx:
        assert tx.count_posts() == 12 and tx.posts_in_incidents(ids) == set(ids[:6])
        assert tx.get_analysis(ids[-1]) is not None
        if tx.conn.dialect.name == "sqlite":
            assert facet_drift(tx.conn) == 0


def test_revision_0021_gates_the_triggers_and_its_downgrade_keeps_rows_per_row(tmp_path):
    url = f"sqlite:///{tmp_path / 'old.db'}"
    store = open_store(url)
    with store.begin() as tx:
        ids = tx.add_posts(_posts(4, "m"), T0).new_ids
    store.dispose()
    engine = sa.create_engine(url)

    def gated() -> int:
        with engine.connect() as conn:
            return int(conn.exec_driver_sql("SELECT count(*) FROM sqlite_master WHERE type = 'trigger' AND sql LIKE "
                                            "'%bulk != 0%'").scalar_one())

    assert gated() == 13  # ten facet triggers, three tally triggers
    command.downgrade(alembic_config(engine), "0020_pipe4")
    assert gated() == 0
    with engine.begin() as conn:  # per row, as before: an analysis written by hand is kept
        conn.exec_driver_sql(f"INSERT INTO analyses (post_id, relevant, unit_code, confidence, topics, topic, polarity,"
                             f" sentiment, evidence, signals, analysed_at) VALUES ({ids[0]}, 1, '{UNIT_A}', 1.0, "
                             f"'[\"water\"]', 'water', 'neg', 0.2, '[]', '[]', '2026-11-20 15:30:00')")
        assert facet_drift(conn) == 0
    engine.dispose()
    again = open_store(url)  # upgraded back to the head
    assert gated() == 13
    with again.begin() as tx:
        tx.save_analyses([(pid, Analysis(True, None, UNIT_B, 1.0, ["air"], Polarity.NEG, 0.2)) for pid in ids], T0)
        assert facet_drift(tx.conn) == 0
    again.dispose()
