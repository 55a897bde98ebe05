"""The assembled command line: the root app of ``ecowatch.cli`` with every command module
registered onto it, and the console-script entry point.

Importing a command module is what registers its commands (Typer decorators on
``ecowatch.cli.app``); this is the one place that does it, so every entry point (the ``ecowatch``
script, ``python -m ecowatch``, ``python -m ecowatch.cli``, tests through :data:`app`) sees the
same commands, and no command module is imported by the module it registers onto.
"""

from __future__ import annotations

import typer

import ecowatch.commands_alerts
import ecowatch.commands_brief
import ecowatch.commands_briefs
import ecowatch.commands_crawl
import ecowatch.commands_exports
import ecowatch.commands_learn
import ecowatch.commands_nlp
import ecowatch.commands_report
import ecowatch.commands_rota
import ecowatch.commands_search
import ecowatch.commands_users
from core.errors import ConfigError, EcowatchError
from ecowatch.cli import app

# Each registers onto ``app`` when imported: escalate, notify, notifications, act; brief;
# briefs import-mail/triage/assign/dismiss/sender/senders; crawl-worker; export incidents/posts;
# labels export, retrain; eval; report;
# rota import/show/now/export/override; search-facets; user add/list.
COMMAND_MODULES = (ecowatch.commands_alerts, ecowatch.commands_brief, ecowatch.commands_briefs,
                   ecowatch.commands_crawl, ecowatch.commands_exports, ecowatch.commands_learn, ecowatch.commands_nlp,
                   ecowatch.commands_report,
                   ecowatch.commands_rota, ecowatch.commands_search, ecowatch.commands_users)


def main() -> None:
    """Console-script entry point: clear one-line errors instead of tracebacks."""
    try:
        app()
    except (ConfigError, EcowatchError) as exc:
        typer.echo(f"ecowatch: {exc}", err=True)
        raise SystemExit(2) from exc


if __name__ == "__main__":
    main()
