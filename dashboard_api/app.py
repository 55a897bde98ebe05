"""The FastAPI application factory."""

from __future__ import annotations

import logging
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from anyio import to_thread
from fastapi import Depends, FastAPI, Request
from fastapi.responses import FileResponse, JSONResponse

from alerts.config import AlertsConfig, alerts_config
from core.errors import StoreError
from core.jurisdiction import Jurisdiction
from dashboard_api.deps import require_roles
from dashboard_api.errors import ERRORS
from dashboard_api.routes import (
    actions,
    admin,
    auth,
    briefings,
    briefs,
    docs,
    exports,
    feed,
    feeds,
    inbound,
    incidents,
    reports,
    rota,
    search,
    stats,
    system,
    vocabulary,
)
from dashboard_api.security import LoginLimiter
from indexing.search_index import SearchIndexer
from storage.es_posts import EsPostIndex
from storage.search_backends import backend_for
from storage.sql import SqlStore

STATIC = Path(__file__).parent / "static"
# Threads running the plain-``def`` routes and dependencies at once (anyio's default: 40). The
# work is Python holding the GIL: past a few per core more threads only wait for each other and
# hold more database connections (storage.sql.POOL_SIZE); a request beyond them waits its turn.
API_THREADS = 12
log = logging.getLogger(__name__)

DESCRIPTION = """江北区生态环境舆情监测：事件、交办、督办、检索、统计。

Log in with `POST /api/auth/token` (form fields `username`, `password`) and send the token as
`Authorization: Bearer <token>`. Roles: **duty** (值班员: all units, triage and assignment),
**unit** (街道/镇: only its own unit's incidents; sign, respond, resolve, return, ask for more time),
**department** (部门, 会办: only the incidents the duty desk copied to it; answer with its handling note),
**leader** (领导: read-only overview of all units), **admin** (users, sources).
Errors are JSON `{"detail": ...}` with the status saying what went wrong.
"""


@asynccontextmanager
async def _lifespan(_app: FastAPI) -> AsyncIterator[None]:
    to_thread.current_default_thread_limiter().total_tokens = API_THREADS
    yield


def create_app(store: SqlStore, jurisdiction: Jurisdiction, expected_hours: dict[str, float] | None = None, *,
               secret_key: str | None = None, token_minutes: int = 480, login_attempts: int = 5,
               login_window_seconds: float = 300.0, login_address_attempts: int = 20,
               min_free_mb: int = 64, public_api_schema: bool = True,
               alerts: AlertsConfig | None = None, search_index: EsPostIndex | None = None) -> FastAPI:
    """Build the API and console over an open store.

    ``secret_key`` signs login tokens (``Settings.token_secret()``); without one a random key is
    used, valid for this process only. ``alerts`` is the workflow configuration the actions use
    (built from the jurisdiction's pack when not given; the CLI adds the contacts file).
    ``search_index`` (the Elasticsearch copy, when ``ECOWATCH_ES_URL`` is set) serves /api/search
    instead of SQLite FTS5.
    """
    # The schema and the interactive pages come from routes.docs (assets served here, not a CDN).
    app = FastAPI(title="ecowatch", version="0.1.0", description=DESCRIPTION, openapi_url=None, docs_url=None,
                  redoc_url=None, lifespan=_lifespan)
    app.state.store = store
    app.state.jurisdiction = jurisdiction
    app.state.alerts_config = alerts or alerts_config(jurisdiction)
    app.state.expected_hours = expected_hours or {}
    app.state.secret_key = secret_key or secrets.token_urlsafe(48)
    app.state.token_minutes = token_minutes
    app.state.login_limiter = LoginLimiter(store, login_attempts, login_window_seconds, login_address_attempts)
    app.state.min_free_bytes = min_free_mb * 2**20  # /healthz: less free disk than this is unhealthy
    app.state.public_api_schema = public_api_schema
    app.state.search_indexer = SearchIndexer(jurisdiction)
    app.state.search_backend = backend_for(store, search_index)
    with store.begin() as tx:
        tx.ensure_index()
    app.include_router(incidents.copies_router)
    for module in (system, auth, incidents, actions, feed, search, stats, admin, vocabulary, rota, docs, reports,
                   inbound, briefs):
        app.include_router(module.router)
    for module in (exports, feeds):  # files and feeds for other systems (docs/exports.md)
        app.include_router(module.router)
    # Briefings cover every unit: the duty desk, leaders and admins read them, unit users do not.
    app.include_router(briefings.router, dependencies=[Depends(require_roles("duty", "leader", "admin"))],
                       responses=ERRORS)

    @app.exception_handler(StoreError)
    async def store_error(_request: Request, exc: StoreError) -> JSONResponse:
        # The store being unwell is the server's problem: say so plainly, without a stack trace.
        return JSONResponse(status_code=503, content={"detail": "store unavailable, try again shortly"})

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return JSONResponse(status_code=500, content={"detail": "internal error; it has been logged"})

    @app.get("/", include_in_schema=False)
    def console() -> FileResponse:
        return FileResponse(STATIC / "index.html", media_type="text/html; charset=utf-8",
                            headers={"Content-Security-Policy": CSP, "X-Content-Type-Options": "nosniff"})

    return app


# The console loads nothing from elsewhere, and crawled text can never run as script.
CSP = ("default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
       "img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'")
