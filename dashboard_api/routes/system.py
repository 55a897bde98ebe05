"""Health of the service and of the sources."""

from __future__ import annotations

from fastapi import APIRouter

from core.timeutil import utcnow
from dashboard_api.deps import ExpectedHoursDep, StoreDep
from dashboard_api.schemas import HealthPublic, SourceHealthPublic

router = APIRouter(tags=["system"])


@router.get("/healthz", response_model=HealthPublic)
def healthz(store: StoreDep) -> HealthPublic:
    """Liveness: the store answers."""
    with store.read() as tx:
        posts = tx.count_posts()
    return HealthPublic(status="ok", posts=posts, database=store.engine.dialect.name)


@router.get("/api/sources", response_model=list[SourceHealthPublic])
def sources(store: StoreDep, expected: ExpectedHoursDep) -> list[SourceHealthPublic]:
    """Per source: last run, last success, last error in plain words, items, blind or not."""
    with store.read() as tx:
        runs = tx.source_runs(limit=2000)
    by_source: dict[str, list[dict]] = {}
    for run in runs:
        by_source.setdefault(run["source"], []).append(run)
    now = utcnow()
    out = []
    for name, rs in sorted(by_source.items()):
        last = rs[0]
        success = next((r for r in rs if r["ok"]), None)
        with_items = next((r for r in rs if r["ok"] and r["items"]), None)
        hours = expected.get(name, 24.0)
        stale = with_items is None or (now - with_items["finished_at"]).total_seconds() > hours * 3600
        out.append(SourceHealthPublic(
            source=name, last_run_at=last["finished_at"], last_success_at=success["finished_at"] if success else None,
            last_error=last["error"], last_items=last["items"], runs=len(rs), blind=(not last["ok"]) or stale))
    return out
