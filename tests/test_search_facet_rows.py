"""Search's per-post facet rows (``post_facets``, SQLite) stay equal to the record they are derived
from through every write that changes a post's unit, topic, polarity, source or time: a post
stored, analysed, re-analysed with another unit and topic, attached to an incident, its incident
reassigned (改派), split off (拆分), merged (并单), dismissed as 误报, detached, deleted. After each
step ``facet_drift`` is 0 and a unit's search and its facet counts say what the record says.
Also: the drift check finds a hand edit and the rebuild repairs it (the command too), and
migration 0012 fills the rows of a database that had posts before it."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys

import sqlalchemy as sa
from alembic import command
from sqlalchemy import text

from alerts import actions, corrections
from alerts.config import alerts_config
from core.jurisdiction import load_jurisdiction
from core.models import Analysis, Polarity, RawPost
from indexing.search_index import SearchIndexer
from storage.migrations import alembic_config
from storage.search import SearchFilters, facet_drift, rebuild_post_facets
from storage.sql import SqlStore, open_store
from tests.api_seed import UNIT_A, UNIT_B, add_incident, seed_users

T0 = dt.datetime(2026, 11, 20, 15, 30, tzinfo=dt.UTC)  # 23:30 in Shanghai


def drift(store: SqlStore) -> int:
    with store.read() as tx:
        return facet_drift(tx.conn)


def unit_search(store: SqlStore, indexer: SearchIndexer, unit: str | None, query: str = "石马河") -> tuple[int, dict]:
    indexer.catch_up(store)
    with store.read() as tx:
        found = tx.search_posts(indexer.query_terms(indexer.query_tokens(query)), SearchFilters(unit_code=unit))
    return found.total, found.facets


def record_units(store: SqlStore) -> dict[int, str | None]:
    """Each post's current unit as the record says it (the incident's, else the analysis')."""
    with store.read() as tx:
        rows = tx.conn.execute(text(
            "SELECT r.id, CASE WHEN ip.incident_id IS NULL THEN a.unit_code ELSE i.unit_code END FROM raw_posts r "
            "LEFT JOIN analyses a ON a.post_id = r.id LEFT JOIN incident_posts ip ON ip.post_id = r.id "
            "LEFT JOIN incidents i ON i.id = ip.incident_id"))
        return {r[0]: r[1] for r in rows}


def facet_units(store: SqlStore) -> dict[int, str | None]:
    with store.read() as tx:
        return {r[0]: r[1] for r in tx.conn.execute(text("SELECT post_id, unit_code FROM post_facets"))}


