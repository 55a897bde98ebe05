"""Distributed site crawls on scrapy-redis against a REAL redis-server on 127.0.0.1: two crawler
processes of one run (the scheduling host's `collect` and an `ecowatch crawl-worker`) share one
queue over a ~200-article loopback site; every article is fetched and stored exactly once, both
did part of the work, the run's keys are gone afterwards, and the next run lists the site again."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from sqlalchemy import func, select

from core.settings import Settings
from crawlers.collect import collect
from crawlers.distributed import current_run, distributed_settings, end_run, start_run
from crawlers.extensions.run_coordinator import RunCoordinator
from crawlers.sources import Source
from storage.schema import raw_posts
from tests.fixture_sites import gov_article_html, serve_fixture_sites
from tests.services.redis_server import find_redis_server, running_redis

ROOT = Path(__file__).resolve().parents[1]
PAGES, PER_PAGE = 10, 20  # 200 articles over 10 list pages
ARTICLE_DELAY = 0.08  # seconds: slow enough that one worker cannot finish before the other joins
RULES = {"delay_seconds": 0, "autothrottle": False, "concurrency": 4, "retry_backoff_seconds": 0.2,
         "link": "ul.list a::attr(href)", "next": "a.next::attr(href)", "max_pages": PAGES,
         "title": "h1.detail-title::text", "body": "div.detail-content p::text", "date": "span.time::text"}


@pytest.fixture(scope="module")
def redis_url() -> Iterator[str]:
    """A real redis-server for this module; skipped when absent here, a failure under CI."""
    if find_redis_server() is None:
        if os.environ.get("CI"):
            pytest.fail("redis-server is not installed: .ci/run must install it")
        pytest.skip("redis-server is not installed on this machine (apt-get install redis-server)")
    with running_redis() as url:
        yield url


class _Many(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    hits: list[tuple[str, str]]

    def log_message(self, *args: object) -> None:
        return

    def do_GET(self) -> None:
        self.server.hits.append((self.path, self.headers.get("User-Agent", "")))  # type: ignore[attr-defined]
        if self.path == "/robots.txt":
            body, status = "User-agent: *\nDisallow: /private/\n", 200
        elif self.path.startswith("/many/list_"):
            page = int(self.path.removeprefix("/many/list_").removesuffix(".html"))
            first = (page - 1) * PER_PAGE + 1
            items = "".join(f'<li><a href="/many/art/{n}.html">第{n}篇</a></li>'
                            for n in range(first, first + PER_PAGE))
            nxt = f'<a class="next" href="list_{page + 1}.html">下一页</a>' if page < PAGES else ""
            body, status = f'<html><body><ul class="list">{items}</ul>{nxt}</body></html>', 200
        elif self.path.startswith("/many/art/"):
            n = int(self.path.removeprefix("/many/art/").removesuffix(".html"))
            time.sleep(ARTICLE_DELAY)
            body = gov_article_html(n, f"江北区第{n}号环境信访件办理情况", "2026-11-20 09:30",
                                    f"第{n}号信访件反映的石马河异味问题，已由属地街道核查处理。")
            status = 200
        else:
            body, status = "not found", 404
        data = body.encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


@pytest.fixture
def many_site() -> Iterator[tuple[str, list[tuple[str, str]]]]:
    """A loopback site of 200 articles on 10 chained list pages; yields (base URL, request log)."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Many)
    server.daemon_threads = True
    server.hits = []  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", server.hits  # type: ignore[attr-defined]
    server.shutdown()
    server.server_close()


def _stored(store, source: str) -> tuple[int, int]:
    with store.read() as tx:
        row = tx.conn.execute(select(func.count(), func.count(raw_posts.c.url.distinct()))
                              .where(raw_posts.c.source == source)).one()
    return int(row[0]), int(row[1])


def _run_keys(redis_url: str, source: str) -> list[str]:
    import redis

    return sorted(redis.Redis.from_url(redis_url, decode_responses=True).scan_iter(match=f"ecowatch:{source}:*"))


