"""A loopback HTTP server answering from a table of routes, logging every path it is asked for:
enough to serve the feed corpus and the address-policy probes (a robots.txt, redirects to other
ports and schemes, odd headers). Port 0, so parallel runs never clash."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Answer:
    """What one route answers."""

    body: bytes = b""
    status: int = 200
    headers: dict[str, str] = field(default_factory=lambda: {"Content-Type": "application/rss+xml"})


Route = Answer | Callable[[BaseHTTPRequestHandler], Answer]


@dataclass
class RouteServer:
    """The running server: its base URL, routes (editable while it runs) and the paths asked for."""

    base: str
    routes: dict[str, Route]
    hits: list[str] = field(default_factory=list)

    def count(self, path: str) -> int:
        """How many requests asked for ``path``."""
        return self.hits.count(path)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args: object) -> None:
        return

    def do_GET(self) -> None:
        app: RouteServer = self.server.app  # type: ignore[attr-defined]
        app.hits.append(self.path)
        route = app.routes.get(self.path.split("?")[0])
        answer = route(self) if callable(route) else route or Answer(b"not found", 404, {"Content-Type": "text/plain"})
        self.send_response(answer.status)
        for key, value in answer.headers.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(answer.body)))
        self.end_headers()
        self.wfile.write(answer.body)


@contextmanager
def serve_routes(routes: dict[str, Route] | None = None) -> Iterator[RouteServer]:
    """Serve ``routes`` on 127.0.0.1 (a path without a route answers 404, robots.txt included)."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.daemon_threads = True
    app = RouteServer(f"http://127.0.0.1:{server.server_address[1]}", dict(routes or {}))
    server.app = app  # type: ignore[attr-defined]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield app
    finally:
        server.shutdown()
        server.server_close()
