"""What counting an incident's velocity costs as the incident grows.

    .venv/bin/python bench/velocity.py [--posts 100000] [--repeat 20]

The detection pass counts an incident's posts of the last hour (its velocity, a grading input)
once per group of posts for every incident the group feeds (``Tx.incident_post_count_between``).
This links ``--posts`` posts, published over the last two hours, to one incident (bench/burst.py's
viral event ends with ~88,000), and times the count as the store takes it now (a range of
``ix_incident_posts_incident_posted`` over each link's ``posted_at``) against the statement it
replaced (a join reading every post of the incident for its time), same database, interleaved.
Prints the milliseconds of each (median of ``--repeat``) and checks they count the same.
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import bindparam, func, select

from core.models import Grade, Incident, PostRole, RawPost, State
from core.timeutil import utcnow
from storage.schema import incident_posts, raw_posts
from storage.sql import open_store

_post_time = func.coalesce(raw_posts.c.published_at, raw_posts.c.fetched_at)
# The count before revision 0020_pipe4.
_JOINED = (select(func.count()).select_from(incident_posts.join(raw_posts, raw_posts.c.id == incident_posts.c.post_id))
           .where(incident_posts.c.incident_id == bindparam("b_id"), _post_time >= bindparam("b_since"),
                  _post_time <= bindparam("b_until")))


def main() -> None:
    """Build the incident, time both counts, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    now = utcnow()
    with tempfile.TemporaryDirectory() as tmp:
        store = open_store(f"sqlite:///{tmp}/velocity.db")
        with store.begin() as tx:
            incident_id = tx.insert_incident(Incident(
                title="burst", unit="鱼嘴镇", unit_code="500105100000", topic="air", grade=Grade.BLUE,
                state=State.ASSIGNED, opened_at=now, updated_at=now))
        for start in range(0, args.posts, 5000):
            with store.begin() as tx:
                added = tx.add_posts([RawPost(source="weibo", text=f"鱼嘴化工厂着火了，黑烟好大 {i}", author=f"u{i}",
                                              url=f"https://burst.example/{i}",
                                              published_at=now - dt.timedelta(seconds=7200 * i / args.posts))
                                      for i in range(start, min(start + 5000, args.posts))], now=now)
                tx.attach_posts([(incident_id, p, now, PostRole.REPORT) for p in added.new_ids or []])
        params = {"b_id": incident_id, "b_since": now - dt.timedelta(hours=1), "b_until": now}
        took: dict[str, list[float]] = {"index (now)": [], "join (before)": []}
        counts: dict[str, int] = {}
        with store.read() as tx:
            for _ in range(args.repeat):
                for label in took:
                    t = time.perf_counter()
                    if label == "index (now)":
                        counts[label] = tx.incident_post_count_between(incident_id, params["b_since"], now)
                    else:
                        counts[label] = int(tx.conn.execute(_JOINED, params).scalar_one())
                    took[label].append(1000 * (time.perf_counter() - t))
        store.dispose()
    assert len(set(counts.values())) == 1, counts
    print(f"one incident of {args.posts:,} posts, {counts['index (now)']:,} of them in the last hour; "
          f"median of {args.repeat}:")
    for label, times in took.items():
        print(f"  {label:<14} {statistics.median(times):8.1f} ms")


if __name__ == "__main__":
    main()
