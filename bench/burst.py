"""A burst: one viral event's posts arriving faster than anything else, and what the desk sees.

    .venv/bin/python bench/burst.py [--posts 100000] [--minutes 10] [--incidents 2000] [--chatter 0.05]

Issue 17's case: 100,000 posts of one event in 10 minutes. A feeder stores the event's posts (a
few dozen first-hand reports in different words, then reposts, comments and "//@" chains, with a
share ``--chatter`` of unrelated posts) at an even rate over ``--minutes``, a batch a second, the
way collectors hand them over; meanwhile a processor runs ``process_pending`` passes back to back,
as the scheduler's ``process`` job does, into a store already holding ``--incidents`` open
incidents. A watcher polls the store the way the console's list does.

Prints, measured in this run (nothing is asserted; tests check behaviour, not timings):
- seconds from the first event post being stored to an incident holding it existing (issue
  target: within 30 s), and to its first notification being queued;
- how many incidents the event's posts ended in (target: one), and the largest one's share;
- the processing backlog (stored, not yet processed) at its worst and at the end, and posts/s;
- notification volume for the event: outbox messages and feed events (bounded: the outbox joins
  an incident's lines per channel and address, so it should not grow with the posts).

Scale it down to try it: ``--posts 5000 --minutes 1``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import importlib.util

from sqlalchemy import func, select

from alerts.config import alerts_config
from alerts.detection import process_pending
from core.jurisdiction import load_jurisdiction
from core.models import RawPost
from core.timeutil import utcnow
from nlp.analyzer import Analyzer
from storage.schema import events, incident_posts, outbox, raw_posts
from storage.sql import SqlStore, open_store

# bench/ is not a package and its alerts.py would shadow the alerts package: load siblings by path.
_spec = importlib.util.spec_from_file_location("bench_pipeline", Path(__file__).with_name("pipeline.py"))
assert _spec is not None and _spec.loader is not None
bench_pipeline = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench_pipeline)

EVENT_URL = "https://burst.example/event/"
# First-hand reports of one event (a chemical plant fire at 鱼嘴 with black smoke), in different words.
REPORTS = [
    "鱼嘴镇那个化工厂着火了！黑烟好大，整条街都是刺鼻的味道，窗户都关起",
    "鱼嘴工业园区化工厂爆炸了，轰的一声，屋头玻璃都在抖，烟子是黑的",
    "江北鱼嘴这边好大的黑烟，闻到一股塑料烧焦的味道，娃娃在咳嗽，有没有人晓得啥子情况",
    "紧急！鱼嘴镇化工厂起火，消防车来了好多辆，附近居民注意关窗，不要出门",
    "鱼嘴化工厂火灾，空气里头一股怪味，眼睛辣得很，请环保部门监测一下空气有没有毒",
    "刚才鱼嘴那边爆炸声，接着冒黑烟，我们小区离得近，味道呛人，有老人喊头昏",
    "鱼嘴镇工业园起火，烟柱几公里外都看得到，听说是化工原料仓库，担心污染长江",
    "消防水会不会流到江里头哦？鱼嘴化工厂救火的水黑黢黢的往沟里流",
]
REACTIONS = ["太吓人了", "注意安全", "求官方通报", "关窗关窗", "希望没人受伤", "已经闻到了", "环保局管一下",
             "我在两路都看到烟了", "娃娃学校停课没得", "空气监测数据公布一下嘛"]
CHATTER = ["今天天气不错，去公园散步", "周末带孩子去看了展览", "这家火锅味道很好", "观音桥堵车堵惨了"]


def event_text(rng: random.Random, i: int) -> str:
    """The i-th post of the burst: first-hand reports at first, then mostly reposts and comments."""
    base = REPORTS[i % len(REPORTS)] if i < 40 or rng.random() < 0.05 else rng.choice(REPORTS)
    roll = rng.random()
    if i < 40 or roll < 0.15:
        return base
    if roll < 0.75:
        chain = "".join(f"//@网友{rng.randint(1, 99999)}:{rng.choice(REACTIONS)}" for _ in range(rng.randint(0, 3)))
        return f"{rng.choice(REACTIONS)}{chain}//@网友{rng.randint(1, 99999)}:{base}"
    return f"{rng.choice(REACTIONS)}，{base[:rng.randint(12, len(base))]}"


def feed(store: SqlStore, posts: int, seconds: float, chatter: float, marks: dict[str, float],
         done: threading.Event) -> None:
    """Store ``posts`` event posts (plus chatter) evenly over ``seconds``, one batch a second."""
    rng = random.Random(17)
    batches = max(1, int(seconds))
    per_batch = -(-posts // batches)
    start, stored = time.perf_counter(), 0
    for b in range(batches):
        count = min(per_batch, posts - stored)
        if count <= 0:
            break
        now = utcnow()
        batch = [RawPost(source="burst", url=f"{EVENT_URL}{stored + k}", title="", text=event_text(rng, stored + k),
                         author=f"网友{rng.randint(1, 200_000)}",
                         published_at=now - dt.timedelta(seconds=rng.randint(0, 30)),
                         engagement={"reposts": rng.randint(0, 500), "comments": rng.randint(0, 100)})
                 for k in range(count)]
        batch += [RawPost(source="burst", url=f"https://burst.example/chatter/{stored}-{k}", title="",
                          text=f"{rng.choice(CHATTER)}（{stored}-{k}）", author=f"网友{rng.randint(1, 200_000)}",
                          published_at=now) for k in range(int(count * chatter))]
        with store.begin() as tx:
            tx.add_posts(batch)
        stored += count
        marks.setdefault("first_stored", time.perf_counter())
        wait = start + (b + 1) * seconds / batches - time.perf_counter()
        if wait > 0:
            time.sleep(wait)
    marks["fed"] = time.perf_counter()
    done.set()


def event_incidents(store: SqlStore) -> dict[int, int]:
    """Incident id → how many of the event's posts it holds."""
    with store.engine.connect() as conn:
        rows = conn.execute(select(incident_posts.c.incident_id, func.count())
                            .join(raw_posts, raw_posts.c.id == incident_posts.c.post_id)
                            .where(raw_posts.c.url.like(EVENT_URL + "%")).group_by(incident_posts.c.incident_id)).all()
    return {int(i): int(n) for i, n in rows}


