"""``ecowatch process --workers N``: posts analysed in spawned worker processes (which never open
the database) give exactly what the pass writes when it analyses them itself; a worker's
exception comes back as the post's error; the workers are gone when the pass ends."""

from __future__ import annotations

import datetime as dt
import multiprocessing
from pathlib import Path

import sqlalchemy as sa

from alerts.config import alerts_config
from alerts.detection import process_pending
from core.models import RawPost
from core.timeutil import SHANGHAI
from ecowatch.analysis_workers import _portable, analysis_workers
from storage.sql import SqlStore, open_store

NOW = dt.datetime(2026, 11, 30, 9, 0, tzinfo=SHANGHAI)
TEXTS = ["观音桥街道建新北路工地夜间施工打桩噪音扰民，凌晨两点还在施工", "建新北路工地晚上打桩太吵了，凌晨还在施工",
         "石马河街道石马河又黑又臭，有人往河里偷排污水", "五里店街道垃圾站好几天没人清运，臭气熏天",
         "寸滩街道有个汽修厂喷漆房味道好大，没有任何处理", "今天天气不错，去公园散步"]


def _run(store: SqlStore, analyzer, workers: int, models: Path) -> list[list[tuple]]:
    posts = [RawPost(source="weibo", text=f"{TEXTS[i % len(TEXTS)]}（{i}）", author=f"居民{i}", url=f"https://w/{i}",
                     published_at=NOW - dt.timedelta(minutes=90 - i)) for i in range(90)]
    with store.begin() as tx:
        tx.add_posts(posts, now=NOW)
    config = alerts_config(analyzer.jurisdiction)
    if workers:
        with analysis_workers("jiangbei", models, workers) as ahead:
            # Groups of 20 and reads of 60: several groups analysed ahead, a second read after.
            report = process_pending(store, analyzer, now=NOW, config=config, per_tx=20, batch=60, ahead=ahead)
    else:
        report = process_pending(store, analyzer, now=NOW, config=config, per_tx=20, batch=60)
    assert report.processed == 90 and report.failed == 0
    with store.engine.connect() as conn:
        return [[tuple(map(str, row)) for row in conn.execute(sa.text(q))] for q in (
            "SELECT id, unit_code, topic, grade, state, post_count, keywords, reach FROM incidents ORDER BY id",
            "SELECT incident_id, post_id, role, posted_at FROM incident_posts ORDER BY post_id",
            "SELECT incident_id, action, detail FROM audit_log ORDER BY id",
            "SELECT post_id, relevant, unit_code, topic, polarity, sentiment, evidence, signals, place FROM analyses "
            "ORDER BY post_id",
            "SELECT id FROM raw_posts WHERE processed_at IS NULL")]


def test_workers_write_exactly_what_analysing_in_the_pass_does(analyzer, tmp_path: Path):
    stores = [open_store(f"sqlite:///{tmp_path}/{name}.db") for name in ("here", "workers")]
    try:
        here = _run(stores[0], analyzer, 0, tmp_path / "models")
        in_workers = _run(stores[1], analyzer, 2, tmp_path / "models")
    finally:
        for store in stores:
            store.dispose()
    assert in_workers == here
    assert here[0] and len(here[1]) > 30  # incidents opened and fed: the comparison covered something
    assert multiprocessing.active_children() == []  # the workers ended with the pass


class _Unpicklable(Exception):
    def __init__(self, detail: str, *, code: int) -> None:  # keyword-only: pickling cannot rebuild it
        super().__init__(detail)
        self.code = code


def test_a_worker_exception_travels_back_as_the_posts_error():
    failed = _portable(_Unpicklable("bad text", code=3))
    assert isinstance(failed, RuntimeError) and str(failed) == "_Unpicklable: bad text"
    kept = _portable(ValueError("empty"))
    assert isinstance(kept, ValueError) and str(kept) == "empty"


def test_the_command_spawns_its_workers_from_python_dash_m(tmp_path: Path):
    """``python -m ecowatch process --workers 1``: the spawned worker imports ecowatch.__main__
    again as its own main, which must not run the command line a second time."""
    import json
    import os
    import subprocess
    import sys

    export = tmp_path / "posts.jsonl"
    export.write_text("".join(json.dumps({"url": f"https://w/{i}", "text": f"{TEXTS[i % len(TEXTS)]}（{i}）",
                                          "author": f"居民{i}"}, ensure_ascii=False) + "\n" for i in range(30)),
                      encoding="utf-8")
    env = {**os.environ, "ECOWATCH_DATA_DIR": str(tmp_path / "data")}
    for args in (["import", str(export)], ["process", "--workers", "1"]):
        done = subprocess.run([sys.executable, "-m", "ecowatch", *args], env=env, capture_output=True, text=True,
                              timeout=300)
        assert done.returncode == 0, done.stderr[-2000:]
    assert json.loads(done.stdout.strip().splitlines()[-1])["processed"] == 30
