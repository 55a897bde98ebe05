"""``ecowatch briefs ...``: 信息简报 received by email: import mails (files or the IMAP mailbox), the
triage list, assigning or dismissing a mail, and the sender addresses known to be a unit's.
The month's tally stays ``ecowatch briefs-tally`` (commands_report)."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Annotated, Any

import typer

from ecowatch import context
from ecowatch.cli import app

briefs_app = typer.Typer(no_args_is_help=True, help="信息简报 by email: import, triage, assign, senders.")
app.add_typer(briefs_app, name="briefs")

ActorOption = Annotated[str, typer.Option(help="who decides (a duty user's name; in the mail's record)")]


def _echo(data: Any) -> None:
    typer.echo(json.dumps(data, ensure_ascii=False, default=str))


def _fail(message: str) -> None:
    typer.echo(f"ecowatch: {message}", err=True)
    raise typer.Exit(1)


@briefs_app.command("import-mail")
def import_mail_(paths: Annotated[list[Path] | None, typer.Argument(
                     help=".eml files, mbox files or Maildir folders (none: the IMAP mailbox of the settings)")] = None,
                 ) -> None:
    """Import 信息简报 mails: one JSON line per mail (brief, triage, duplicate or error). Each mail is
    one transaction; a mail already imported changes nothing; a mail that cannot be read is its
    line's error and the others land (exit 1 if any failed). From IMAP only unseen messages are
    read, each flagged seen once kept."""
    from briefing.mail_sources import MailSourceError, import_files, import_mailbox
    from core.jurisdiction import load_jurisdiction

    settings = context.settings()
    store, jurisdiction = context.store(settings), load_jurisdiction(settings.jurisdiction)
    failed = False
    try:
        outcomes = import_files(paths, store, jurisdiction) if paths else import_mailbox(settings, store, jurisdiction)
        for outcome in outcomes:
            failed = failed or outcome.error is not None
            _echo({k: v for k, v in dataclasses.asdict(outcome).items() if v is not None and v is not False})
    except MailSourceError as exc:
        _fail(str(exc))
    if failed:
        raise typer.Exit(1)


@briefs_app.command("triage")
def triage(all_: Annotated[bool, typer.Option("--all", help="every imported mail, not only those waiting")] = False,
           ) -> None:
    """The mails waiting for a duty officer (unknown sender, no unit, two units), oldest first."""
    from core.sharing import MailState

    states = tuple(s.value for s in MailState) if all_ else (MailState.TRIAGE.value,)
    with context.store(context.settings()).read() as tx:
        for mail in tx.list_mails(states):
            _echo({**dataclasses.asdict(mail), "state_label": MailState(mail.state).label})


@briefs_app.command("assign")
def assign(mail_id: Annotated[int, typer.Argument(help="the mail's id (ecowatch briefs triage)")],
           submitter: Annotated[str, typer.Argument(help="unit/department code or name the brief is from")],
           remember: Annotated[bool, typer.Option("--remember", help="the sender's address is this unit's from now on")]
           = False, actor: ActorOption = "cli") -> None:
    """Make a mail in triage the brief of a unit (counted in the month it was sent)."""
    from briefing.mail_import import assign_mail
    from core.errors import EcowatchError
    from core.jurisdiction import load_jurisdiction
    from core.timeutil import utcnow

    settings = context.settings()
    try:
        brief_id = assign_mail(context.store(settings), load_jurisdiction(settings.jurisdiction), mail_id, submitter,
                               actor, utcnow(), remember=remember)
    except EcowatchError as exc:
        _fail(str(exc))
    _echo({"mail": mail_id, "brief_id": brief_id, "remembered": remember})


@briefs_app.command("dismiss")
def dismiss(mail_id: Annotated[int, typer.Argument(help="the mail's id (ecowatch briefs triage)")],
            actor: ActorOption = "cli") -> None:
    """Take a mail out of triage as no brief (it stays kept, with who decided)."""
    from briefing.mail_import import dismiss_mail
    from core.errors import EcowatchError
    from core.timeutil import utcnow

    try:
        dismiss_mail(context.store(context.settings()), mail_id, actor, utcnow())
    except EcowatchError as exc:
        _fail(str(exc))
    _echo({"mail": mail_id, "state": "dismissed"})


@briefs_app.command("sender")
def sender(address: Annotated[str, typer.Argument(help="the sender's email address")],
           submitter: Annotated[str | None, typer.Argument(help="unit/department code or name")] = None,
           remove: Annotated[bool, typer.Option("--remove", help="forget the address")] = False,
           actor: ActorOption = "cli") -> None:
    """Register a sender address as a unit's (mail from it is that unit's brief), or forget it."""
    from briefing.mail_import import set_sender
    from core.errors import EcowatchError
    from core.jurisdiction import load_jurisdiction
    from core.timeutil import utcnow

    settings = context.settings()
    store = context.store(settings)
    if remove == (submitter is not None):
        raise typer.BadParameter("give a SUBMITTER to register the address, or --remove to forget it")
    if remove:
        with store.begin() as tx:
            if not tx.remove_brief_sender(address):
                _fail(f"{address} 未登记")
        _echo({"address": address.lower(), "removed": True})
        return
    try:
        who = set_sender(store, load_jurisdiction(settings.jurisdiction), address, submitter or "", actor, utcnow())
    except EcowatchError as exc:
        _fail(str(exc))
    _echo({"address": address.strip().lower(), "submitter": who.code, "name": who.name})


@briefs_app.command("senders")
def senders() -> None:
    """Every registered sender address: the pack's ``[briefs.senders]`` and the database's."""
    from briefing.mail_import import pack_senders
    from core.jurisdiction import load_jurisdiction

    settings = context.settings()
    with context.store(settings).read() as tx:
        stored = tx.brief_senders()
    for address, code in sorted(pack_senders(load_jurisdiction(settings.jurisdiction)).items()):
        _echo({"address": address, "submitter": code, "from": "pack"})
    for address, code in stored.items():
        _echo({"address": address, "submitter": code, "from": "database"})
