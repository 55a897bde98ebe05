"""The API as ``ecowatch serve`` runs it: built in the serving process itself, or by each worker
process of ``serve --workers N`` (uvicorn imports :func:`worker_app` there and calls it).

Each worker reads the same settings (the environment and ``ECOWATCH_CONFIG``, inherited from
``serve``) and opens its own store; nothing is shared in memory between them: the live feed is
read from the store's events (any worker sees every event), the login limiter counts failures
in the store, and the scheduled jobs run in the supervising process only (ecowatch.scheduler's
``Leadership``)."""

from __future__ import annotations

import logging

from fastapi import FastAPI

from core.jurisdiction import load_jurisdiction
from core.settings import Settings
from crawlers.sources import Source
from dashboard_api import create_app
from ecowatch import context
from storage.es_posts import EsPostIndex
from storage.sql import SqlStore

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def build_api(settings: Settings, store: SqlStore, sources: list[Source]) -> FastAPI:
    """The API and console over ``store``, configured from ``settings``."""
    api = create_app(store, load_jurisdiction(settings.jurisdiction), context.expected_hours(sources),
                     secret_key=settings.token_secret(), token_minutes=settings.token_minutes,
                     login_attempts=settings.login_attempts, login_window_seconds=settings.login_window_seconds,
                     login_address_attempts=settings.login_address_attempts, min_free_mb=settings.min_free_mb,
                     public_api_schema=settings.public_api_schema, alerts=context.alerts_config(settings),
                     search_index=EsPostIndex.from_settings(settings) if settings.es_url else None)
    api.state.briefings_dir = context.briefings_dir(settings)  # where the scheduler keeps them
    return api


def worker_app() -> FastAPI:
    """One worker's API (``uvicorn ecowatch.serving:worker_app --factory``): the settings, store
    and sources as ``serve`` reads them."""
    settings = context.settings()
    store = context.store(settings)  # before logging is set up, as in serve: no migration chatter per worker
    logging.basicConfig(level=logging.INFO, format=LOG_FORMAT)
    return build_api(settings, store, context.sources(settings))