def test_rows_follow_every_write_that_moves_a_post(store):
    seed_users(store)
    indexer = SearchIndexer(load_jurisdiction("jiangbei"))
    config = alerts_config(indexer.jurisdiction)
    with store.begin() as tx:  # stored, not analysed: no unit, topic or polarity yet
        ids = tx.add_posts([RawPost(source="weibo", text=f"石马河又黑又臭（{i}）", url=f"http://r/{i}",
                                    published_at=T0 + dt.timedelta(minutes=i)) for i in range(3)], T0).new_ids
    assert ids and drift(store) == 0
    with store.read() as tx:
        row = tx.conn.execute(text("SELECT unit_code, topic, source, day FROM post_facets WHERE post_id = :i"),
                              {"i": ids[0]}).one()
    assert tuple(row) == (None, None, "weibo", "2026-11-20")
    assert unit_search(store, indexer, None)[1]["unit_code"] == {"": 3}

    with store.begin() as tx:  # analysed, then re-analysed into another unit and topic
        for pid in ids:
            tx.save_analysis(pid, Analysis(True, None, UNIT_A, 1.0, ["water"], Polarity.NEG, 0.2), T0)
        tx.save_analysis(ids[2], Analysis(True, None, UNIT_B, 1.0, ["air"], Polarity.POS, 0.9), T0)
    assert drift(store) == 0
    total, facets = unit_search(store, indexer, None)
    assert total == 3 and facets["unit_code"] == {UNIT_A: 2, UNIT_B: 1} and facets["topic"] == {"water": 2, "air": 1}
    assert facets["polarity"] == {"neg": 2, "pos": 1} and unit_search(store, indexer, UNIT_B)[0] == 1

    with store.begin() as tx:  # a published time changes (a re-crawl corrected it): the day follows
        tx.conn.execute(text("UPDATE raw_posts SET published_at = '2026-11-21 01:00:00.000000' WHERE id = :i"),
                        {"i": ids[1]})
    assert drift(store) == 0 and unit_search(store, indexer, None)[1]["day"] == {"2026-11-20": 2, "2026-11-21": 1}

    # Incidents: a post attached follows the incident's unit, through 改派, 拆分 and 并单.
    first = add_incident(store, title="石马河黑臭", text="石马河黑臭（甲）", unit_code=UNIT_A, unit="石马河街道")
    second = add_incident(store, title="石马河排污", text="石马河排污（乙）", unit_code=UNIT_A, unit="石马河街道")
    with store.begin() as tx:
        tx.attach_post(first, ids[0], T0)
        tx.attach_post(first, ids[2], T0)  # analysed as UNIT_B, now searched under the incident's UNIT_A
    assert drift(store) == 0 and facet_units(store) == record_units(store)
    assert unit_search(store, indexer, UNIT_B)[0] == 0
    actions.assign(store, config, first, UNIT_B, "duty1", reason="属地有误")  # 改派 moves all three posts
    assert drift(store) == 0 and unit_search(store, indexer, UNIT_B)[0] == 3
    new = corrections.split(store, config, first, [ids[2]], "duty1", reason="另一件事")  # to triage: no unit
    assert drift(store) == 0 and facet_units(store)[ids[2]] is None and unit_search(store, indexer, UNIT_B)[0] == 2
    assert new.id is not None
    actions.merge(store, config, new.id, second, "duty1", reason="同一件事")  # into second: UNIT_A
    assert drift(store) == 0 and facet_units(store)[ids[2]] == UNIT_A
    corrections.dismiss(store, config, second, "duty1", "environment", "不是环境问题", post_ids=[ids[2]])
    assert drift(store) == 0 and facet_units(store)[ids[2]] == UNIT_B  # left the incident: its analysis' unit
    with store.begin() as tx:
        tx.detach_posts(first, [ids[0]])
    assert drift(store) == 0 and facet_units(store) == record_units(store)

    with store.begin() as tx:  # a deleted analysis, an incident deleted with its memberships, a post deleted
        tx.conn.execute(text("DELETE FROM analyses WHERE post_id = :i"), {"i": ids[1]})
        tx.conn.execute(text("DELETE FROM incidents WHERE id = :i"), {"i": second})
        tx.conn.execute(text("DELETE FROM raw_posts WHERE id = :i"), {"i": ids[0]})
    assert drift(store) == 0 and facet_units(store) == record_units(store)
    assert ids[0] not in facet_units(store)


