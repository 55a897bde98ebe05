"""A very large feed (100,000 items by default) on 127.0.0.1, collected run after run through
the production feed collection with the per-run item cap: prints each run's seconds and how
many items it stored, and the time of one run with the cap raised above the feed's size.

    .venv/bin/python bench/feed_items.py [--items 100000] [--cap 1000] [--runs 3]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> None:
    """Serve the feed, collect it ``--runs`` times with ``--cap``, then once uncapped."""
    from core.settings import Settings
    from crawlers.collect import collect
    from crawlers.sources import Source
    from storage.sql import open_store
    from tests.route_server import Answer, serve_routes

    parser = argparse.ArgumentParser()
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--cap", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    # Short items, so 100,000 stay under the reader's 10 MB cap (relative links, resolved).
    items = "".join(f"<item><title>第{i}条</title><link>/n/{i}</link></item>" for i in range(args.items))
    body = f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>n</title>{items}</channel></rss>'
    print(f"feed: {args.items} items, {len(body.encode()) / 1e6:.1f} MB")
    with tempfile.TemporaryDirectory() as tmp, serve_routes({"/feed.xml": Answer(body.encode())}) as site:
        for cap, runs, name in ((args.cap, args.runs, "capped"), (args.items + 1, 1, "uncapped")):
            settings = Settings(data_dir=Path(tmp) / name)
            settings.ensure_dirs()
            store = open_store(settings.sqlalchemy_url, settings.snapshot_dir)
            source = Source(name, "rss", f"{site.base}/feed.xml", allow_private=True, rules={"max_items": cap})
            for run in range(runs):
                started = time.perf_counter()
                report = collect(source, store, settings)
                print(f"{name} run {run + 1}: {time.perf_counter() - started:.1f} s, ok={report.ok}, "
                      f"new={report.new}, error={report.error}")
            store.dispose()


if __name__ == "__main__":
    main()
