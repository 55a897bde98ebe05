"""Shared fixtures: real loopback HTTP servers, a real SQLite store, a shared analyser."""

from __future__ import annotations

import socket
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from elasticsearch import Elasticsearch

from core.jurisdiction import load_jurisdiction
from core.settings import Settings
from nlp.analyzer import Analyzer
from storage.es_posts import EsPostIndex
from storage.sql import SqlStore, open_store

FIXTURES = Path(__file__).parent / "fixtures"
# The api_server's token key, so tests can make (and forge expired) tokens without logging in.
TEST_SECRET = "test-secret-not-for-production-0123456789"


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        return


@pytest.fixture
def static_server(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """A real HTTP server on 127.0.0.1 serving a temporary folder; yields (base URL, folder)."""
    root = tmp_path / "www"
    root.mkdir()
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(_QuietHandler, directory=str(root)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", root
    server.shutdown()
    server.server_close()


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Settings pointing at a fresh data folder."""
    s = Settings(data_dir=tmp_path / "data", fetch_timeout_seconds=3.0)
    s.ensure_dirs()
    return s


@pytest.fixture
def store(settings: Settings) -> Iterator[SqlStore]:
    """A real SQLite store in the temporary data folder."""
    st = open_store(settings.sqlalchemy_url, settings.snapshot_dir)
    yield st
    st.dispose()


@pytest.fixture(scope="session")
def analyzer() -> Analyzer:
    """One analyser for the whole run (jieba loads once)."""
    return Analyzer(load_jurisdiction("jiangbei"))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until_answering(base: str, tries: int = 100) -> None:
    """Wait until the server at ``base`` answers HTTP (whatever the status)."""
    for _ in range(tries):
        try:
            httpx.get(base + "/healthz", timeout=0.5)
            return
        except httpx.HTTPError:
            time.sleep(0.05)


@contextmanager
def serving(app: Any) -> Iterator[str]:
    """``app`` under uvicorn on a free 127.0.0.1 port, in a thread; yields its base URL."""
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{port}"
    wait_until_answering(base)
    try:
        yield base
    finally:
        server.should_exit = True
        thread.join(timeout=5)


@pytest.fixture
def api_server(store: SqlStore) -> Iterator[str]:
    """The real FastAPI app under uvicorn on 127.0.0.1; yields its base URL."""
    from dashboard_api import create_app

    with serving(create_app(store, load_jurisdiction("jiangbei"), secret_key=TEST_SECRET, login_attempts=5,
                            login_window_seconds=60)) as base:
        yield base


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    """A PostgreSQL server for the run: ECOWATCH_TEST_PG_URL, else a throwaway cluster started here."""
    import os

    from tests.services.postgres import find_bin_dir, running_postgres

    if os.environ.get("ECOWATCH_TEST_PG_URL"):
        yield os.environ["ECOWATCH_TEST_PG_URL"]
        return
    if find_bin_dir() is None:
        if os.environ.get("CI"):
            pytest.fail("PostgreSQL is not installed: .ci/run must install it")
        pytest.skip("PostgreSQL is not installed on this machine (apt-get install postgresql)")
    with running_postgres() as url:
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def sql_store(request: pytest.FixtureRequest, settings: Settings) -> Iterator[SqlStore]:
    """The same store on real SQLite and on real PostgreSQL (a fresh database per test)."""
    if request.param == "sqlite":
        st = open_store(settings.sqlalchemy_url, settings.snapshot_dir)
        yield st
        st.dispose()
        return
    import uuid

    import sqlalchemy as sa

    server = request.getfixturevalue("pg_url")
    name = "t_" + uuid.uuid4().hex[:12]
    admin = sa.create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f"CREATE DATABASE {name}")
    st = open_store(server.rsplit("/", 1)[0] + "/" + name, settings.snapshot_dir)
    yield st
    st.dispose()
    with admin.connect() as conn:
        conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    admin.dispose()


@pytest.fixture(scope="session")
def es_target() -> Iterator[tuple[str, dict]]:
    """(URL, client options) of Elasticsearch: ES_URL when set (a real server), else the osmem-server
    emulator started here. The run's output says which one the tests used."""
    import os

    if os.environ.get("ES_URL"):
        print(f"\n[elasticsearch] real server at {os.environ['ES_URL']}")
        yield os.environ["ES_URL"], {}
        return
    from osmem_server import OsmemServer

    from tests.services.elasticsearch import CompatRewritingNode

    with OsmemServer.start() as server:
        print(f"\n[elasticsearch] osmem-server emulator {server.version} at {server.url}")
        yield server.url, {"node_class": CompatRewritingNode}


@pytest.fixture
def index(es_target: tuple[str, dict]) -> EsPostIndex:
    """An empty post index of its own (a fresh name prefix) on the run's Elasticsearch, its
    template in place: each test writes and searches without seeing another's posts."""
    url, options = es_target
    idx = EsPostIndex(Elasticsearch(url, **options), prefix=f"t{uuid.uuid4().hex[:10]}")
    idx.ensure_template()
    return idx


def pytest_report_header(config: pytest.Config) -> list[str]:
    """Say which Elasticsearch and PostgreSQL the run uses."""
    import os

    es = f"real server at {os.environ['ES_URL']}" if os.environ.get("ES_URL") else \
        "osmem-server emulator (set ES_URL to use a real server)"
    pg = os.environ.get("ECOWATCH_TEST_PG_URL") or "a throwaway cluster started by the tests"
    return [f"elasticsearch: {es}", f"postgresql: {pg}"]