def test_drift_is_found_and_rebuilt(store, settings):
    with store.begin() as tx:
        pid = tx.add_posts([RawPost(source="news", text="石马河污水", url="http://d/1")], T0).new_ids[0]
        tx.save_analysis(pid, Analysis(True, None, UNIT_A, 1.0, ["water"], Polarity.NEG, 0.2), T0)
        tx.conn.execute(text("UPDATE post_facets SET unit_code = :u WHERE post_id = :i"), {"u": UNIT_B, "i": pid})
        tx.conn.execute(text("INSERT INTO post_facets (post_id, source) VALUES (999, 'ghost')"))
    assert drift(store) == 2  # one changed, one extra
    env = dict(os.environ, ECOWATCH_DATA_DIR=str(settings.data_dir))
    cli = [sys.executable, "-m", "ecowatch.cli", "search-facets"]
    proc = subprocess.run(cli, env=env, capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 1 and json.loads(proc.stdout) == {"differing": 2}
    proc = subprocess.run([*cli, "--rebuild"], env=env, capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0 and json.loads(proc.stdout) == {"differing": 2, "rebuilt": 1, "differing_after": 0}
    with store.begin() as tx:
        assert rebuild_post_facets(tx.conn) == 1 and facet_drift(tx.conn) == 0


def test_migration_0012_fills_the_rows_of_an_older_database(tmp_path):
    url = f"sqlite:///{tmp_path / 'old.db'}"
    store = open_store(url)
    with store.begin() as tx:
        ids = tx.add_posts([RawPost(source="weibo", text=f"石马河（{i}）", url=f"http://m/{i}") for i in range(5)],
                           T0).new_ids
        tx.save_analysis(ids[0], Analysis(True, None, UNIT_A, 1.0, ["water"], Polarity.NEG, 0.2), T0)
    store.dispose()
    engine = sa.create_engine(url)
    command.downgrade(alembic_config(engine), "0011")  # as the database was before this revision
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM sqlite_master WHERE name LIKE 'post_facets%'").scalar() == 0
    engine.dispose()
    again = open_store(url)
    with again.read() as tx:
        assert facet_drift(tx.conn) == 0
        assert tx.conn.execute(text("SELECT count(*), count(unit_code) FROM post_facets")).one() == (5, 1)
    with again.begin() as tx:  # and the triggers are back
        tx.save_analysis(ids[1], Analysis(True, None, UNIT_B, 1.0, ["air"], Polarity.NEG, 0.2), T0)
        assert facet_drift(tx.conn) == 0
    again.dispose()


def test_a_wrong_tally_is_found_and_rebuilt(store):
    with store.begin() as tx:
        pid = tx.add_posts([RawPost(source="news", text="石马河污水", url="http://t/1")], T0).new_ids[0]
        tx.save_analysis(pid, Analysis(True, None, UNIT_A, 1.0, ["water"], Polarity.NEG, 0.2), T0)
        assert facet_drift(tx.conn) == 0
        tx.conn.execute(text("UPDATE facet_tallies SET n = 2 WHERE unit_code = :u AND facet = 'topic'"), {"u": UNIT_A})
        assert facet_drift(tx.conn) == 1
        rebuild_post_facets(tx.conn)
        assert facet_drift(tx.conn) == 0
        assert tx.conn.execute(text("SELECT n FROM facet_tallies WHERE unit_code = :u AND facet = 'topic'"),
                               {"u": UNIT_A}).scalar_one() == 1


def test_migration_0017_fills_the_tallies_and_drops_deleted_posts_from_the_index(tmp_path):
    url = f"sqlite:///{tmp_path / 'old.db'}"
    store = open_store(url)
    indexer = SearchIndexer(load_jurisdiction("jiangbei"))
    with store.begin() as tx:
        ids = tx.add_posts([RawPost(source="weibo", text=f"石马河（{i}）", url=f"http://m/{i}") for i in range(5)],
                           T0).new_ids
        tx.save_analysis(ids[0], Analysis(True, None, UNIT_A, 1.0, ["water"], Polarity.NEG, 0.2), T0)
    assert indexer.catch_up(store) == 5
    store.dispose()
    engine = sa.create_engine(url)
    command.downgrade(alembic_config(engine), "0016_mailbrief")  # as the database was before this revision
    with engine.begin() as conn:  # a post deleted then: its index row stayed
        assert conn.exec_driver_sql("SELECT count(*) FROM sqlite_master WHERE name = 'facet_tallies'").scalar() == 0
        conn.exec_driver_sql(f"DELETE FROM raw_posts WHERE id = {ids[4]}")
        assert conn.exec_driver_sql("SELECT count(*) FROM post_fts").scalar() == 5
    engine.dispose()
    again = open_store(url)
    with again.read() as tx:
        assert facet_drift(tx.conn) == 0
        assert tx.conn.execute(text("SELECT count(*) FROM post_fts")).scalar_one() == 4
        assert tx.conn.execute(text("SELECT value, n FROM facet_tallies WHERE facet = 'unit_code'")).all() == [
            ("", 3), (UNIT_A, 1)]
    assert unit_search(again, indexer, None) == (4, {"unit_code": {"": 3, UNIT_A: 1}, "topic": {"": 3, "water": 1},
                                                     "source": {"weibo": 4}, "polarity": {"": 3, "neg": 1},
                                                     "day": {"2026-11-20": 4}})
    again.dispose()


def test_an_incident_written_with_its_unit_unchanged_leaves_its_posts_rows_alone(store):
    """The unit trigger fires only when the unit changes: each action or grade raise writes the
    incident row, and rewriting every member post's facet row (and re-keying its tallies) each
    time cost a large incident's writers for nothing. A hand-edited row shows whether it ran."""
    seed_users(store)
    iid = add_incident(store, title="石马河", text="石马河又黑又臭", unit_code=UNIT_A, unit="A")
    with store.begin() as tx:
        tx.conn.execute(text("UPDATE post_facets SET unit_code = :b WHERE post_id IN "
                             "(SELECT post_id FROM incident_posts WHERE incident_id = :i)"), {"b": UNIT_B, "i": iid})
        tx.conn.execute(text("UPDATE incidents SET unit_code = unit_code WHERE id = :i"), {"i": iid})
    assert set(facet_units(store).values()) == {UNIT_B}  # untouched: the trigger did not run
    with store.begin() as tx:
        tx.conn.execute(text("UPDATE incidents SET unit_code = :b WHERE id = :i"), {"b": UNIT_B, "i": iid})
        tx.conn.execute(text("UPDATE incidents SET unit_code = :a WHERE id = :i"), {"a": UNIT_A, "i": iid})
    assert set(facet_units(store).values()) == {UNIT_A}
