"""A small static server for the bundled demo sources, with date tokens filled at serve time.

Files under ``sources/`` carry ``{{now-3h}}`` style dates (minutes m, hours h, days d) and
``{{host}}``; they are replaced when served, so the demo always shows fresh posts. ``/feeds/live.xml``
is made on each request from ``sources/live/pool.tsv``: a new post every ``LIVE_EVERY`` after
its first request (the first crawl), so the console's feed moves during a presentation; every
fifth or so is severe (a tanker's spill, dead fish, smoke next to a school), so a 较大 or 重大
incident arrives now and then.
"""

from __future__ import annotations

import datetime as dt
import re
import threading
from functools import lru_cache, partial
from html import escape
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

from core.timeutil import SHANGHAI

SOURCES = Path(__file__).parent / "sources"
_TOKEN = re.compile(r"\{\{now-(\d+)([mhd])\}\}")
_UNITS = {"m": "minutes", "h": "hours", "d": "days"}
LIVE_PATH = "/feeds/live.xml"
LIVE_EVERY = dt.timedelta(seconds=90)
LIVE_AT_START = 1  # posts already there before start-up (one more comes at start-up): a trickle, not a pile
LIVE_SHOWN = 20  # the newest this many, as a real feed keeps its last items


def render(text: str, host: str, now: dt.datetime, rfc822: bool) -> str:
    """Fill the tokens of one file (RFC 822 dates in feeds, local ISO dates in pages)."""

    def date(m: re.Match[str]) -> str:
        when = (now - dt.timedelta(**{_UNITS[m.group(2)]: int(m.group(1))})).astimezone(SHANGHAI)
        return when.strftime("%a, %d %b %Y %H:%M:%S +0800") if rfc822 else when.strftime("%Y-%m-%d %H:%M")

    return _TOKEN.sub(date, text).replace("{{host}}", host)


@lru_cache(maxsize=1)
def live_pool() -> list[tuple[str, str, str]]:
    """(title, author, text) of every line of the live pool."""
    lines = (SOURCES / "live" / "pool.tsv").read_text(encoding="utf-8").splitlines()
    return [(t, a, x) for t, a, x in (line.split("\t") for line in lines if line and not line.startswith("#"))]


def live_feed(host: str, started: dt.datetime, now: dt.datetime) -> str:
    """The live feed as of ``now``: post k is published ``k * LIVE_EVERY`` after ``started`` (the
    first ones before it); round the pool again, each round by other residents."""
    pool = live_pool()
    last = LIVE_AT_START + int((now - started) / LIVE_EVERY)
    items = []
    for k in range(last, max(-1, last - LIVE_SHOWN), -1):
        title, author, text = pool[k % len(pool)]
        when = (started + (k - LIVE_AT_START) * LIVE_EVERY).astimezone(SHANGHAI)
        who = author if k < len(pool) else f"{author}{k // len(pool) + 1}"
        items.append(f"<item><title>{escape(title)}</title><link>http://{escape(host)}/live/{k}</link>"
                     f'<guid isPermaLink="false">demo-live-{k}</guid>'
                     f"<pubDate>{when:%a, %d %b %Y %H:%M:%S +0800}</pubDate><author>{escape(who)}</author>"
                     f"<description>{escape(text)}</description></item>")
    return ('<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>江北随手拍</title>'
            f"<link>http://{escape(host)}/</link><description>街坊随手拍，实时更新</description>{''.join(items)}"
            "</channel></rss>")


class _Handler(SimpleHTTPRequestHandler):
    # Per server (serve_demo_sources makes a subclass): the start time keeps the files' dates
    # stable across requests; the live feed's clock starts at its first request, so a month built
    # after the server started (a minute on a slow machine) piles no posts up before the first crawl.
    started: dt.datetime = dt.datetime.now(dt.UTC)
    live_since: ClassVar[list[dt.datetime]] = []

    def log_message(self, format: str, *args: object) -> None:
        return

    def do_GET(self) -> None:
        if self.path.split("?")[0] == LIVE_PATH:
            now = dt.datetime.now(dt.UTC)
            if not self.live_since:
                self.live_since.append(now)
            self._send(live_feed(self.headers.get("Host", "127.0.0.1"), self.live_since[0], now).encode(), "xml",
                       "utf-8")
            return
        path = Path(self.translate_path(self.path))
        if path.is_dir():
            path = path / "index.html"
        if not path.is_file() or path.suffix not in (".html", ".xml", ".txt"):
            super().do_GET()
            return
        data = path.read_bytes()
        gbk = b'encoding="gb2312"' in data[:100]
        text = data.decode("gb18030" if gbk else "utf-8")
        out = render(text, self.headers.get("Host", "127.0.0.1"), self.started, path.suffix == ".xml")
        self._send(out.encode("gb18030" if gbk else "utf-8"), path.suffix[1:], "gb2312" if gbk else "utf-8")

    def _send(self, body: bytes, kind: str, charset: str) -> None:
        self.send_response(200)
        ctype = "application/rss+xml" if kind == "xml" else "text/html"
        self.send_header("Content-Type", f"{ctype}; charset={charset}")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def serve_demo_sources(host: str = "127.0.0.1", port: int = 0) -> tuple[ThreadingHTTPServer, str]:
    """Start the demo source server in a daemon thread; returns it and its base URL."""
    own = type("DemoHandler", (_Handler,), {"started": dt.datetime.now(dt.UTC), "live_since": []})
    handler = partial(own, directory=str(SOURCES))
    server = ThreadingHTTPServer((host, port), handler)
    threading.Thread(target=server.serve_forever, name="demo-sources", daemon=True).start()
    return server, f"http://{host}:{server.server_address[1]}"
