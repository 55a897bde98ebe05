"""Store throughput and latency: SQLite (embedded default) and the Elasticsearch-API emulator.

For ``--posts`` generated posts (default 1,000,000) in SQLite and ``--es-posts`` (default the
same) in Elasticsearch (``ES_URL`` when set, else the osmem-server emulator started here), prints
in one run:

- ingest rate: posts/s into the SQL store (``Tx.add_posts``, 5,000 per transaction: de-duplication,
  snapshots off) and into Elasticsearch (``EsPostIndex.bulk_index``);
- full-text index build rate (SQLite FTS5 words + bigrams, jieba included);
- search p50/p99 for one-word and two-word queries, and facet latency (a query matching most
  posts, so counting the facets dominates), on both stores, with ratios SQLite/Elasticsearch.

    python bench/store.py [--posts 1000000] [--es-posts 1000000] [--queries 30] [--db FILE] [--bulk-fill]

``--baseline DIR`` (a checkout of other code, e.g. ``git worktree add --detach /tmp/base main``)
measures the SQLite searches of both codes on the same database, interleaved: ``--rounds`` times
a fresh process of each in turn (this code first), every latency pooled per code; CPU time is
printed next to wall time, since on a shared machine wall time mostly measures the neighbours.
(The other code only reads; the database must already be at this code's schema, which this run's
own open does first.)

``--db FILE`` keeps the SQLite database there (outside git) and tops up one an earlier run left:
the posts it already holds (same generator, same order) are kept and only the missing ones added,
so ingest and FTS rates then cover the added posts only. A copy of a 300,000-post file topped up
to 1,000,000 gives both sizes for one generation. ``--es-posts 0`` skips Elasticsearch.

``--bulk-fill`` tops up without ``Tx.add_posts`` (one savepointed, de-duplicated batch at a time,
~350 posts/s on a loaded machine: hours for 1,000,000): the same rows (``raw_posts`` as
``add_posts`` writes them, the analyses below, the full-text rows of ``SearchIndexer``) go in by
plain bulk inserts with the search triggers dropped, then ``post_facets``, ``facet_keys`` and
``facet_tallies`` are rebuilt from the record (``rebuild_post_facets``) and the triggers put back:
the file ends as an ingest would leave it (``facet_drift`` 0), in minutes. Ingest is then not
measured; the fill's own rate is printed instead.

The emulator is an in-memory test double, not Lucene: its figures show the code path works at
scale, not what a real cluster does. Set ES_URL to measure a real one.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from itertools import islice
from pathlib import Path

# --code DIR (internal, for --baseline): import the store and indexer from another checkout.
sys.path.insert(0, sys.argv[sys.argv.index("--code") + 1] if "--code" in sys.argv
                else str(Path(__file__).resolve().parents[1]))

from sqlalchemy import insert

from core.jurisdiction import load_jurisdiction
from core.models import RawPost
from indexing.search_index import SearchIndexer, bigrams
from storage.es_posts import EsPostIndex
from storage.schema import analyses, raw_posts
from storage.search import SearchFilters
from storage.sql import SqlStore, open_store

TOPICS = {
    "water": ["河水发黑发臭", "有人往河里偷排污水", "排污口冒黄水", "溪沟漂满垃圾"],
    "air": ["餐馆油烟直排", "工地扬尘太大", "晚上有刺鼻异味", "露天焚烧垃圾"],
    "noise": ["夜间施工噪音扰民", "广场舞音响太吵", "打桩到凌晨"],
    "waste": ["垃圾站没人清运", "乱倒建筑垃圾", "垃圾桶满了没人管"],
}
QUERIES_1 = ["油烟", "污水", "噪音", "垃圾", "扬尘", "异味", "施工", "石马河"]
QUERIES_2 = ["油烟 扰民", "污水 直排", "施工 噪音", "垃圾 清运"]
BROAD = ["江北"]  # in most posts: the facet-heavy case
T0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


def generate(n: int, seed: int = 7) -> Iterator[tuple[RawPost, str, str]]:
    """Posts with their unit code and topic, reproducible (the first k are the same for every n)."""
    rng = random.Random(seed)
    pack = load_jurisdiction("jiangbei")
    places = [(p.name, p.unit_codes[0]) for p in pack.places if p.kind == "community"]
    for i in range(n):
        place, unit = rng.choice(places)
        topic = rng.choice(list(TOPICS))
        tail = rng.choice(["投诉多次没人管", "希望尽快处理", "太难受了"])
        text = f"江北{place}附近{rng.choice(TOPICS[topic])}，{tail}（{i}）"
        post = RawPost(source=rng.choice(["weibo", "news", "board", "tieba"]), text=text, url=f"http://b/{i}",
                       author=f"u{rng.randrange(50_000)}", published_at=T0 + dt.timedelta(minutes=i % 500_000))
        yield post, unit, topic


def analysis_rows(chunk: list[tuple[RawPost, str, str]], first_id: int) -> list[dict[str, object]]:
    """The analyses processing would leave for a chunk of generated posts (ids from ``first_id``)."""
    return [{"post_id": j, "relevant": True, "unit": None, "unit_code": u, "confidence": 1.0, "topics": [t],
             "topic": t, "polarity": "neg", "sentiment": 0.1, "evidence": [], "signals": [], "place": None,
             "analysed_at": T0} for j, (_p, u, t) in enumerate(chunk, start=first_id)]


def bulk_fill(store: SqlStore, indexer: SearchIndexer, rows: Iterator[tuple[RawPost, str, str]], have: int) -> int:
    """Add ``rows`` (posts ``have`` + 1 on) as ``Tx.add_posts``, processing and the indexer would
    leave them, by bulk inserts (``--bulk-fill``); returns how many were added."""
    from storage.posts import _content_hash, counted_at
    from storage.search import FACET_TRIGGERS, TALLY_TRIGGERS, install_search_tables, rebuild_post_facets

    # jieba was most of the fill: a generated text is a template, then "（i）", which jieba cuts
    # apart from the rest (punctuation ends its blocks); the template's words are cut once, and
    # every 1,000th post is checked against the indexer's own cut.
    templates: dict[str, list[str]] = {}

    def fts_columns(body: str) -> tuple[list[str], list[str]]:
        head, number = body.rsplit("（", 1)
        if head not in templates:
            templates[head] = indexer.document_tokens(head)[0]
        words = [*templates[head], number.rstrip("）")]
        if int(words[-1]) % 1000 == 0:
            assert (words, bigrams(body)) == indexer.document_tokens(body), body
        return words, bigrams(body)

    added = 0
    with store.begin() as tx:
        for name in (*FACET_TRIGGERS, *TALLY_TRIGGERS):
            tx.conn.exec_driver_sql(f"DROP TRIGGER IF EXISTS {name}")
    while chunk := list(islice(rows, 20_000)):
        first = have + added + 1
        with store.begin() as tx:
            tx.conn.execute(insert(raw_posts), [
                {"id": j, "fingerprint": p.fingerprint, "content_hash": _content_hash(p), "source": p.source,
                 "url": p.url, "title": p.title, "text": p.text, "author": p.author, "published_at": p.published_at,
                 "fetched_at": T0, "counted_at": counted_at(p.published_at, T0, False), "engagement": {},
                 "snapshot": None, "processed_at": None, "process_error": None, "reply_to": None}
                for j, (p, _u, _t) in enumerate(chunk, start=first)])
            tx.conn.execute(insert(analyses), analysis_rows(chunk, first))
            tx.index_tokens([(j, *fts_columns(f"{p.title}\n{p.text}"))
                             for j, (p, _u, _t) in enumerate(chunk, start=first)])
        added += len(chunk)
        print(f"bulk fill: {have + added:,} posts", file=sys.stderr, flush=True)
    with store.begin() as tx:
        rebuild_post_facets(tx.conn)
        install_search_tables(tx.conn)  # the triggers back
    return added


def pct(values: list[float], p: float) -> float:
    """The p-th percentile in milliseconds."""
    values = sorted(values)
    return 1000 * values[min(len(values) - 1, int(p * len(values)))]


def timed(fn, repeats: int) -> list[tuple[float, float]]:
    """(wall, CPU) seconds of each call."""
    out = []
    for _ in range(repeats):
        start, cpu = time.perf_counter(), time.process_time()
        fn()
        out.append((time.perf_counter() - start, time.process_time() - cpu))
    return out


_CODE = sys.path[0]
# "facets" ranks by relevance (bm25) as the console's default does (on SQLite past 10,000 matches
# the newest 10,000: storage.search.RANKED_MATCHES); "facets newest" is the same query newest
# first, which needs no score: the difference is what ranking costs.
# "search 1 word, unit" is the same words as a unit's user searches them (scoped to the unit of
# the first generated post: ~1/12 of the posts).
KINDS = (("search 1 word", QUERIES_1), ("search 2 words", QUERIES_2), ("facets", BROAD), ("facets newest", BROAD),
         ("search 1 word, unit", QUERIES_1))


def sort_of(kind: str) -> str:
    """The order a kind of search asks for (both stores are asked the same)."""
    return "newest" if "newest" in kind else "relevance"


def measure_sqlite(db_file: Path, repeats: int) -> dict[str, list[tuple[float, float]]]:
    """(wall, CPU) of each search of each kind on the database as it is (no schema change)."""
    indexer = SearchIndexer(load_jurisdiction("jiangbei"))
    indexer.query_tokens("江北")  # load jieba before timing
    store = SqlStore(f"sqlite:///{db_file}")

    unit = next(generate(1))[1]

    def lite(query: str, kind: str) -> None:
        terms = indexer.query_terms(indexer.query_tokens(query))
        with store.read() as tx:
            tx.search_posts(terms, SearchFilters(unit_code=unit if "unit" in kind else None), limit=20,
                            sort=sort_of(kind))

    # The process's first search on its own: it reads the in-memory copies of the facet keys
    # (storage.search_counts) that later searches only bring up to date.
    out = {"first search": timed(lambda: lite(QUERIES_1[0], "first search"), 1)}
    out |= {kind: [t for q in queries for t in timed(lambda q=q, k=kind: lite(q, k), max(1, repeats // len(queries)))]
            for kind, queries in KINDS}
    store.dispose()
    return out


def summarise(latencies: dict[str, list[tuple[float, float]]], into: dict[str, float], cpu: bool = True) -> None:
    """p50/p99 wall time of each kind, and the p50 of this process's CPU time (``cpu``: not for
    Elasticsearch, whose work is done in another process)."""
    for kind, pairs in latencies.items():
        wall = [w for w, _c in pairs]
        into[f"{kind} p50 ms"], into[f"{kind} p99 ms"] = pct(wall, .5), pct(wall, .99)
        if cpu:
            into[f"{kind} p50 CPU ms"] = pct([c for _w, c in pairs], .5)


def interleaved(db_file: Path, baseline: Path, rounds: int, repeats: int) -> dict[str, dict[str, float]]:
    """Both codes' searches on one database, each round a fresh process of each in turn."""
    pooled: dict[str, dict[str, list[tuple[float, float]]]] = {"sqlite": {}, "baseline": {}}
    for _ in range(rounds):
        for label, code in (("sqlite", _CODE), ("baseline", str(baseline))):
            out = subprocess.run([sys.executable, __file__, "--measure-only", "--db", str(db_file), "--code", code,
                                  "--queries", str(repeats)], check=True, capture_output=True, text=True).stdout
            for kind, pairs in json.loads(out.splitlines()[-1]).items():
                pooled[label].setdefault(kind, []).extend(tuple(p) for p in pairs)
    results: dict[str, dict[str, float]] = {"sqlite": {}, "baseline": {}}
    for label in pooled:
        summarise(pooled[label], results[label])
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--posts", type=int, default=1_000_000)
    parser.add_argument("--es-posts", type=int, default=None)
    parser.add_argument("--queries", type=int, default=30, help="repeats per query kind")
    parser.add_argument("--db", type=Path, default=None, help="keep (and top up) the SQLite database in this file")
    parser.add_argument("--baseline", type=Path, default=None, help="also measure this checkout's code, interleaved")
    parser.add_argument("--rounds", type=int, default=2, help="with --baseline: processes of each code")
    parser.add_argument("--bulk-fill", action="store_true",
                        help="top up by bulk inserts, not Tx.add_posts (minutes for 1,000,000; ingest not measured)")
    parser.add_argument("--measure-only", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--code", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure_only:
        print(json.dumps(measure_sqlite(args.db, args.queries)))
        return
    es_n = args.es_posts if args.es_posts is not None else args.posts
    indexer = SearchIndexer(load_jurisdiction("jiangbei"))
    results: dict[str, dict[str, float]] = {"sqlite": {}, "es": {}}

    with tempfile.TemporaryDirectory() as tmp:
        db_file = args.db or Path(tmp) / "bench.db"
        store = open_store(f"sqlite:///{db_file}")  # no snapshot dir: measure the database
        with store.read() as tx:
            have = tx.count_posts()
        rows = islice(generate(args.posts), have, None)
        added = args.posts - have
        ingest = 0.0
        if args.bulk_fill and added > 0:
            start = time.perf_counter()
            bulk_fill(store, indexer, rows, have)
            results["sqlite"]["bulk fill posts/s"] = added / (time.perf_counter() - start)
            have, added = args.posts, 0
        while chunk := list(islice(rows, 20_000)):
            start = time.perf_counter()
            for i in range(0, len(chunk), 5000):
                with store.begin() as tx:
                    tx.add_posts([p for p, _u, _t in chunk[i:i + 5000]], T0)
            ingest += time.perf_counter() - start
            with store.begin() as tx:  # analyses, as processing would leave them (not timed)
                tx.conn.execute(insert(analyses), analysis_rows(chunk, have + 1))
            have += len(chunk)
        if added > 0:
            results["sqlite"]["ingest/s"] = added / ingest
        start = time.perf_counter()
        while indexer.catch_up(store, max_posts=50_000, batch=5000):
            pass
        if added > 0:
            results["sqlite"]["fts build posts/s"] = added / (time.perf_counter() - start)
        with store.engine.connect() as conn:  # the file's size with everything in it, not in its WAL
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        db_mb = db_file.stat().st_size / 1e6
        store.dispose()
        if args.baseline:
            both = interleaved(db_file, args.baseline, args.rounds, args.queries)
            results["sqlite"].update(both["sqlite"])
            results["baseline"] = both["baseline"]
        else:
            summarise(measure_sqlite(db_file, args.queries), results["sqlite"])

    if es_n == 0:
        report(have, db_mb, 0, "none", results)
        return
    es_rows = list(generate(es_n))
    es_label = f"real Elasticsearch at {os.environ['ES_URL']}" if os.environ.get("ES_URL") else "osmem-server emulator"
    from contextlib import ExitStack

    from elasticsearch import Elasticsearch

    with ExitStack() as stack:
        if os.environ.get("ES_URL"):
            client = Elasticsearch(os.environ["ES_URL"], request_timeout=600)
        else:
            from osmem_server import OsmemServer

            from tests.services.elasticsearch import CompatRewritingNode

            server = stack.enter_context(OsmemServer.start())
            client = Elasticsearch(server.url, node_class=CompatRewritingNode, request_timeout=600)
        index = EsPostIndex(client, prefix=f"bench{int(time.time())}")
        index.ensure_template()
        docs = []
        for j, (post, unit, topic) in enumerate(es_rows, start=1):
            body = post.text
            docs.append({"post_id": j, "source": post.source, "text": body, "title": "",
                         "tokens": " ".join(indexer.document_tokens(body)[0]), "grams": " ".join(bigrams(body)),
                         "published_at": post.published_at, "day": post.published_at, "unit_code": unit,
                         "topic": topic, "topics": [topic], "polarity": "neg", "relevant": True})
        start = time.perf_counter()
        for i in range(0, es_n, 20_000):
            index.bulk_index(docs[i:i + 20_000], chunk_size=2000)
        index.refresh()
        results["es"]["ingest/s"] = es_n / (time.perf_counter() - start)

        unit = es_rows[0][1]

        def es(query: str, kind: str) -> None:
            index.search(indexer.query_terms(indexer.query_tokens(query)), size=20, sort=sort_of(kind),
                         filters={"unit_code": unit} if "unit" in kind else None)

        summarise({kind: [t for q in queries for t in timed(lambda q=q, k=kind: es(q, k),
                                                              max(1, args.queries // len(queries)))]
                   for kind, queries in KINDS}, results["es"], cpu=False)

    report(have, db_mb, es_n, es_label, results)


def report(posts: int, db_mb: float, es_n: int, es_label: str, results: dict[str, dict[str, float]]) -> None:
    """The figures as a table, SQLite next to Elasticsearch."""
    print(f"posts: SQLite {posts:,} (database file {db_mb:,.0f} MB), Elasticsearch {es_n:,} ({es_label})")
    base = results.get("baseline")
    print(f"{'figure':<24}{'SQLite':>14}{'Elasticsearch':>16}{'SQLite/ES':>12}"
          + (f"{'baseline SQLite':>18}{'this/baseline':>15}" if base else ""))
    for key in results["sqlite"]:
        a, b = results["sqlite"][key], results["es"].get(key)
        ratio = f"{a / b:>12.2f}" if b else f"{'':>12}"
        b_text = f"{b:>16,.1f}" if b is not None else f"{'-':>16}"
        c = base.get(key) if base else None
        c_text = (f"{c:>18,.1f}{a / c:>15.2f}" if c else f"{'-':>18}{'':>15}") if base else ""
        print(f"{key:<24}{a:>14,.1f}{b_text}{ratio}{c_text}")
    p50s = [results["sqlite"][k] for k in results["sqlite"] if k.endswith("p50 ms")]
    print(f"median of SQLite p50 latencies: {statistics.median(p50s):.1f} ms")


if __name__ == "__main__":
    main()
