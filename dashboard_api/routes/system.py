"""Health of the service and of the sources."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from core.source_health import assess
from core.timeutil import utcnow
from dashboard_api.deps import ExpectedHoursDep, OverviewDep, StoreDep
from dashboard_api.errors import ERRORS
from dashboard_api.schemas import ErrorPublic, HealthPublic, SourceHealthPublic
from storage.health import count_or_problem, disk_problem
from storage.search_sync import lag

router = APIRouter(tags=["system"])


@router.get("/healthz", response_model=HealthPublic, response_model_exclude_none=True,
            responses={503: {"model": ErrorPublic, "description": "the store cannot work; detail says why"}})
def healthz(request: Request, store: StoreDep) -> HealthPublic | JSONResponse:
    """Health: 200 when the store answers and its files can take writes; 503 with the reason
    otherwise (a corrupt or truncated database, a read-only data folder, a full disk, a database
    that does not answer), so a monitor or load balancer sees a server that can only fail. With
    Elasticsearch serving search it also says how far the copy is behind (posts and seconds)."""
    problem = disk_problem(store, request.app.state.min_free_bytes)
    posts = None
    if problem is None:
        posts, problem = count_or_problem(store)
    if problem is not None or posts is None:
        return JSONResponse(status_code=503, content={"detail": problem, "status": "unavailable",
                                                      "database": store.engine.dialect.name})
    backend = request.app.state.search_backend
    if backend.name != "elasticsearch":
        return HealthPublic(status="ok", posts=posts, database=store.engine.dialect.name)
    with store.read() as tx:  # from the record alone: a slow cluster must not slow the health check
        behind = lag(tx.conn, utcnow())
    return HealthPublic(status="ok", posts=posts, database=store.engine.dialect.name, search_backend="elasticsearch",
                        es_lag_posts=behind.posts, es_lag_seconds=behind.oldest_seconds or 0.0)


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
