"""The API's own description: ``/openapi.json``, and the interactive pages ``/docs`` (Swagger UI)
and ``/redoc`` with their scripts served from here, not from a CDN (deployments are offline).

The assets are the files the ``fastapi-offline`` package ships (Swagger UI 5, ReDoc 2); only the
four named below are served. The pages send the console's login token with every request they
make, so the schema can require a login (``ECOWATCH_PUBLIC_API_SCHEMA=false``) and "Try it out"
acts as the logged-in user.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import fastapi_offline
from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import FileResponse, JSONResponse

from dashboard_api.deps import StoreDep, get_principal, oauth2_scheme

router = APIRouter(include_in_schema=False)
STATIC = Path(__file__).parent.parent / "static"
ASSETS = Path(fastapi_offline.__file__).parent / "static"
MEDIA = {"swagger-ui-bundle.js": "text/javascript", "swagger-ui.css": "text/css",
         "redoc.standalone.js": "text/javascript", "favicon.png": "image/png"}
# As the console's policy: nothing from elsewhere; ReDoc's search runs in a worker made from a blob.
CSP = ("default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
       "img-src 'self' data:; connect-src 'self'; worker-src 'self' blob:; frame-ancestors 'none'; "
       "base-uri 'none'; form-action 'self'")


def schema_reader(request: Request, store: StoreDep,
                  token: Annotated[str | None, Depends(oauth2_scheme)]) -> None:
    """Anyone may read the schema when it is public (the default), else a logged-in user only."""
    if not request.app.state.public_api_schema:
        get_principal(request, store, token)


@router.get("/openapi.json", dependencies=[Depends(schema_reader)])
def openapi(request: Request) -> JSONResponse:
    """The OpenAPI schema (FastAPI builds it once and keeps it)."""
    return JSONResponse(request.app.openapi())


def _page(name: str) -> FileResponse:
    return FileResponse(STATIC / name, media_type="text/html; charset=utf-8",
                        headers={"Content-Security-Policy": CSP, "X-Content-Type-Options": "nosniff"})


@router.get("/docs")
def swagger_ui() -> FileResponse:
    """Swagger UI over ``/openapi.json``."""
    return _page("docs.html")


@router.get("/redoc")
def redoc() -> FileResponse:
    """ReDoc over ``/openapi.json``."""
    return _page("redoc.html")


@router.get("/docs/assets/{name}")
def asset(name: str) -> FileResponse:
    """One of the documentation pages' scripts, styles or icon."""
    if name not in MEDIA:
        raise HTTPException(status_code=404, detail="not found")
    return FileResponse(ASSETS / name, media_type=MEDIA[name], headers={"Cache-Control": "max-age=86400"})
