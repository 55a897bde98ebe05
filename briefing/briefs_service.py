"""信息简报: take a submission, and the month's tally (console, export, monthly summary)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from alerts.acting import ActorRefused, acting_user, own_unit
from briefing.quota import QuotaError, TallyRow, blocks, month_bounds, submitter_of, submitters, tally, to_csv
from core.jurisdiction import Jurisdiction
from core.timeutil import utcnow
from storage.sql import SqlStore

MAX_FILES = 5
MAX_FILE_BYTES = 5 * 1024 * 1024


def submit_brief(store: SqlStore, jurisdiction: Jurisdiction, submitter: str, title: str, text: str, by: str,
                 files: Sequence[tuple[str, str, bytes]] = (), now: dt.datetime | None = None, *,
                 version: int | None = None) -> int:
    """Keep a 信息简报 of ``submitter`` (code or name) with its files; QuotaError naming what is wrong,
    ActorRefused when ``by`` may not submit it (any more), checked where it is kept
    (``alerts.acting``): a unit user submits only its own unit's."""
    who = submitter_of(jurisdiction, submitter)
    if who is None:
        raise QuotaError(f"「{submitter}」不在信息简报报送单位之列")
    title, text = (title or "").strip(), (text or "").strip()
    if not title or len(title) > 200:
        raise QuotaError("标题不能为空，且不超过200字")
    if not text:
        raise QuotaError("正文不能为空")
    if len(files) > MAX_FILES:
        raise QuotaError(f"附件最多 {MAX_FILES} 个")
    for name, _mime, data in files:
        if not name.strip() or len(name) > 200:
            raise QuotaError("附件需要文件名（不超过200字）")
        if len(data) > MAX_FILE_BYTES:
            raise QuotaError(f"附件「{name}」超过 {MAX_FILE_BYTES // (1024 * 1024)} MB")
    with store.begin() as tx:
        if not own_unit(acting_user(tx, by, "brief", version=version), who.code):
            raise ActorRefused(f"单位用户只能报送本单位的信息简报，不能报送「{who.name}」的")
        return tx.add_brief(submitter=who.code, submitter_name=who.name, title=title, text=text, at=now or utcnow(),
                            by=by, files=files)


def month_tally(store: SqlStore, jurisdiction: Jurisdiction, month: str) -> list[TallyRow]:
    """Every submitter's briefs in the month against its quota (QuotaError for a bad month)."""
    start, end = month_bounds(month)
    with store.read() as tx:
        counts = tx.brief_counts(start, end)
    return tally(submitters(jurisdiction), counts)


def render_tally(jurisdiction: Jurisdiction, month: str, rows: list[TallyRow], fmt: str,
                 now: dt.datetime | None = None) -> bytes:
    """The tally as CSV (the export), or the monthly summary as DOCX or HTML."""
    from briefing.render_docx import render_blocks_docx
    from briefing.render_html import render_blocks_html

    if fmt == "csv":
        return to_csv(rows)
    laid_out = blocks(jurisdiction.name, month, rows, now or utcnow())
    if fmt == "docx":
        return render_blocks_docx(laid_out[0].text, laid_out, {})
    if fmt == "html":
        return render_blocks_html(laid_out[0].text, laid_out, {}).encode("utf-8")
    raise QuotaError(f"unknown format {fmt!r}; one of csv, docx, html")
