"""Health of the service and of the sources."""

from __future__ import annotations

from fastapi import APIRouter

from core.source_health import assess
from core.timeutil import utcnow
from dashboard_api.deps import ExpectedHoursDep, OverviewDep, StoreDep
from dashboard_api.errors import ERRORS
from dashboard_api.schemas import HealthPublic, SourceHealthPublic

router = APIRouter(tags=["system"])


@router.get("/healthz", response_model=HealthPublic)
def healthz(store: StoreDep) -> HealthPublic:
    """Liveness: the store answers."""
    with store.read() as tx:
        posts = tx.count_posts()
    return HealthPublic(status="ok", posts=posts, database=store.engine.dialect.name)


@router.get("/api/sources", response_model=list[SourceHealthPublic], responses=ERRORS)
def sources(_user: OverviewDep, store: StoreDep, expected: ExpectedHoursDep) -> list[SourceHealthPublic]:
    """Per source and keyword: last run, last success, last error in plain words, items per run,
    and blind (errors, login expired, HTTP 403/418, nothing for longer than expected) with why."""
    with store.read() as tx:
        runs = tx.source_runs(limit=5000)
    by_source: dict[str, list[dict]] = {name: [] for name in expected}  # configured but never run: blind
    for run in runs:
        by_source.setdefault(run["source"], []).append(run)
    now = utcnow()
    return [SourceHealthPublic.of(assess(name, rs[:200], expected.get(name, 24.0), now))
            for name, rs in sorted(by_source.items())]
