"""Issue 18 #4: an imported backfill counts in the period it was published, a live-collected post
when it was collected, and the briefing says how many posts of the period arrived late."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys

from briefing.period import last_full_week, week_of
from briefing.service import build_briefing
from core.jurisdiction import load_jurisdiction
from core.models import RawPost
from core.timeutil import utcnow
from storage.posts import counted_at
from storage.sql import open_store


def test_counted_at_rule():
    published, collected = dt.datetime(2026, 11, 25, tzinfo=dt.UTC), dt.datetime(2026, 12, 1, tzinfo=dt.UTC)
    assert counted_at(published, collected, backfill=True) == published
    assert counted_at(published, collected, backfill=False) == collected
    assert counted_at(None, collected, backfill=True) == collected
    assert counted_at(collected + dt.timedelta(hours=1), collected, backfill=True) == collected


def test_last_weeks_backfill_is_in_last_weeks_briefing(tmp_path):
    # ``ecowatch import`` stamps the real clock, so the weeks are taken from it too.
    now = utcnow()
    last, this = last_full_week(now), week_of(now)
    wednesday = last.start + dt.timedelta(days=2, hours=2)  # 10:00 in Shanghai
    lines = [{"url": f"https://weibo.example/b{i}", "text": text, "published_at": (wednesday + dt.timedelta(hours=i))
              .isoformat()} for i, text in enumerate(["江北区石马河街道南桥寺这段河又黑又臭，排污口往河里排污水",
                                                      "观音桥街道建新北路工地半夜施工噪音扰民", "寸滩街道一股化工味"])]
    path = tmp_path / "backfill.jsonl"
    path.write_text("".join(json.dumps(x, ensure_ascii=False) + "\n" for x in lines), encoding="utf-8")
    data = tmp_path / "data"
    done = subprocess.run([sys.executable, "-m", "ecowatch.cli", "import", str(path)], capture_output=True, text=True,
                          env={"ECOWATCH_DATA_DIR": str(data), "PATH": "/usr/bin:/bin"}, timeout=300)
    assert json.loads(done.stdout)["new"] == 3, done.stderr
    store = open_store(f"sqlite:///{data / 'ecowatch.db'}", data / "snapshots")
    try:
        with store.begin() as tx:  # a live post, published last week but collected now: counts now
            tx.add_posts([RawPost(source="weibo", url="https://weibo.example/live", text="石马河又臭了",
                                  published_at=wednesday)], now=now)
        jurisdiction = load_jurisdiction("jiangbei")
        before = build_briefing(store, jurisdiction, last, last.end)
        current = build_briefing(store, jurisdiction, this, now + dt.timedelta(seconds=1))
    finally:
        store.dispose()
    assert before.totals[0].current == 3 and before.late_posts == 3
    assert "本期有 3 条信息在本期结束后才补录（导入），已按发布时间计入本期。" in before.notes
    assert not any("本期未采集到任何信息" in n for n in before.notes)
    assert [p.posts for p in before.trend] == [0, 0, 3, 0, 0, 0, 0]
    assert current.totals[0].current == 1 and current.late_posts == 0
