"""The FastAPI application factory."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import FileResponse, JSONResponse

from core.errors import StoreError
from core.jurisdiction import Jurisdiction
from dashboard_api.routes import briefings, incidents, system
from storage.sql import SqlStore

STATIC = Path(__file__).parent / "static"


def create_app(store: SqlStore, jurisdiction: Jurisdiction,
               expected_hours: dict[str, float] | None = None) -> FastAPI:
    """Build the API and console over an open store."""
    app = FastAPI(title="ecowatch", version="0.1.0",
                  description="江北区生态环境舆情监测：事件、交办、督办、周报。")
    app.state.store = store
    app.state.jurisdiction = jurisdiction
    app.state.expected_hours = expected_hours or {}
    app.include_router(system.router)
    app.include_router(incidents.router)
    app.include_router(briefings.router)

    @app.exception_handler(StoreError)
    async def store_error(_request: Request, exc: StoreError) -> JSONResponse:
        # The store being unwell is the server's problem: say so plainly, without a stack trace.
        return JSONResponse(status_code=503, content={"detail": "store unavailable, try again shortly"})

    @app.get("/", include_in_schema=False)
    def console() -> FileResponse:
        return FileResponse(STATIC / "index.html", media_type="text/html; charset=utf-8")

    return app
