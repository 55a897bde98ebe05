"""How long one detection pass and one escalation pass take on a loaded store.

Builds a temporary SQLite store holding ``--posts`` posts (default 100,000; all but ``--pending``
already processed) and ``--incidents`` open incidents (default 10,000, most of them overdue), then
times, on the same machine in the same run:

- detection: ``process_pending`` over the pending posts (analysis + grouping + grading + store),
  against a baseline of the analysis alone on the same texts (the ratio is the alerting overhead);
- escalation: ``run_escalation`` over every open incident: the first pass (everything newly
  overdue climbs, audit entries and notifications are written), a steady pass (nothing new), and
  a repeat pass an hour later; then one outbox delivery pass into the in-app feed.

    python bench/alerts.py [--posts 100000] [--incidents 10000] [--pending 2000]
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from alerts.config import alerts_config
from alerts.deadlines import compute_deadlines
from alerts.delivery import deliver
from alerts.detection import process_pending
from alerts.escalation_job import run_escalation
from alerts.notifiers.feed import FeedNotifier
from core.jurisdiction import load_jurisdiction
from core.models import Grade, Incident, State, content_fingerprint
from core.timeutil import SHANGHAI
from nlp.analyzer import Analyzer
from storage.schema import raw_posts
from storage.sql import open_store

COMPLAINTS = {
    "noise": ["工地夜间施工打桩噪音扰民，凌晨还在施工", "广场舞音响太吵了，每天晚上到十点", "酒吧喇叭噪音太大睡不着"],
    "air": ["餐馆油烟直排，整栋楼都是油烟味", "工地扬尘太大，窗户都不敢开", "有厂子晚上偷偷排废气，刺鼻难闻"],
    "water": ["河水又黑又臭，有人往河里偷排污水", "小区旁边的溪沟漂满垃圾，发臭", "排污口一直往江里排黄水"],
    "waste": ["垃圾站好几天没人清运，臭气熏天", "有人在路边乱倒建筑垃圾", "垃圾桶满了没人管，苍蝇乱飞"],
}
NEUTRAL = ["今天天气不错，去公园散步", "周末带孩子去看了展览", "这家火锅味道很好"]


def _texts(rng: random.Random, units: list[tuple[str, str]], n: int) -> list[tuple[str, str]]:
    out = []
    for i in range(n):
        unit, place = rng.choice(units)
        if rng.random() < 0.3:
            out.append(("other", f"{unit}{rng.choice(NEUTRAL)}（{i}）"))
            continue
        topic = rng.choice(list(COMPLAINTS))
        out.append((topic, f"{unit}{place}附近{rng.choice(COMPLAINTS[topic])}，投诉多次没人管（{i}）"))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=100_000)
    parser.add_argument("--incidents", type=int, default=10_000)
    parser.add_argument("--pending", type=int, default=2_000, help="posts left unprocessed for the detection pass")
    args = parser.parse_args()
    rng = random.Random(4)
    pack = load_jurisdiction("jiangbei")
    config = alerts_config(pack)
    units = [(u.name, p.name) for p in pack.places if p.kind == "community" for u in [pack.units[p.unit_codes[0]]]]
    now = dt.datetime(2026, 12, 1, 9, 0, tzinfo=SHANGHAI)

    with tempfile.TemporaryDirectory() as tmp:
        store = open_store(f"sqlite:///{tmp}/bench.db")
        t = time.perf_counter()
        texts = _texts(rng, units, args.posts)
        rows = []
        for i, (_topic, text) in enumerate(texts):
            processed = i < args.posts - args.pending
            at = now - dt.timedelta(minutes=rng.randint(0, 60 * 24 * 30)) if processed else now
            rows.append(dict(fingerprint=f"url:https://bench.example/{i}", content_hash=f"{i:064x}",
                             source="bench", url=f"https://bench.example/{i}", title="", text=text,
                             author=f"user{rng.randint(0, 50_000)}", published_at=at, fetched_at=at,
                             engagement={"reposts": rng.randint(0, 50), "comments": rng.randint(0, 20)},
                             processed_at=at if processed else None))
        with store.begin() as tx:
            for start in range(0, len(rows), 5000):
                tx.conn.execute(raw_posts.insert(), rows[start:start + 5000])
        unit_codes = list(pack.units)
        with store.begin() as tx:
            for i in range(args.incidents):
                opened = now - dt.timedelta(minutes=rng.randint(0, 60 * 24 * 10))
                grade = rng.choices(list(Grade), weights=[70, 20, 8, 2])[0]
                code = rng.choice(unit_codes)
                topic = rng.choice(list(COMPLAINTS))
                tx.insert_incident(Incident(
                    title=f"bench {i}", unit=pack.units[code].name, unit_code=code, topic=topic, grade=grade,
                    state=rng.choice([State.ASSIGNED, State.SIGNED, State.RESPONDED]), opened_at=opened,
                    updated_at=opened, deadlines=compute_deadlines(pack.deadlines, grade, opened),
                    keywords=content_fingerprint("", str(i))[:8].split(), last_post_at=opened,
                    reach={"posts": 1, "author_count": 1, "authors": [f"user{i}"]}))
        build = time.perf_counter() - t
        with store.read() as tx:
            stored = tx.count_posts()
        print(f"store: {stored:,} posts ({args.pending:,} pending), {args.incidents:,} open incidents "
              f"(built in {build:.1f} s)")

        analyzer = Analyzer(pack)
        pending_texts = [text for _, text in texts[args.posts - args.pending:]]
        t = time.perf_counter()
        for text in pending_texts:
            analyzer.analyze(text)
        baseline = time.perf_counter() - t
        t = time.perf_counter()
        report = process_pending(store, analyzer, now=now, config=config)
        detect = time.perf_counter() - t
        rate = report.processed / detect
        print(f"detection pass: {report.processed:,} posts in {detect:.2f} s ({rate:,.0f} posts/s; "
              f"opened {report.opened}, merged {report.merged}, reopened {report.reopened}, raised {report.raised})")
        print(f"  baseline, analysis alone on the same texts: {baseline:.2f} s "
              f"-> alerting + store overhead x{detect / baseline:.2f} of analysis time")

        for label, at in (("escalation pass (first, everything overdue climbs)", now),
                          ("escalation pass (steady, nothing new)", now + dt.timedelta(seconds=60)),
                          ("escalation pass (an hour later, repeats)", now + dt.timedelta(hours=1))):
            t = time.perf_counter()
            esc = run_escalation(store, config, at)
            took = time.perf_counter() - t
            print(f"{label}: {took:.2f} s over {esc.incidents:,} incidents ({esc.overdue_steps:,} overdue steps, "
                  f"{esc.climbed:,} climbed, {esc.repeated:,} repeated, {esc.notified:,} messages queued)")
        t = time.perf_counter()
        sent = 0
        while True:
            batch = deliver(store, {"feed": FeedNotifier(store)}, config, now=now + dt.timedelta(hours=1),
                            limit=1000)
            sent += batch.sent
            if batch.sent + batch.failed + batch.retrying == 0:
                break
        took = time.perf_counter() - t
        print(f"outbox delivery to the in-app feed: {sent:,} messages in {took:.2f} s "
              f"({sent / took if took else 0:,.0f}/s); other channels left pending (not configured here)")
        store.dispose()


if __name__ == "__main__":
    main()
