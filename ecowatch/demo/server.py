"""A small static server for the bundled demo sources, with date tokens filled at serve time.

Files under ``sources/`` carry ``{{now-3h}}`` style dates (minutes m, hours h, days d) and
``{{host}}``; they are replaced when served, so the demo always shows fresh posts.
"""

from __future__ import annotations

import datetime as dt
import re
import threading
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from core.timeutil import SHANGHAI

SOURCES = Path(__file__).parent / "sources"
_TOKEN = re.compile(r"\{\{now-(\d+)([mhd])\}\}")
_UNITS = {"m": "minutes", "h": "hours", "d": "days"}


def render(text: str, host: str, now: dt.datetime, rfc822: bool) -> str:
    """Fill the tokens of one file (RFC 822 dates in feeds, local ISO dates in pages)."""

    def date(m: re.Match[str]) -> str:
        when = (now - dt.timedelta(**{_UNITS[m.group(2)]: int(m.group(1))})).astimezone(SHANGHAI)
        return when.strftime("%a, %d %b %Y %H:%M:%S +0800") if rfc822 else when.strftime("%Y-%m-%d %H:%M")

    return _TOKEN.sub(date, text).replace("{{host}}", host)


class _Handler(SimpleHTTPRequestHandler):
    # Set per server by partial(); the start time keeps dates stable across requests.
    started: dt.datetime = dt.datetime.now(dt.UTC)

    def log_message(self, format: str, *args: object) -> None:
        return

    def do_GET(self) -> None:
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
        body = out.encode("gb18030" if gbk else "utf-8")
        self.send_response(200)
        ctype = "application/rss+xml" if path.suffix == ".xml" else "text/html"
        self.send_header("Content-Type", f"{ctype}; charset={'gb2312' if gbk else 'utf-8'}")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def serve_demo_sources(host: str = "127.0.0.1", port: int = 0) -> tuple[ThreadingHTTPServer, str]:
    """Start the demo source server in a daemon thread; returns it and its base URL."""
    handler = partial(_Handler, directory=str(SOURCES))
    server = ThreadingHTTPServer((host, port), handler)
    threading.Thread(target=server.serve_forever, name="demo-sources", daemon=True).start()
    return server, f"http://{host}:{server.server_address[1]}"
