"""The whole way in against analysis alone, on the same texts, in one run.

    .venv/bin/python bench/pipeline.py [--posts 5000] [--incidents 2000] [--rounds 2] [--no-profile]
                                       [--baseline DIR]

Generates ``--posts`` complaint-like posts (bench/alerts.py's generator: 70 % complaints naming a
community and a nuisance, many alike, 30 % unrelated chatter) as one JSON Lines export, and a
fresh data folder per round already holding ``--incidents`` open incidents (thousands: the
grouping rule reads its candidates among them). Then, interleaved round by round, as whole
processes (start-up included, as a user runs them):

- ``ecowatch analyze`` < the same texts;
- ``ecowatch import FILE`` then ``ecowatch process`` into that round's fresh data folder.

``--baseline DIR`` (a checkout of other code, e.g. ``git worktree add --detach /tmp/base main``)
runs the same commands of that code in each round too, into its own fresh data folder, in turn
with this code's (which goes first alternates by round), so both are measured under the same load.

Prints posts/s of each, the ratio analyze / (import + process) per round (target >= 0.5), the
same ratio on the commands' CPU seconds (steadier on a shared machine), the peak RSS of any child
process, and where the time of a processing pass goes: an in-process run of
``process_pending`` under cProfile, split into analysis, post roles, grouping, grading (each fed
incident's reach and grade; an opened incident's first grade, inside the decision, is counted in
grouping too), notifications and the store (claims, analysis rows, incident writes, commits: the
rest of the pass).
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import importlib.util
import json
import os
import pstats
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# The code whose store is seeded: this checkout's, or (``--seed-into``, run by the bench itself
# for ``--baseline``) the baseline's, so each data folder is made at its own code's schema.
sys.path.insert(0, os.environ.get("BENCH_CODE", str(ROOT)))

from alerts.config import alerts_config  # noqa: E402
from alerts.deadlines import compute_deadlines  # noqa: E402
from alerts.detection import process_pending  # noqa: E402
from core.jurisdiction import Jurisdiction, load_jurisdiction  # noqa: E402
from core.models import Grade, Incident, RawPost, State, content_fingerprint  # noqa: E402
from core.timeutil import utcnow  # noqa: E402
from nlp.analyzer import Analyzer  # noqa: E402
from storage.sql import open_store  # noqa: E402

# bench/ is not a package and its alerts.py would shadow the alerts package: load it by path.
_spec = importlib.util.spec_from_file_location("bench_alerts", Path(__file__).with_name("alerts.py"))
assert _spec is not None and _spec.loader is not None
bench_alerts = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench_alerts)

ECOWATCH = [sys.executable, "-m", "ecowatch"]
# Where a processing pass's time goes: functions whose cumulative time is one bucket.
BUCKETS = {
    "analysis": ("analyze_with_tokens", "event_words"),
    "post roles": ("_role",),
    "grouping": ("candidate_pool", "candidates", "decide", "thread_incident"),
    "grading": ("grade_incident", "add_post"),  # each fed incident's reach and grade, again for each post
    "notifications": ("notify",),
}


def make_posts(pack: Jurisdiction, n: int, seed: int) -> list[dict[str, object]]:
    """``n`` posts as export lines, published over the last two hours."""
    rng = random.Random(seed)
    units = [(u.name, p.name) for p in pack.places if p.kind == "community" for u in [pack.units[p.unit_codes[0]]]]
    now = utcnow()
    return [{"url": f"https://bench.example/p/{i}", "text": text, "author": f"user{rng.randint(0, 50_000)}",
             "published_at": (now - dt.timedelta(seconds=rng.randint(0, 7200))).isoformat(),
             "reposts": rng.randint(0, 50), "comments": rng.randint(0, 20)}
            for i, (_topic, text) in enumerate(bench_alerts._texts(rng, units, n))]


def seed_incidents(url: str, pack: Jurisdiction, n: int, seed: int) -> None:
    """``n`` open incidents opened over the last four days, in every unit and topic."""
    rng = random.Random(seed)
    store = open_store(url)
    now, codes, topics = utcnow(), list(pack.units), list(bench_alerts.COMPLAINTS)
    with store.begin() as tx:
        for i in range(n):
            opened = now - dt.timedelta(minutes=rng.randint(0, 60 * 24 * 4))
            grade = rng.choices(list(Grade), weights=[70, 20, 8, 2])[0]
            code = rng.choice(codes)
            tx.insert_incident(Incident(
                title=f"bench {i}", unit=pack.units[code].name, unit_code=code, topic=rng.choice(topics),
                grade=grade, state=rng.choice([State.ASSIGNED, State.SIGNED, State.RESPONDED]), opened_at=opened,
                updated_at=opened, deadlines=compute_deadlines(pack.deadlines, grade, opened),
                keywords=content_fingerprint("", str(i))[:8].split(), last_post_at=opened,
                reach={"posts": 1, "author_count": 1, "authors": [f"user{i}"]}))
    store.dispose()


def _children_cpu() -> float:
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return used.ru_utime + used.ru_stime


def run(args: list[str], env: dict[str, str], stdin: Path | None = None, code: Path = ROOT) -> tuple[float, float]:
    """Wall seconds one whole command of the checkout at ``code`` took, and the CPU seconds it
    (with any worker of its own) used: on a shared machine the wall time swings with the others'
    load, the CPU time much less. Raises if the command failed."""
    t, cpu = time.perf_counter(), _children_cpu()
    with open(stdin or os.devnull, "rb") as fh:
        done = subprocess.run(ECOWATCH + args, env=env, stdin=fh, capture_output=True, cwd=code)
    took = time.perf_counter() - t
    if done.returncode != 0:
        raise SystemExit(f"ecowatch {' '.join(args)} failed ({done.returncode}): {done.stderr.decode()[-2000:]}")
    return took, _children_cpu() - cpu


def profile(pack: Jurisdiction, posts: list[dict[str, object]], incidents: int, tmp: Path) -> None:
    """One in-process processing pass under cProfile; prints its time by bucket."""
    url = f"sqlite:///{tmp}/profile.db"
    seed_incidents(url, pack, incidents, 7)
    store = open_store(url)
    with store.begin() as tx:
        tx.add_posts([RawPost(source="import", url=str(p["url"]), title="", text=str(p["text"]),
                              author=str(p["author"]), published_at=dt.datetime.fromisoformat(str(p["published_at"])),
                              engagement={"reposts": int(str(p["reposts"])), "comments": int(str(p["comments"]))})
                      for p in posts], backfill=True)
    analyzer = Analyzer(pack)
    config = alerts_config(pack)
    prof = cProfile.Profile()
    t = time.perf_counter()
    prof.enable()
    report = process_pending(store, analyzer, config=config)
    prof.disable()
    total = time.perf_counter() - t
    store.dispose()
    stats = pstats.Stats(prof)
    cum: dict[str, float] = {}
    for (_file, _line, name), (_cc, _nc, _tt, ct, _callers) in stats.stats.items():  # type: ignore[attr-defined]
        cum[name] = cum.get(name, 0.0) + ct
    traced = cum.get("process_pending", total)
    print(f"profile: process_pending over {report.processed:,} posts (opened {report.opened}, merged "
          f"{report.merged}, absorbed {report.absorbed}) {total:.2f} s wall, {traced:.2f} s traced")
    rest = traced
    for bucket, names in BUCKETS.items():
        spent = sum(cum.get(name, 0.0) for name in names)
        rest -= spent
        print(f"  {bucket:<14} {spent:6.2f} s  {100 * spent / traced:4.0f} %  ({', '.join(names)})")
    print(f"  {'store':<14} {rest:6.2f} s  {100 * rest / traced:4.0f} %  (the rest: claims, analysis rows, "
          f"incident writes, commits, reading pending posts, and the pass's own glue)")
    print("  top functions by own time:")
    stats.sort_stats("tottime").print_stats(12)


def main() -> None:
    """Run the benchmark and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=5000)
    parser.add_argument("--incidents", type=int, default=2000, help="open incidents already in the store")
    parser.add_argument("--rounds", type=int, default=2, help="analyze / import+process pairs, interleaved "
                                                              "(0: the profile only)")
    parser.add_argument("--no-profile", action="store_true", help="skip the in-process cProfile pass")
    parser.add_argument("--baseline", type=Path, default=None, help="also run this checkout's code, interleaved")
    parser.add_argument("--seed-into", default=None, help=argparse.SUPPRESS)  # URL: seed only (see BENCH_CODE)
    args = parser.parse_args()
    pack = load_jurisdiction("jiangbei")
    if args.seed_into:
        seed_incidents(args.seed_into, pack, args.incidents, 7)
        return
    posts = make_posts(pack, args.posts, 4)
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        export, texts = tmp / "export.jsonl", tmp / "texts.jsonl"
        with open(export, "w", encoding="utf-8") as out, open(texts, "w", encoding="utf-8") as text_out:
            for i, post in enumerate(posts):
                out.write(json.dumps(post, ensure_ascii=False) + "\n")
                text_out.write(json.dumps({"id": i, "text": post["text"]}, ensure_ascii=False) + "\n")
        print(f"{args.posts:,} posts, {args.incidents:,} open incidents in the store; {args.rounds} rounds")
        codes = [("this", ROOT)] + ([("baseline", args.baseline.resolve())] if args.baseline else [])
        ratios: dict[str, list[float]] = {label: [] for label, _ in codes}
        cpu_ratios: dict[str, list[float]] = {label: [] for label, _ in codes}
        for r in range(args.rounds):
            for label, code in codes if r % 2 == 0 else codes[::-1]:
                data = tmp / f"data-{label}-{r}"
                data.mkdir()
                url = f"sqlite:///{data}/ecowatch.db"
                if code == ROOT:
                    seed_incidents(url, pack, args.incidents, 7)
                else:  # seeded by that checkout's code, at its schema
                    subprocess.run([sys.executable, __file__, "--seed-into", url, "--incidents", str(args.incidents)],
                                   env={**os.environ, "BENCH_CODE": str(code)}, check=True)
                env = {**os.environ, "ECOWATCH_DATA_DIR": str(data)}
                analyze, analyze_cpu = run(["analyze"], env, texts, code)
                imported, imported_cpu = run(["import", str(export)], env, code=code)
                processed, processed_cpu = run(["process"], env, code=code)
                ratio = analyze / (imported + processed)
                ratios[label].append(ratio)
                cpu_ratios[label].append(analyze_cpu / (imported_cpu + processed_cpu))
                print(f"round {r + 1} {label}: analyze {analyze:.2f} s ({args.posts / analyze:,.0f} posts/s); "
                      f"import {imported:.2f} s + process {processed:.2f} s = {imported + processed:.2f} s "
                      f"({args.posts / (imported + processed):,.0f} posts/s); ratio {ratio:.2f}; CPU s: analyze "
                      f"{analyze_cpu:.2f}, import {imported_cpu:.2f}, process {processed_cpu:.2f}, ratio "
                      f"{cpu_ratios[label][-1]:.2f}", flush=True)
        for label, found in ratios.items():
            if not found:  # --rounds 0: the profile only
                continue
            print(f"{label}: ratio analyze / (import + process): {', '.join(f'{x:.2f}' for x in found)} "
                  f"(best {max(found):.2f}; target >= 0.5); on CPU time: "
                  f"{', '.join(f'{x:.2f}' for x in cpu_ratios[label])}")
        if args.rounds:
            rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
            print(f"peak RSS of a child process: {rss:.0f} MB")
        if not args.no_profile:
            profile(pack, posts, args.incidents, tmp)
            rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            print(f"peak RSS of the profiling process: {rss:.0f} MB")


if __name__ == "__main__":
    main()