def watch(store: SqlStore, marks: dict[str, float], fed: threading.Event) -> None:
    """Poll as the console does (every half second) for the event's incident and its first
    notification; a pass of the processor may run for minutes while posts keep coming."""
    while not ("incident" in marks and "notified" in marks) and not (fed.is_set() and "incident" in marks):
        if "incident" not in marks and event_incidents(store):
            marks["incident"] = time.perf_counter()
        if "notified" not in marks:
            with store.engine.connect() as conn:
                if conn.execute(select(func.count()).select_from(outbox)).scalar_one():
                    marks["notified"] = time.perf_counter()
        time.sleep(0.5)


def backlog(store: SqlStore) -> int:
    """Stored posts not processed yet."""
    with store.read() as tx:
        return tx.count_pending()


def sample_backlog(store: SqlStore, samples: list[tuple[float, int]], stop: threading.Event) -> None:
    """The backlog every two seconds while the burst runs, in its own thread: sampled between
    passes only (as this bench once did) it missed the worst, since one pass can last minutes."""
    while not stop.is_set():
        samples.append((time.perf_counter(), backlog(store)))
        stop.wait(2.0)


def main() -> None:
    """Run the burst and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=100_000)
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--incidents", type=int, default=2000, help="open incidents already in the store")
    parser.add_argument("--chatter", type=float, default=0.05, help="unrelated posts per event post")
    args = parser.parse_args()
    pack = load_jurisdiction("jiangbei")
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/burst.db"
        bench_pipeline.seed_incidents(url, pack, args.incidents, 7)
        store = open_store(url)
        analyzer, config = Analyzer(pack), alerts_config(pack)
        marks: dict[str, float] = {}
        fed = threading.Event()
        feeder = threading.Thread(target=feed, args=(store, args.posts, args.minutes * 60, args.chatter, marks, fed))
        processed, passes = 0, 0
        samples: list[tuple[float, int]] = []
        stop_sampling = threading.Event()
        sampler = threading.Thread(target=sample_backlog, args=(store, samples, stop_sampling), daemon=True)
        watcher = threading.Thread(target=watch, args=(store, marks, fed), daemon=True)
        print(f"{args.posts:,} event posts over {args.minutes:g} min (+{args.chatter:.0%} chatter), "
              f"{args.incidents:,} open incidents in the store")
        feeder.start()
        watcher.start()
        sampler.start()
        t0, cpu0 = time.perf_counter(), time.process_time()
        while True:
            finished = fed.is_set()
            processed += process_pending(store, analyzer, config=config).processed
            passes += 1
            if finished:
                break
            time.sleep(0.2)
        took = time.perf_counter() - t0
        stop_sampling.set()
        sampler.join()
        held = event_incidents(store)
        with store.engine.connect() as conn:
            ours = outbox.c.incident_id.in_(list(held) or [-1])
            messages = conn.execute(select(func.count()).select_from(outbox).where(ours)).scalar_one()
            lines = sum(len(row) for row in conn.execute(select(outbox.c.lines).where(ours)).scalars())
            feed_events = conn.execute(select(func.count()).select_from(events)
                                       .where(events.c.incident_id.in_(list(held) or [-1]))).scalar_one()
        first = marks.get("first_stored", t0)
        total = sum(held.values())
        print(f"processed {processed:,} posts in {passes} passes, {took:.0f} s ({processed / took:,.0f} posts/s); "
              f"feeding took {marks.get('fed', t0) - t0:.0f} s; CPU seconds of this process (feeder, watcher and "
              f"sampler included) {time.process_time() - cpu0:.0f} s; load average at the end "
              f"{os.getloadavg()[0]:.1f}")
        print(f"first event post stored → incident exists: {marks.get('incident', float('nan')) - first:.1f} s "
              f"(target ≤ 30 s); → first notification queued: {marks.get('notified', float('nan')) - first:.1f} s")
        fed_at = marks.get("fed", t0)
        worst_at, worst = max(samples, key=lambda s: s[1], default=(t0, 0))
        at_feed_end = next((n for at, n in samples if at >= fed_at), 0)
        print(f"backlog (sampled every 2 s): worst {worst:,} posts at {worst_at - t0:.0f} s, when the feed ended "
              f"{at_feed_end:,}, at the end {backlog(store):,}; processing finished {t0 + took - fed_at:.0f} s "
              f"after the feed")
        print(f"the event's {total:,} grouped posts are in {len(held)} incident(s) (target 1); the largest holds "
              f"{max(held.values(), default=0) / max(total, 1):.1%}")
        with store.read() as tx:
            for incident_id, count in sorted(held.items(), key=lambda kv: -kv[1]):
                i = tx.get_incident(incident_id)
                assert i is not None
                print(f"  #{incident_id} {count:,} posts · {i.topic} · {i.grade.value} · {i.unit} · {i.title[:40]}")
        print(f"notifications for them: {messages} outbox messages carrying {lines} lines; {feed_events} feed events")
        store.dispose()


if __name__ == "__main__":
    main()
