"""Imports run one way: collection → analysis → alerts → serving; only the CLI imports the API."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
WEB_AND_CRAWL = {"fastapi", "starlette", "uvicorn", "scrapy", "twisted", "apscheduler", "httpx", "feedparser",
                 "scrapy_redis", "redis"}

# package → top-level names it must never import
FORBIDDEN = {
    "core": WEB_AND_CRAWL | {"storage", "crawlers", "nlp", "alerts", "dashboard_api", "ecowatch"},
    "nlp": WEB_AND_CRAWL | {"crawlers", "dashboard_api", "ecowatch", "storage", "alerts", "sqlalchemy"},
    "storage": WEB_AND_CRAWL | {"crawlers", "nlp", "alerts", "dashboard_api", "ecowatch", "jieba"},
    "crawlers": {"fastapi", "uvicorn", "apscheduler", "nlp", "alerts", "dashboard_api", "ecowatch"},
    "alerts": {"fastapi", "starlette", "uvicorn", "scrapy", "twisted", "apscheduler", "crawlers",
               "dashboard_api", "ecowatch", "scrapy_redis"},
    "dashboard_api": {"scrapy", "twisted", "apscheduler", "crawlers", "ecowatch", "scrapy_redis"},
    # The briefing reads the store and the workflow's rules; it never collects, serves or schedules.
    "briefing": WEB_AND_CRAWL | {"crawlers", "dashboard_api", "ecowatch", "nlp"},
}
# Modules of briefing/ that compute from records handed to them, never from the store.
PURE_BRIEFING = ["period.py", "figures.py", "summary.py", "coverage.py", "handling.py"]
# The pure rule modules of alerts/ may not touch the store either.
PURE_ALERT_RULES = ["rules.py", "deadlines.py", "workdays.py", "grading.py", "grouping.py", "workflow.py",
                    "escalation.py", "notify_rules.py"]


def imported_roots(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    roots: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            roots.add(node.module.split(".")[0])
    return roots


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_package_imports_run_one_way(package):
    offenders = []
    for path in sorted((ROOT / package).rglob("*.py")):
        bad = imported_roots(path) & FORBIDDEN[package]
        if bad:
            offenders.append(f"{path.relative_to(ROOT)} imports {sorted(bad)}")
    assert not offenders, "\n".join(offenders)


@pytest.mark.parametrize("module", PURE_ALERT_RULES)
def test_alert_rules_are_pure(module):
    bad = imported_roots(ROOT / "alerts" / module) & {"storage", "sqlalchemy", "httpx", "smtplib"}
    assert not bad


@pytest.mark.parametrize("module", PURE_BRIEFING)
def test_briefing_figures_are_pure(module):
    bad = imported_roots(ROOT / "briefing" / module) & {"storage", "sqlalchemy", "matplotlib", "docx"}
    assert not bad


def test_only_the_cli_imports_dashboard_api():
    offenders = [str(p.relative_to(ROOT)) for package in ("core", "storage", "crawlers", "nlp", "alerts", "briefing")
                 for p in (ROOT / package).rglob("*.py") if "dashboard_api" in imported_roots(p)]
    assert not offenders


def test_crawler_parsers_are_pure():
    # Parsers turn bytes (and ``now``) into items: no network, no Scrapy reactor, no store.
    offenders = [str(p.relative_to(ROOT)) for p in (ROOT / "crawlers" / "parsers").rglob("*.py")
                 if imported_roots(p) & {"scrapy", "twisted", "httpx", "storage", "sqlalchemy"}]
    assert not offenders


def test_source_health_is_pure():
    assert not imported_roots(ROOT / "core" / "source_health.py") - {"__future__", "datetime", "dataclasses", "typing"}