def test_two_workers_share_one_run_and_the_next_run_lists_again(redis_url, many_site, settings, store, tmp_path):
    base, hits = many_site
    name = "江北信访"
    sources_file = tmp_path / "sources.toml"
    sources_file.write_text(f'[[source]]\nname = "{name}"\nkind = "site"\nurl = "{base}/many/list_1.html"\n'
                            'allow_private = true\n'
                            f"[source.rules]\n" + "".join(f"{k} = {v!r}\n".replace("'", '"') if isinstance(v, str)
                                                          else f"{k} = {str(v).lower()}\n" if isinstance(v, bool)
                                                          else f"{k} = {v}\n" for k, v in RULES.items()),
                            encoding="utf-8")
    coordinator = Settings(**{**settings.model_dump(), "redis_url": redis_url, "sources_file": sources_file,
                              "user_agent": "ecowatch-test/host-a"})
    source = Source(name, "site", f"{base}/many/list_1.html", rules=RULES, allow_private=True)
    env = dict(os.environ, ECOWATCH_REDIS_URL=redis_url, ECOWATCH_DATABASE_URL=coordinator.sqlalchemy_url,
               ECOWATCH_DATA_DIR=str(coordinator.data_dir), ECOWATCH_SOURCES_FILE=str(sources_file),
               ECOWATCH_FETCH_TIMEOUT_SECONDS="5", ECOWATCH_USER_AGENT="ecowatch-test/host-b")
    # Host B's worker waits for host A's scheduled run to start, then joins it.
    worker = subprocess.Popen([sys.executable, "-m", "ecowatch.cli", "crawl-worker", name, "--wait", "60"],
                              cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        report = collect(source, store, coordinator)
        _out, err = worker.communicate(timeout=120)
    finally:
        worker.kill()
    assert worker.returncode == 0, err[-2000:]
    assert report.ok, report

    articles = Counter(path for path, _ in hits if path.startswith("/many/art/"))
    assert len(articles) == PAGES * PER_PAGE  # every article fetched...
    assert max(articles.values()) == 1, articles.most_common(3)  # ...exactly once across both hosts
    assert _stored(store, name) == (PAGES * PER_PAGE, PAGES * PER_PAGE)  # stored once each
    by_host = Counter(ua.rsplit("/", 1)[-1] for path, ua in hits if path.startswith("/many/art/"))
    assert by_host["host-a"] > 0 and by_host["host-b"] > 0, by_host  # both did part of the work
    assert by_host["host-a"] + by_host["host-b"] == PAGES * PER_PAGE
    lists = Counter(path for path, _ in hits if path.startswith("/many/list_"))
    assert len(lists) == PAGES and max(lists.values()) == 1  # list pages: once per run, too
    assert _run_keys(redis_url, name) == []  # the run's queue, dupefilter and pointer are gone

    # The next scheduled run starts fresh: list pages fetched again, stored articles skipped.
    again = collect(source, store, coordinator)
    assert again.ok and again.new == 0 and again.skipped_seen == PAGES * PER_PAGE, again
    lists = Counter(path for path, _ in hits if path.startswith("/many/list_"))
    assert len(lists) == PAGES and set(lists.values()) == {2}
    assert sum(1 for path, _ in hits if path.startswith("/many/art/")) == PAGES * PER_PAGE
    assert _run_keys(redis_url, name) == []


def test_off_without_redis_url():
    """No Redis URL, no run id or a non-site kind: a one-host crawl; the extension is NotConfigured."""
    from scrapy.exceptions import NotConfigured
    from scrapy.utils.test import get_crawler

    site = {"name": "s", "kind": "site"}
    assert distributed_settings(None, site, "r1") == {}
    assert distributed_settings("redis://127.0.0.1:1/0", site, None) == {}
    assert distributed_settings("redis://127.0.0.1:1/0", {"name": "w", "kind": "weibo"}, "r1") == {}
    on = distributed_settings("redis://127.0.0.1:1/0", {"name": "a%b", "kind": "site"}, "r1")
    assert on["SCHEDULER"] == "scrapy_redis.scheduler.Scheduler"
    assert on["SCHEDULER_QUEUE_KEY"] == "ecowatch:a%%b:r1:requests"  # scrapy-redis %-formats its keys
    with pytest.raises(NotConfigured):
        RunCoordinator.from_crawler(get_crawler())


def test_runs_are_published_and_ended(redis_url):
    first = start_run(redis_url, "源")
    assert current_run(redis_url, "源") == first
    second = start_run(redis_url, "源")
    end_run(redis_url, "源", first)  # an older run ending leaves the newer one published
    assert current_run(redis_url, "源") == second
    end_run(redis_url, "源", second)
    assert current_run(redis_url, "源") is None and _run_keys(redis_url, "源") == []


def test_unreachable_redis_crawls_on_this_host_and_says_so(settings, store):
    import socket

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        dead = f"redis://127.0.0.1:{s.getsockname()[1]}/0"
    with serve_fixture_sites() as (base, _app):
        rules = {**{k: v for k, v in RULES.items() if k != "max_pages"}, "max_pages": 3}
        report = collect(Source("江北区政府", "site", f"{base}/gov/list.html", rules=rules, allow_private=True), store,
                         Settings(**{**settings.model_dump(), "redis_url": dead}))
    assert report.new == 4, report  # nothing lost for want of Redis
    assert "distributed crawling unavailable" in (report.error or "")


def test_crawl_worker_without_a_run_exits_1(redis_url, tmp_path):
    sources_file = tmp_path / "sources.toml"
    sources_file.write_text('[[source]]\nname = "x"\nkind = "site"\nurl = "http://127.0.0.1:1/"\n', encoding="utf-8")
    env = dict(os.environ, ECOWATCH_REDIS_URL=redis_url, ECOWATCH_DATA_DIR=str(tmp_path / "d"),
               ECOWATCH_SOURCES_FILE=str(sources_file))
    proc = subprocess.run([sys.executable, "-m", "ecowatch.cli", "crawl-worker", "x"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 1 and "no run of 'x' in progress" in proc.stderr
    env.pop("ECOWATCH_REDIS_URL")
    proc = subprocess.run([sys.executable, "-m", "ecowatch.cli", "crawl-worker", "x"], cwd=ROOT,
                          env={k: v for k, v in env.items() if k != "ECOWATCH_REDIS_URL"},
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2 and "ECOWATCH_REDIS_URL" in proc.stderr
