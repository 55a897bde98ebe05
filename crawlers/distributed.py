"""Distributed site crawls: several crawler processes, on several hosts, share one run's queue.

The engine is scrapy-redis (not a queue of our own): with ``ECOWATCH_REDIS_URL`` set, a site
crawl uses its Redis scheduler and its Redis dupefilter, under keys per source AND per run::

    ecowatch:<source>:current                  the run id workers join (expires with the time limit)
    ecowatch:<source>:<run_id>:requests        the shared request queue (scrapy-redis priority queue)
    ecowatch:<source>:<run_id>:dupefilter      fingerprints of every request of the run
    ecowatch:<source>:<run_id>:busy:<worker>   "this worker still has pages in flight" (short TTL)

So within a run no request (article or list page) is fetched twice, whichever host pops it; the
next run gets a new id, hence an empty dupefilter, and fetches the list pages again (articles
already stored are still skipped by SeenUrlsMiddleware). The run's keys are deleted by whoever
ends it (the scheduling host after its crawl, or the last worker to leave) and carry a TTL in any
case, so a crashed run leaves nothing behind for long.

Without a Redis URL nothing here is used: ``distributed_settings`` returns no settings and
``RunCoordinator`` (crawlers/extensions/run_coordinator.py) raises NotConfigured, Scrapy's way
of switching a component off. This module does not import Scrapy: the scheduling process uses it.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from typing import Any

DISTRIBUTED_KINDS = ("site",)  # list → detail crawls; API spiders page with state kept in the spider
KEY_PREFIX = "ecowatch"
RUN_TTL_SECONDS = 6 * 3600  # a safety net: keys of a run nobody ended expire on their own
IDLE_POLL_SECONDS = 0.5  # how soon an idle worker looks at the shared queue again
BUSY_TTL_SECONDS = 120  # a worker that died with pages in flight stops holding the others after this


def redis_client(redis_url: str) -> Any:
    """A Redis client (strings decoded) for ``redis_url``."""
    import redis  # optional dependency: only needed when ECOWATCH_REDIS_URL is set

    return redis.Redis.from_url(redis_url, decode_responses=True)


def run_prefix(source: str, run_id: str) -> str:
    """The key prefix of one run of one source."""
    return f"{KEY_PREFIX}:{source}:{run_id}"


def current_key(source: str) -> str:
    """The key holding the id of a source's current run."""
    return f"{KEY_PREFIX}:{source}:current"


def start_run(redis_url: str, source: str, ttl_seconds: int = RUN_TTL_SECONDS) -> str:
    """Open a new run of ``source``: a fresh id (UTC time + random), published as the current run
    for ``ttl_seconds`` so workers on other hosts can join it. Returns the id."""
    run_id = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ") + "-" + secrets.token_hex(3)
    redis_client(redis_url).set(current_key(source), run_id, ex=max(1, ttl_seconds))
    return run_id


def current_run(redis_url: str, source: str) -> str | None:
    """The id of the source's run in progress, or None."""
    return redis_client(redis_url).get(current_key(source))


def end_run(redis_url: str, source: str, run_id: str) -> int:
    """Delete every key of the run and unpublish it if it is still the current one; returns how
    many keys were deleted. Idempotent."""
    client = redis_client(redis_url)
    keys = list(client.scan_iter(match=glob_escape(run_prefix(source, run_id)) + ":*"))
    deleted = client.delete(*keys) if keys else 0
    # Only clear "current" when it still names this run: a newer run may have started meanwhile.
    with client.pipeline() as pipe:
        try:
            pipe.watch(current_key(source))
            if pipe.get(current_key(source)) == run_id:
                pipe.multi()
                pipe.delete(current_key(source))
                pipe.execute()
        except Exception:  # WatchError: changed under us, i.e. not ours to clear any more
            pass
    return int(deleted)


def glob_escape(text: str) -> str:
    """``text`` with SCAN/KEYS glob characters escaped."""
    return "".join("\\" + c if c in "*?[]\\" else c for c in text)


def distributed_settings(redis_url: str | None, source: dict[str, Any], run_id: str | None) -> dict[str, Any]:
    """Scrapy settings that put a crawl on scrapy-redis's shared scheduler and dupefilter, or
    ``{}`` (a one-host crawl) without a Redis URL, a run id, or for a kind not distributed."""
    if not redis_url or not run_id or source.get("kind", "site") not in DISTRIBUTED_KINDS:
        return {}
    # scrapy-redis formats its keys with %(spider)s: a literal % in a source name must be doubled.
    prefix = run_prefix(source["name"], run_id).replace("%", "%%")
    return {
        "SCHEDULER": "scrapy_redis.scheduler.Scheduler",
        "DUPEFILTER_CLASS": "scrapy_redis.dupefilter.RFPDupeFilter",
        "REDIS_URL": redis_url,
        "SCHEDULER_QUEUE_KEY": f"{prefix}:requests",
        "SCHEDULER_DUPEFILTER_KEY": f"{prefix}:dupefilter",
        # Keep the queue when this worker closes: others may still be feeding and draining it.
        # The run's keys are removed by end_run (and expire anyway).
        "SCHEDULER_PERSIST": True,
        "SCHEDULER_FLUSH_ON_START": False,
        "EXTENSIONS": {"crawlers.extensions.run_coordinator.RunCoordinator": 500},
        "ECOWATCH_REDIS_URL": redis_url,
        "ECOWATCH_RUN_PREFIX": run_prefix(source["name"], run_id),
        "ECOWATCH_RUN_ID": run_id,
    }
