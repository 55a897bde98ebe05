"""The demo month for tests: built once a session into a fresh demo folder and served by the API
on a loopback port (tests/test_demo_month.py, tests/test_demo_browser.py). Kept here, in a helper
module both import the same way, so the two test modules share one build: pytest keeps a fixture
imported into another test module apart from the original, and a test module can be imported
twice under two names."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from core.jurisdiction import load_jurisdiction
from core.settings import Settings
from core.timeutil import utcnow
from ecowatch import context
from ecowatch.commands_users import DEMO_PASSWORD, seed_demo_users
from ecowatch.demo.month import MonthReport, build_demo_month
from nlp.analyzer import Analyzer
from storage.sql import SqlStore, open_store
from tests.api_seed import login
from tests.conftest import TEST_SECRET, serving


@dataclass
class Demo:
    base: str
    auth: dict[str, str]
    store: SqlStore
    data_dir: Path
    report: MonthReport


# The month, built once a session (its SQLite file goes with the session's temporary folder).
_BUILT: list[tuple[SqlStore, Path, MonthReport]] = []


def _month(tmp_path_factory: pytest.TempPathFactory, analyzer: Analyzer) -> tuple[SqlStore, Path, MonthReport]:
    if not _BUILT:
        settings = Settings(data_dir=tmp_path_factory.mktemp("demo"))
        settings.ensure_dirs()
        store = open_store(settings.sqlalchemy_url, settings.snapshot_dir)
        seed_demo_users(store, load_jurisdiction("jiangbei"))
        report = build_demo_month(store, lambda: analyzer, context.alerts_config(settings), settings.data_dir,
                                  utcnow())
        assert report is not None
        _BUILT.append((store, settings.data_dir, report))
    return _BUILT[0]


@pytest.fixture(scope="session")
def demo(tmp_path_factory: pytest.TempPathFactory, analyzer: Analyzer) -> Iterator[Demo]:
    """The month built into a fresh demo folder, and the API serving it on a loopback port; the
    demo's leader is logged in."""
    from dashboard_api import create_app

    store, data_dir, report = _month(tmp_path_factory, analyzer)
    with serving(create_app(store, load_jurisdiction("jiangbei"), secret_key=TEST_SECRET)) as base:
        yield Demo(base, login(base, "leader", DEMO_PASSWORD), store, data_dir, report)


