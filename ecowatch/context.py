"""What every entry point builds from the settings: the store, the sources, the alerting
configuration, the briefings folder and each source's expected hours.

One module, imported by the CLI's commands and the scheduler, so ``serve``, ``escalate``,
``brief`` and the scheduler's jobs cannot drift apart in how they open the store or which
sources count. The API package does not import the CLI package: ``serve`` hands it what is built
here (``dashboard_api.create_app``), and the briefings folder is ``Settings.briefings_dir``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from alerts.config import AlertsConfig
from alerts.config import alerts_config as build_config
from core.jurisdiction import load_jurisdiction
from core.settings import Settings, load_settings

if TYPE_CHECKING:
    from crawlers.sources import Source
    from nlp.analyzer import Analyzer
    from storage.sql import SqlStore


def settings(**overrides: Any) -> Settings:
    """The settings (environment, ``ECOWATCH_CONFIG``, then ``overrides`` that are not None), with
    their folders made; a bad value is one line naming the field (exit status 2), not a traceback."""
    from pydantic import ValidationError

    try:
        loaded = load_settings(**{k: v for k, v in overrides.items() if v is not None})
    except ValidationError as exc:  # one line naming each bad field, never echoing its value (a secret)
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}"
                             for e in exc.errors(include_url=False, include_input=False))
        typer.echo(f"ecowatch: configuration: {problems}", err=True)
        raise typer.Exit(2) from exc
    except Exception as exc:  # a broken ECOWATCH_CONFIG file
        typer.echo(f"ecowatch: configuration: {exc}", err=True)
        raise typer.Exit(2) from exc
    loaded.ensure_dirs()
    return loaded


def store(settings: Settings) -> SqlStore:
    """The configured store, upgraded to the newest schema (a new SQLite database made private).

    When it cannot be opened (a corrupt or truncated SQLite file, a folder it cannot write to, a
    server that refuses), one line saying so and exit status 1, for every command alike (``serve``,
    ``import``, ``process``, ``escalate``, ...): a service manager's log or an officer's terminal
    then shows the cause, not a traceback, and nothing is done. The file's header is read before
    SQLite or a migration writes to it (``storage.health.sqlite_file_problem``)."""
    from sqlalchemy import make_url  # SQLAlchemy takes ~0.3 s to import: only commands that need it
    from sqlalchemy.exc import SQLAlchemyError

    from core.errors import StoreError
    from storage.health import error_text, sqlite_file_problem
    from storage.sql import open_store

    path = settings.sqlite_path
    problem = sqlite_file_problem(path) if path else None
    if problem is None:
        try:
            settings.create_database()
            return open_store(settings.sqlalchemy_url, settings.snapshot_dir)
        except (SQLAlchemyError, StoreError, OSError) as exc:
            problem = f"the database cannot be opened: {error_text(exc)}"
    where = path or make_url(settings.sqlalchemy_url).render_as_string(hide_password=True)
    typer.echo(f"ecowatch: {where}: {problem}; not starting", err=True)
    raise typer.Exit(1)


def analyzer(settings: Settings) -> Analyzer:
    """The analyser with the deployment's live models (``Settings.models_dir``; the bundled ones
    until ``ecowatch retrain --promote`` made others live)."""
    from nlp.analyzer import Analyzer
    from nlp.classifiers import ModelStore

    return Analyzer(load_jurisdiction(settings.jurisdiction), ModelStore(settings.models_dir).live())


def sources(settings: Settings, variables: Mapping[str, str] | None = None, path: Path | None = None) -> list[Source]:
    """The sources to watch: ``path``, else ``ECOWATCH_SOURCES_FILE``, else the pack's own."""
    # Imported here: the crawlers (HTTP client, address checks) took ~0.7 s of every command's
    # start-up, ``import`` and ``process`` included, which never crawl.
    from crawlers.sources import load_sources

    path = path or settings.sources_file or load_jurisdiction(settings.jurisdiction).sources_path
    return load_sources(path, dict(variables) if variables else None) if path else []


def alerts_config(settings: Settings) -> AlertsConfig:
    """The alerting configuration: the jurisdiction pack plus the optional contacts file."""
    return build_config(load_jurisdiction(settings.jurisdiction), settings.contacts_file)


def briefings_dir(settings: Settings) -> Path:
    """Where generated briefings are kept (``Settings.briefings_dir``)."""
    return settings.briefings_dir


def expected_hours(configured: Iterable[Source]) -> dict[str, float]:
    """Per enabled source, the hours without a successful run after which it counts as blind."""
    return {s.name: float(s.expected_every_hours) for s in configured if s.enabled}


def configured_expected_hours(settings: Settings) -> dict[str, float]:
    """:func:`expected_hours` of the configured sources; empty when the sources file is broken
    (a briefing must not fail on it: coverage then goes by the recorded runs only)."""
    try:
        return expected_hours(sources(settings))
    except Exception:
        return {}
